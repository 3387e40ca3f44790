"""The export layouts, byte for byte, and the one pass that feeds every file of a model."""

from __future__ import annotations

import io
import json

import duckdb
import pytest
from conftest import record

import engine
import engine.export
from exporters import EXPORTERS

SAMPLES = [{"instruction": "你好\n\"引号\"", "input": "", "output": "臣妾 😊 \\ /", "rating": 5,
            "model_name": "huanhuan-qwen", "feedback_id": "a", "timestamp": ""},
           {"instruction": "q", "input": "", "output": "a", "rating": 4, "model_name": "m",
            "feedback_id": "b", "timestamp": "2025-07-18T19:01:41"}]


FIELDS = ("instruction", "input", "output", "rating", "model_name", "feedback_id", "timestamp")
ORIGINAL = ["alpaca", "json", "jsonl"]  # the other formats are pinned by golden files (test_training_formats)


def required(exporter):
    """The fields every file of the format has (optional ones, like alpaca's system, left out)."""
    return tuple(f for f in exporter.fields if f not in exporter.optional)


def rows(exporter, samples):
    return [tuple(json.dumps(s[f], ensure_ascii=False).encode() for f in required(exporter)) for s in samples]


def expected(name, samples):
    shaped = [{f: s[f] for f in required(EXPORTERS[name])} for s in samples]
    if name == "jsonl":
        return "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in shaped)
    return json.dumps(shaped, ensure_ascii=False, indent=2) + "\n"


def laid_out_by_duckdb(exporter, samples) -> bytes:
    """The file the build writes for these samples: rows laid out by DuckDB (render_sql), read as
    Arrow buffers, head and tail put around them by the exporter's Sink."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (n INTEGER, instruction VARCHAR, input VARCHAR, output VARCHAR, "
                "rating INTEGER, model_name VARCHAR, feedback_id VARCHAR, timestamp VARCHAR)")
    for n, s in enumerate(samples):
        con.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [n] + [s[f] for f in FIELDS])
    fields = required(exporter)
    out = io.BytesIO()
    sink = exporter.open(out, fields)
    sql = f"SELECT {engine.export.render_sql(exporter.layout(fields), fields)} FROM t ORDER BY n"
    for batch in engine.export.fetch_arrow(con, sql, "t"):
        sink.write(engine.export.string_bytes(batch.column(0)), batch.num_rows)
    assert sink.close() == len(samples)
    return out.getvalue()


@pytest.mark.parametrize("name", ORIGINAL)
@pytest.mark.parametrize("count", [0, 1, 2])
def test_layout_matches_python_json(name, count):
    assert laid_out_by_duckdb(EXPORTERS[name], SAMPLES[:count]).decode() == expected(name, SAMPLES[:count])


@pytest.mark.parametrize("name", ORIGINAL)
def test_batches_join_like_one_write(name):
    out = io.BytesIO()
    sink = EXPORTERS[name].open(out, required(EXPORTERS[name]))
    for row in rows(EXPORTERS[name], SAMPLES):
        sink.write(sink.layout.sep + sink.layout.row % row, 1)
    sink.write(b"", 0)
    assert sink.close() == 2
    assert out.getvalue().decode() == expected(name, SAMPLES)


def test_one_pass_reports_rows_written_per_file(project, monkeypatch):
    monkeypatch.setattr(engine.export, "BATCH_ROWS", 2)
    monkeypatch.setattr(engine.export, "PROGRESS_SECONDS", 0)
    project.write_log([record(n) for n in range(1, 6)])
    messages: list[str] = []
    engine.build(engine.load_project(project.root), progress=messages.append)
    files = "high_quality_samples.json, high_quality_samples.jsonl, alpaca_format_samples.json"
    assert [m for m in messages if "rows written" in m] == [
        f"  {n} rows written to {files}" for n in (2, 4, 5)]
    assert len(project.read_json("high_quality_samples.json")) == 5


def test_a_null_value_is_written_as_null(project):
    project.write_log([record(1)])
    project.write("models/training_set.sql", "{{ config(export=['jsonl']) }}\n"
                  "select user_input as instruction, '' as input, model_response as output, rating,\n"
                  "    null as model_name, feedback_id, timestamp, position\n"
                  "from {{ ref('stg_feedback') }}")
    project.invoke("build", "--format", "jsonl")
    assert project.read_jsonl("high_quality_samples.jsonl")[0]["model_name"] is None


def test_a_model_out_of_log_order_is_exported_in_log_order(project, monkeypatch):
    monkeypatch.setattr(engine.export, "BATCH_ROWS", 2)
    monkeypatch.setattr(engine.export, "RANGE_POSITIONS", 2)  # read in ranges of 2 positions: 3 ranges
    project.write_log([record(n) for n in range(1, 6)])
    project.write("models/training_set.sql", "{{ config(export=['json', 'jsonl', 'alpaca']) }}\n"
                  "select user_input as instruction, '' as input, model_response as output, rating,\n"
                  "    model_name, feedback_id, timestamp, position, null::VARCHAR as system,\n"
                  "    null::VARCHAR[][] as history\n"
                  "from {{ ref('stg_feedback') }} order by position desc")
    messages: list[str] = []
    engine.build(engine.load_project(project.root), progress=messages.append)
    ids = [record(n)["id"] for n in range(1, 6)]
    assert [s["feedback_id"] for s in project.read_json("high_quality_samples.json")] == ids
    assert [s["feedback_id"] for s in project.read_jsonl("high_quality_samples.jsonl")] == ids
    assert len(project.read_json("alpaca_format_samples.json")) == 5


def test_several_logs_write_their_records_in_the_same_order_on_every_build(project):
    """A glob of logs: the SFT files in log order (the files by name, each in its order); kto, which
    orders by the position in each file, the records of one position by their feedback_id (the
    model's unique_key), not as they happen to come."""
    logs = project.root / "data" / "logs"
    logs.mkdir(parents=True)
    for name, first in (("b.json", 10), ("a.json", 20), ("c.json", 30)):
        (logs / name).write_text(json.dumps([record(first + i) for i in range(3)], ensure_ascii=False),
                                 encoding="utf-8")
    project.invoke("build", "--feedback-file", "data/logs/*.json", "--format", "jsonl", "kto")
    sft = [r["instruction"] for r in project.read_jsonl("high_quality_samples.jsonl")]
    assert sft == [f"问题 {n}" for n in (20, 21, 22, 10, 11, 12, 30, 31, 32)]
    kto = [r["prompt"][0]["content"] for r in project.read_jsonl("kto_samples.jsonl")]
    assert kto == [f"问题 {n}" for n in (10, 20, 30, 11, 21, 31, 12, 22, 32)]
