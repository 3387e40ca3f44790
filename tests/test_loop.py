"""The feedback loop: incremental builds, review decisions, merge with the base set, dedup, splits,
redaction. Each test builds a hand-made log whose answer is known."""

from __future__ import annotations

import csv
import hashlib
import json
import random

from conftest import record

GATED = ("--var", "export_unreviewed=false")  # only samples kept in review reach a file


def new_files(project, before: set[str]) -> dict[str, list]:
    """The files a build added to the output dir, by name, read as JSON."""
    added = sorted({p.name for p in project.out.iterdir()} - before)
    return {name: project.read_jsonl(name) if name.endswith(".jsonl") else project.read_json(name)
            for name in added}


def names(project) -> set[str]:
    return {p.name for p in project.out.iterdir()} if project.out.exists() else set()


def build(project, *args):
    before = names(project)
    result = project.invoke("build", *args)
    return result, new_files(project, before)


def review_csv(project, path):
    project.invoke("review", "export", "-o", str(path))
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write_decisions(path, rows, decisions: dict[str, tuple[str, str]]):
    """Fill in decision and corrected_output, as a reviewer does in a spreadsheet."""
    for row in rows:
        row["decision"], row["corrected_output"] = decisions.get(row["feedback_id"], ("", ""))
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def ids(samples):
    return [s["feedback_id"] for s in samples]


def test_the_loop_twice_with_a_growing_log(project, tmp_path):
    r = {n: record(n, session_id=f"s{n}") for n in range(1, 7)}
    # Day 1: four ratings. Nothing is reviewed yet, so nothing is exported.
    project.write_log([r[1], r[2], r[3], r[4]])
    result, files = build(project, "--new-only", *GATED)
    assert all(samples == [] for samples in files.values()) and len(files) == 3
    assert "awaiting_review 4" in result.stdout
    rows = review_csv(project, tmp_path / "day1.csv")
    assert ids(rows) == [r[n]["id"] for n in (1, 2, 3, 4)]
    assert rows[0]["instruction"] == "问题 1" and rows[0]["output"] == "回答 1"
    write_decisions(tmp_path / "day1.csv", rows, {
        r[1]["id"]: ("keep", ""), r[2]["id"]: ("drop", ""), r[3]["id"]: ("keep", "  改过的回答 3\n")})
    done = project.invoke("review", "import", str(tmp_path / "day1.csv"))
    assert "keep 2 (corrected 1), drop 1" in done.stdout and "1 rows left blank" in done.stdout

    # Day 2: the app rewrote the log, in another order, with two new ratings.
    log = [r[6], r[3], r[1], r[5], r[4], r[2]]
    project.write_log(log)
    result, files = build(project, "--new-only", *GATED)
    json_file = next(name for name in files if name.startswith("high_quality_samples_") and
                     name.endswith(".json"))
    assert [(s["feedback_id"], s["output"]) for s in files[json_file]] == [
        (r[3]["id"], "改过的回答 3"), (r[1]["id"], "回答 1")]  # log order; the corrected text
    assert "review: kept 2, dropped 1, corrected 1, awaiting review 3" in result.stdout
    assert "dropped_in_review 1" in result.stdout and "awaiting_review 3" in result.stdout

    rows = review_csv(project, tmp_path / "day2.csv")  # nothing is reviewed twice
    assert ids(rows) == [r[n]["id"] for n in (6, 5, 4)]
    write_decisions(tmp_path / "day2.csv", rows, {
        r[4]["id"]: ("keep", ""), r[5]["id"]: ("DROP", ""), r[6]["id"]: ("keep", "")})
    project.invoke("review", "import", str(tmp_path / "day2.csv"))
    result, files = build(project, "--new-only", *GATED)
    for name, samples in files.items():  # only the new, undropped samples
        assert [s["output"] for s in samples] == ["回答 6", "回答 4"], name
    assert "already_exported 2" in result.stdout and "dropped_in_review 2" in result.stdout
    assert len(names(project)) == 9  # three builds, three files each, none overwritten

    # A full build holds every kept sample, the correction included, and no dropped one.
    project.invoke("build", *GATED)
    assert [(s["feedback_id"], s["output"]) for s in project.read_json("high_quality_samples.json")] == [
        (r[6]["id"], "回答 6"), (r[3]["id"], "改过的回答 3"), (r[1]["id"], "回答 1"), (r[4]["id"], "回答 4")]
