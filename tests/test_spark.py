"""Parity of the spark target with duckdb: the same logs built on both, every model compared row by
row and every file byte for byte. One Spark session serves the whole run (engine/spark.py keeps it
per process); the tests are skipped, saying why, where Java or pyspark is missing."""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from engine.sparklog import UNREADABLE, file_records
from exporters import FORMAT_NAMES

from conftest import ROOT, copy_project, record
from test_bad_input import STOPS

MISSING = ("no java on PATH (apt-get install openjdk-17-jre-headless)" if shutil.which("java") is None else
           "pyspark is not installed (pip install -e '.[spark]')" if importlib.util.find_spec("pyspark") is None
           else "")
pytestmark = [pytest.mark.spark, pytest.mark.skipif(bool(MISSING), reason=f"spark target: {MISSING}")]

EDGE = [
    record(1, user_input="\u3000 你好 \xa0", model_response="\t回答 (甲)/_ \u2003"),
    record(2, model_response="电话13912345678，邮箱 a.b@example.com，卡号6222020200112233445"),
    record(3, model_response="call +86 139 1234 5678 or 010-12345678; id 11010519491231002X here"),
    record(4, id=..., rating=5.0, model_response="没有 id 的记录"),
    record(5, id=..., rating="5", model_response="没有 id 的记录"),
    record(6, rating=4.5), record(7, rating="five"), record(8, rating=None), record(9, rating=True),
    record(10, rating=[5]), record(11, rating={"v": 5}), record(12, user_input="   "),
    record(13, model_response=None), record(14, user_input=5), record(15, id=12345),
    record(16, id="00000000-0000-4000-8000-000000000001"), record(17, model_name="", comment="extra", extra=[1]),
    record(18, rating=2, model_response="差的回答"), record(19, rating=1, user_input="问题 1"),
    record(20, timestamp=..., session_id=17213.5), record(21, model_response="abc13912345678def 13912345678"),
]
FORMATS = [f for name in FORMAT_NAMES for f in ("--format", name)]


def build_both(tmp_path: Path, log: str, *args: str, formats: list[str] = FORMATS) -> tuple:
    """The project built on duckdb and on spark from the same log (in tmp_path/logs)."""
    built = []
    for target in ("duckdb", "spark"):
        project = copy_project(tmp_path / target)
        project.invoke("build", "--target", target, "--feedback-file", str(tmp_path / log), *formats, *args)
        built.append(project)
    return tuple(built)


def assert_same(duck, spark, ordered: bool = True) -> None:
    """Every file the same bytes (not ordered: the same lines, in any order); every model the same
    rows (in any order) and columns."""
    files = sorted(p.name for p in duck.out.iterdir())
    assert files == sorted(p.name for p in spark.out.iterdir())
    for name in files:
        texts = [(project.out / name).read_bytes() for project in (duck, spark)]
        if not ordered:
            texts = [sorted(text.splitlines()) for text in texts]
        assert texts[0] == texts[1], name
    with duckdb.connect(str(duck.db), read_only=True) as d, duckdb.connect(str(spark.db), read_only=True) as s:
        tables = [r[0] for r in d.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                                          "UNION SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' "
                                          "AND NOT internal ORDER BY 1").fetchall()]
        for table in tables:
            rows = [sorted(map(repr, c.execute(f'SELECT * FROM "{table}"').fetchall())) for c in (d, s)]
            columns = [[r[0] for r in c.execute(f'DESCRIBE "{table}"').fetchall()] for c in (d, s)]
            assert columns[0] == columns[1], table
            assert rows[0] == rows[1], table


def write_logs(tmp_path: Path, name: str, records: list) -> None:
    (tmp_path / "logs").mkdir(exist_ok=True)
    (tmp_path / "logs" / name).write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def edge_builds(tmp_path_factory):
    """The edge-case log built on both targets, once for the tests below."""
    tmp_path = tmp_path_factory.mktemp("edge")
    write_logs(tmp_path, "edge.json", EDGE)
    return build_both(tmp_path, "logs/edge.json")


def test_edge_cases_build_the_same_on_spark(edge_builds):
    assert_same(*edge_builds)


def test_numbers_glued_to_chinese_text_are_redacted_on_both(edge_builds):
    for project in edge_builds:
        outputs = {r["feedback_id"]: r["output"] for r in project.read_jsonl("high_quality_samples.jsonl")}
        assert outputs[EDGE[1]["id"]] == "电话[PHONE]，邮箱 [EMAIL]，卡号[BANK_CARD]"
        assert outputs[EDGE[20]["id"]] == "abc13912345678def [PHONE]"  # glued to latin letters: not a number


def test_json_lines_shards_with_gzip_and_the_loop_vars_build_the_same(tmp_path):
    (tmp_path / "logs").mkdir()
    shard = "\n".join(json.dumps(r, ensure_ascii=False) for r in EDGE[:10]) + "\n"
    (tmp_path / "logs" / "part-00000.jsonl").write_text(shard, encoding="utf-8")
    rest = "\n".join(json.dumps(r, ensure_ascii=False) for r in EDGE[10:] + EDGE[:3]) + "\n"
    (tmp_path / "logs" / "part-00001.jsonl.gz").write_bytes(gzip.compress(rest.encode()))
    duck, spark = build_both(tmp_path, "logs/part-*", "--var", "dedup=true", "--var", "val_ratio=0.5")
    # Records of two files that have the same position (record number in their file) come out in
    # either order: the files order rows by position alone, on both targets.
    assert_same(duck, spark, ordered=False)


def test_a_generated_log_of_ten_thousand_records_builds_the_same(tmp_path):
    (tmp_path / "logs").mkdir()
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "10000",
                    str(tmp_path / "logs" / "feedback.json"), "--seed", "13"], check=True, capture_output=True)
    duck, spark = build_both(tmp_path, "logs/feedback.json")
    assert_same(duck, spark)


def test_a_failed_spark_build_says_where_in_one_line_and_leaves_the_earlier_outputs(tmp_path):
    project = copy_project(tmp_path / "proj")
    project.write_log(EDGE)
    project.invoke("build")
    before = {p.name: p.read_bytes() for p in [*project.out.iterdir(), project.db]}
    project.write("models/broken.sql", "select no_such_column from {{ ref('stg_feedback') }}")
    result = project.invoke("build", "--target", "spark", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: models/broken.sql: Spark: [UNRESOLVED_COLUMN"), result.stderr
    assert result.stderr.count("\n") == 1
    assert {p.name: p.read_bytes() for p in [*project.out.iterdir(), project.db]} == before


@pytest.mark.parametrize("name", [n for n in STOPS if n not in ("empty file", "only white space")])
def test_the_spark_reader_refuses_every_log_duckdb_refuses(tmp_path, name):
    """(Without Spark: the workers' reading of a file; check_sources stops the empty ones first.)"""
    with pytest.raises(ValueError, match=f"^{UNREADABLE}"):
        file_records(str(tmp_path / "user_feedback.json"), STOPS[name][0])


@pytest.mark.parametrize("name", ["duplicate keys", "invalid UTF-8", "trailing comma"])
def test_a_log_that_cannot_be_read_stops_spark_with_duckdbs_line(tmp_path, name):
    project = copy_project(tmp_path / "proj")
    project.write_log(STOPS[name][0])
    said = [project.invoke("build", "--target", target, ok=False) for target in ("duckdb", "spark")]
    assert [r.exit_code for r in said] == [1, 1]
    assert said[1].stderr == said[0].stderr
    assert not project.out.exists()


def test_files_past_max_shard_size_are_the_same_shards_on_spark(tmp_path):
    """The spark target's files are laid out by the same writer: its max_shard_size gives the same
    shards, byte for byte."""
    from test_shards import generated_log, tree

    write_logs(tmp_path, "feedback.json", generated_log())
    built = []
    for target in ("duckdb", "spark"):
        project = copy_project(tmp_path / target)
        pyproject = project.root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(
            f'type = "{target}"\n', f'type = "{target}"\nmax_shard_size = "2KB"\n', 1), encoding="utf-8")
        project.invoke("build", "--target", target, "--feedback-file", str(tmp_path / "logs" / "feedback.json"),
                       "--format", "json", "--format", "kto", "--var", "val_ratio=0.3")
        built.append(tree(project.out))
    assert built[0] == built[1]
    assert any("-00002-of-" in name for name in built[0]), sorted(built[0])


DEFERRAL = """
import os, signal, time
from engine.interrupts import failures_in_one_line, uninterrupted
from engine.spark import spark_session
from engine.target import Target
with failures_in_one_line():
    spark_session(Target("spark", "spark", {"spark.master": "local[1]"}))
    with uninterrupted():  # (a commit's moves)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)
        print("the moves went on")
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)
    print("not stopped")
"""


def test_ctrl_c_in_a_commit_on_spark_waits_for_its_moves(tmp_path):
    """pyspark's SparkContext puts its own SIGINT handler in place of fbt's (it cancels Spark's jobs
    and raises at once, mid-commit): fbt's deferral is put back around it, in a process of its own."""
    run = subprocess.run([sys.executable, "-c", DEFERRAL], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.stdout == "the moves went on\n", run.stderr[-3000:]
    assert run.returncode == 1  # (the InterruptError raised out of -c: a traceback, exit 1)
    assert run.stderr.rstrip().endswith("InterruptError: interrupted (Ctrl-C); stopped and cleaned up, "
                                        "nothing changed")
