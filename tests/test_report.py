"""target/report.html: every build writes it, `report` writes it again; its figures (engine/report_data.py,
from the database) equal run_results.json's, in the page's HTML and, with the browser marker, as
headless Chromium shows it (no console error, no network request, a screenshot)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from chromium import Chromium, find_chromium
from conftest import ROOT, record

from engine import report_page
from engine.report_data import collect_report, rating_figures


def mixed_log() -> list:
    """Two models over 3 days, each rejection reason, a phone number to redact, a long CJK reply."""
    day = datetime(2025, 7, 17, 9)
    log = [record(i, model_name="huanhuan-qwen" if i % 3 else "甄嬛-7b", rating=i % 5 + 1,
                  timestamp=(day + timedelta(hours=7 * i)).isoformat(), session_id=f"17213{i % 4}.5",
                  model_response=f"回答 {i} " + "臣妾遵旨。" * (60 if i == 4 else 1))
           for i in range(1, 13)]
    log += [record(20, rating=None), record(21, rating="five"), record(22, user_input="  "),
            record(23, model_response=""), record(1, rating=5),
            record(24, user_input="电话 13812345678", rating=5)]
    return log


def expected_figures(run_results: dict) -> dict:
    """The figures the page must show, by the page's names, as the build recorded them."""
    a = run_results["accounting"]
    out = {"read": a["read"], "rejected": a["rejected"], "valid": a["valid"], "samples": a["samples"]}
    out |= {f"rejected.{k}": v for k, v in a["rejected_by_reason"].items()}
    out |= {f"excluded.{k}": v for k, v in a["excluded_by"].items()}
    out |= {f"samples.{k}": v for k, v in a["samples_per_model"].items()}
    if a.get("base"):
        out |= {"base.read": a["base"]["read"], "base.merged": a["base"]["merged"],
                "base.rejected": a["base"]["rejected"]}
        out |= {f"base.rejected.{k}": v for k, v in a["base"]["rejected_by_reason"].items()}
    out |= {f"file.{Path(e['path']).name}.rows": e["rows"] for e in run_results["exports"]}
    out |= {f"model.{m['name']}.rows": m["rows"] for m in run_results["models"] if m["rows"] is not None}
    out |= {f"test.{t['name']}.failures": t["failures"] for t in run_results["tests"]}
    out |= {f"figure.{t}.{k}": v for t, values in run_results["figures"].items() for k, v in values.items()}
    return out


class Figures(HTMLParser):
    """The data-figure spans of a page: name -> (data-value, the text shown)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, tuple[str, str]] = {}
        self.open: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if "data-figure" in a:
            self.open = (a["data-figure"], a["data-value"])

    def handle_data(self, data: str) -> None:
        if self.open:
            self.found[self.open[0]] = (self.open[1], data)
            self.open = None


def page_figures(found: dict[str, tuple[str, str]]) -> dict:
    """Figures as numbers, each checked to be shown as its value is."""
    out = {}
    for name, (value, shown) in found.items():
        number = float(value)
        number = int(number) if number.is_integer() else number
        assert shown == (f"{number:,}" if isinstance(number, int) else f"{number:,.2f}"), name
        out[name] = number
    return out


@pytest.fixture
def built(project):
    project.write_log(mixed_log())
    project.invoke("build", "--format", "json", "alpaca", "kto", "--var", "val_ratio=0.3")
    return project


def run_results(project) -> dict:
    return json.loads((project.root / "target/run_results.json").read_text(encoding="utf-8"))


def test_the_report_data_from_the_database_equals_run_results(built):
    results = run_results(built)
    with duckdb.connect(str(built.db), read_only=True) as con:
        data = collect_report(con, results)
        per_model = dict(con.execute("select model_name, count(*) from stg_feedback group by 1").fetchall())
    assert data.figures() == expected_figures(results)
    assert {m: sum(c) for m, c in data.ratings.items()} == per_model
    assert sum(map(sum, data.ratings.values())) == results["accounting"]["valid"]
    assert data.grain == "day" and data.periods == ["2025-07-17", "2025-07-18", "2025-07-19", "2025-07-20"]
    assert {f.name for f in data.files} >= {"kto_samples_train.jsonl", "alpaca_format_samples_val.json"}
    kto = next(f for f in data.files if f.name == "kto_samples_train.jsonl")
    assert kto.trainer == "TRL KTOTrainer" and len(kto.head) == min(3, kto.rows)
    assert kto.head == built.read_jsonl("kto_samples_train.jsonl")[:3]
    assert kto.bytes == (built.out / "kto_samples_train.jsonl").stat().st_size


def test_every_build_writes_the_page_with_the_same_figures(built):
    page = (built.root / "target/report.html").read_text(encoding="utf-8")
    parser = Figures()
    parser.feed(page)
    assert page_figures(parser.found) == expected_figures(run_results(built))
    assert "甄嬛-7b" in page and "\\u" not in page  # UTF-8, never escaped
    assert "臣妾遵旨。" * 20 in page and "expand" in page  # the long reply clipped, the whole of it kept
    assert not re.search(r"<script|<link|<img|\b(src|href)=|url\(|@import|https?://", page)  # nothing fetched


def test_the_base_set_is_in_the_report_when_one_is_merged(project):
    base = project.write("data/base.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"instruction": "你好", "input": "", "output": "臣妾是甄嬛。"},
        {"instruction": "", "output": "b"},
        {"instruction": "问", "output": None}, {"instruction": "请继续", "output": "是。"}]))
    project.write_log([record(1), record(2, rating=2)])
    project.invoke("build", "--var", f"base_dataset={base}")
    results = run_results(project)
    assert results["accounting"]["base"]["rejected_by_reason"] == {"empty_instruction": 1, "empty_output": 1}
    with duckdb.connect(str(project.db), read_only=True) as con:
        data = collect_report(con, results)
    assert data.base == {"read": 4, "merged": 2,
                         "rejected_by_reason": {"empty_instruction": 1, "empty_output": 1}}
    assert data.figures() == expected_figures(results)
    parser = Figures()
    parser.feed((project.root / "target/report.html").read_text(encoding="utf-8"))
    assert page_figures(parser.found) == expected_figures(results)


def test_report_writes_it_again_from_the_last_build(built, monkeypatch):
    page = built.root / "target/report.html"
    first = page.read_text(encoding="utf-8")
    page.unlink()
    opened = []
    monkeypatch.setattr("click.launch", lambda url: opened.append(url))
    result = built.invoke("report", "--open")
    assert result.stdout == "wrote target/report.html\n" and opened == [str(page)]
    again = page.read_text(encoding="utf-8")
    assert again.replace(str(built.out), "") == first.replace(str(built.out), "")  # the same build
    assert not list((built.root / "target").glob(".*"))


def test_report_without_a_build_says_so(project):
    result = project.invoke("report", ok=False)
    assert result.exit_code == 1
    assert result.stderr == ("Error: target/run_results.json: no build to report on yet; run "
                             "`python cli.py build` first\n")


def test_report_of_an_older_build_says_to_build_again(built):
    results = run_results(built)
    for m in results["models"]:
        del m["role"]
    (built.root / "target/run_results.json").write_text(json.dumps(results), encoding="utf-8")
    result = built.invoke("report", ok=False)
    assert result.exit_code == 1
    assert result.stderr == ("Error: run_results.json names no model of role log, rejected, valid, "
                             "eligibility, samples (a build of an older fbt?); build again, then "
                             "`python cli.py report`\n")


def test_a_report_that_fails_never_fails_the_build(project, monkeypatch):
    def broken(*_):
        raise ValueError("no figures today")

    monkeypatch.setattr(report_page, "collect_report", broken)
    project.write_log([record(1), record(2, rating=1)])
    result = project.invoke("build")
    assert "warning: target/report.html: not written (ValueError: no figures today); `python cli.py " \
           "report` writes it again" in result.stdout
    assert run_results(project)["accounting"]["samples"] == 1
    page = (project.root / "target/report.html").read_text(encoding="utf-8")
    assert "could not be written: ValueError: no figures today" in page  # no older report left in place


def test_a_long_log_is_charted_by_week():
    start = datetime(2025, 1, 1).date()
    rows = [("m", start + timedelta(days=d), 1 + d % 5, 1) for d in range(0, 120, 3)]
    _, grain, periods, averages, undated = rating_figures(rows)
    assert grain == "week" and undated == 0
    assert all(datetime.fromisoformat(p).weekday() == 0 for p in periods)  # weeks start on Monday
    assert len(periods) == len(averages["m"]) == 18


@pytest.mark.browser
def test_the_page_in_chromium(built, tmp_path, request):
    """Loads with no console error and no request but the page's own; shows run_results' figures;
    the charts are drawn; screenshots (light, dark) and a PDF print saved in tmp_path."""
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium)")
    page = built.root / "target/report.html"
    browser = Chromium(binary, tmp_path / "profile")
    try:
        browser.open_page()
        browser.load(page.as_uri())
        found = browser.evaluate("JSON.stringify([...document.querySelectorAll('[data-figure]')].map("
                                 "e => [e.dataset.figure, [e.dataset.value, e.textContent]]))")
        charts = browser.evaluate("[...document.querySelectorAll('svg.chart')].map(s => "
                                  "s.getBoundingClientRect().width * s.getBoundingClientRect().height)")
        headings = browser.evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)")
        browser.screenshot(tmp_path / "report.png")
        browser.screenshot(tmp_path / "report-dark.png", dark=True)
        browser.pdf(tmp_path / "report.pdf")
        events = list(browser.events)
    finally:
        browser.close()
    errors = [e for e in events if e.get("method") in ("Runtime.exceptionThrown", "Log.entryAdded",
                                                      "Runtime.consoleAPICalled")]
    assert errors == []
    requested = [e["params"]["request"]["url"] for e in events
                 if e.get("method") == "Network.requestWillBeSent"]
    assert requested == [page.as_uri()]
    assert page_figures(dict(json.loads(found))) == expected_figures(run_results(built))
    assert len(charts) == 4 and all(area > 10_000 for area in charts)
    assert headings[:3] == ["What happened to every record", "Ratings by model",
                            "Average rating per model, by day"]
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "report.pdf").read_bytes()[:5] == b"%PDF-"
    if request.config.getoption("--update-golden"):  # the README's screenshot, of the bundled sample
        sample_screenshot(binary, tmp_path)


def sample_screenshot(binary: str, tmp_path: Path) -> None:
    """docs/report.png: the bundled sample's report, as the README shows it."""
    root = tmp_path / "sample"
    for name in ("models", "macros", "data"):
        shutil.copytree(ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("*.duckdb*", "training_samples"))
    shutil.copy(ROOT / "pyproject.toml", root)
    from click.testing import CliRunner

    import cli

    assert CliRunner().invoke(cli.cli, ["--project-dir", str(root), "build"]).exit_code == 0
    browser = Chromium(binary, tmp_path / "profile-sample")
    try:
        browser.open_page(width=1100, height=900)
        browser.load((root / "target/report.html").as_uri())
        (ROOT / "docs").mkdir(exist_ok=True)
        browser.screenshot(ROOT / "docs" / "report.png", height=1500)
    finally:
        browser.close()
