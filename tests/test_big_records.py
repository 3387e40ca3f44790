"""Texts of any length: a record larger than DuckDB's JSON reader takes by default (16 MiB) builds,
read again with room for it; and a log path with [ ] in it is that file, not a glob."""

from __future__ import annotations

import json

from conftest import record


def test_a_reply_larger_than_the_readers_default_builds_whole(project):
    reply = "臣妾" * (10 * 1024 * 1024) + " the end"  # 60 MiB of UTF-8: read again with 128 MiB of room
    records = [record(1), record(2, model_response=reply, user_input="写一部长篇小说"), record(3)]
    project.write_log(records)
    result = project.invoke("build", "-q", "--format", "jsonl")
    assert "records read: 3 = rejected 0 + valid 3" in result.stdout
    lines = (project.out / "high_quality_samples.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["output"] for line in lines] == ["回答 1", reply, "回答 3"]
    assert project.query("select length(model_response) from feedback_log where position = 2") == \
        [(len(reply),)]


def test_a_log_path_with_brackets_is_that_file(project):
    log = project.write("logs [2025]/user_feedback.json", json.dumps([record(1), record(2)]))
    result = project.invoke("build", "-q", "--feedback-file", str(log))
    assert "records read: 2 = rejected 0 + valid 2" in result.stdout
    assert project.query("select distinct source_file from feedback_log") == [(str(log),)]
