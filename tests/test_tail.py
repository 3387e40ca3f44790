"""A build whose log only grew parses only the new records (engine/tail.py), and ends exactly as a
build that parsed everything: every table and view of the database, every file, byte for byte.
Each case builds two projects through the same history of the log; the last build of one parses
what it may, the other's parses all (--var full_parse=true)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import Project, copy_project, record
from openwebui import BASE, chat, message


def log_of(n: int, start: int = 1) -> list[dict]:
    """n records: some rated low, some without an id, some invalid, Chinese and English."""
    records = []
    for i in range(start, start + n):
        r = record(i, rating=[5, 4, 2, 1, 3][i % 5], session_id=f"s{i % 7}",
                   user_input=f"问题 {i % 9}" if i % 3 else f"Question {i % 4}?",
                   model_response=f"回答 {i}" if i % 4 else f"  Answer {i}\n")
        if i % 6 == 0:
            del r["id"]
        if i % 11 == 0:
            r["rating"] = "five"
        records.append(r)
    return records


BUILD = ("build", "--var", "val_ratio=0.3", "--format", "json", "jsonl", "alpaca", "dpo", "kto", "sharegpt", "openai")


def build(p: Project, *args: str) -> str:
    return p.invoke(*BUILD, *args).output


def contents(p: Project) -> dict[str, object]:
    """Every table and view of the main schema, sorted; fbt.log_parse; every output file's bytes."""
    import duckdb

    found: dict[str, object] = {}
    with duckdb.connect(str(p.db), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main' "
                                           "union all select view_name from duckdb_views() where "
                                           "schema_name = 'main' and not internal order by 1").fetchall()]
        for name in names:
            found[name] = [tuple(same(p, v) for v in row)
                           for row in con.execute(f'select * from "{name}" order by all').fetchall()]
        found["fbt.log_parse"] = con.execute("select * from fbt.log_parse").fetchall()
    for path in sorted(p.out.iterdir()):  # --new-only's files: one set per build
        found.setdefault(same(p, path.name), []).append(same(p, path.read_bytes()))
    return found


def same(p: Project, value):
    """A value as it would be on the other side: its project's folder and build ids (times) aside."""
    if isinstance(value, bytes):
        return re.sub(rb"\d{8}T\d{6}Z(-\d+)?", b"BUILD", value.replace(str(p.root).encode(), b"ROOT"))
    if isinstance(value, str):
        return re.sub(r"\d{8}T\d{6}Z(-\d+)?", "BUILD", value.replace(str(p.root), "ROOT"))
    return value


def twins(tmp_path: Path, first: list | bytes | str, *builds: str, name: str = "user_feedback.json"):
    """Two projects with the same log, built once."""
    pair = []
    for side in ("tail", "full"):
        p = copy_project(tmp_path / side)
        p.log = p.root / "data" / name
        p.write_log(first)
        build(p, "--feedback-file", str(p.log), *builds)
        pair.append(p)
    return pair


def rebuild(pair: list[Project], then: list | bytes | str, *args: str) -> str:
    """The log rewritten on both sides; built again, the second side parsing it all; both sides'
    databases and files the same. Returns the first side's summary."""
    for p in pair:
        p.write_log(then)
    said = build(pair[0], "--feedback-file", str(pair[0].log), *args)
    build(pair[1], "--feedback-file", str(pair[1].log), "--var", "full_parse=true", *args)
    a, b = contents(pair[0]), contents(pair[1])
    assert a.keys() == b.keys()
    for key in a:
        if key != "fbt.log_parse":
            assert a[key] == b[key], key
    assert [row[1:4] for row in a["fbt.log_parse"]] == [row[1:4] for row in b["fbt.log_parse"]]  # key: root
    return said


def test_a_grown_log_parses_only_its_new_records(tmp_path):
    old = log_of(40)
    pair = twins(tmp_path, old)
    # new records: a repeat of an earlier id, a repeat of an id-less record's content, an invalid one
    grown = old + log_of(12, start=41) + [dict(old[2]), dict(old[5]), record(99, user_input="  ")]
    said = rebuild(pair, grown)
    assert "parsed only the 15 new records (the 40 before them as the last build parsed them)" in said
    log = pair[0].query("select position, reason, detail from feedback_log where position > 52 order by 1")
    assert log == [(53, "duplicate", "repeats record 3 (same id)"),
                   (54, "duplicate", "repeats record 6 (same content)"),
                   (55, "empty_user_input", "user_input is blank")]
    # and again: a second day (an id's third record; a new record repeated by the next one), and a
    # day without new feedback
    day = log_of(5, start=100)
    grown += day + [dict(old[2]), dict(day[-1])]
    assert "parsed only the 7 new records (the 55 before" in rebuild(pair, grown)
    log = pair[0].query("select position, reason, detail from feedback_log where position > 60 order by 1")
    assert log == [(61, "duplicate", "repeats record 3 (same id)"),
                   (62, "duplicate", "repeats record 60 (same id)")]
    assert "log: no new records since the last build (its 62 rows kept)" in rebuild(pair, grown)


def test_new_only_and_review_see_every_record(tmp_path):
    old = log_of(30)
    pair = twins(tmp_path, old, "--new-only")
    said = rebuild(pair, old + log_of(10, start=31), "--new-only")
    assert "parsed only the 10 new records" in said
    assert "already_exported" in said


@pytest.mark.parametrize("change, why", [
    (lambda log: log[:10] + [dict(log[10], model_response="edited")] + log[11:] + log_of(3, start=60),
     "the records the last build read changed"),
    (lambda log: log[:10] + log[11:] + log_of(5, start=60), "the records the last build read changed"),
    (lambda log: json.dumps(log + log_of(3, start=60), ensure_ascii=False, indent=4),
     "the records the last build read changed"),
    (lambda log: json.dumps(log + log_of(3, start=60), ensure_ascii=False),  # shorter: no indent
     "the log ends before where the last build's records ended"),
    (lambda log: log_of(45, start=500), "the records the last build read changed"),
])
def test_a_log_changed_before_its_end_is_parsed_again(tmp_path, change, why):
    old = log_of(40)
    pair = twins(tmp_path, old)
    said = rebuild(pair, change(old))
    assert f"log: parsed all of it ({why}" in said


def test_edited_models_parse_everything(tmp_path):
    old = log_of(20)
    pair = twins(tmp_path, old)
    for p in pair:
        staging = p.root / "models" / "stg_app_feedback.sql"
        staging.write_text(staging.read_text(encoding="utf-8").replace(
            "coalesce(nullif({{ strip_text('model_name') }}, ''), 'unknown')",
            "coalesce(nullif({{ strip_text('model_name') }}, ''), 'unnamed')"), encoding="utf-8")
    old[3]["model_name"] = ""
    said = rebuild(pair, old[:3] + [dict(old[3], model_name=None)] + old[4:])
    assert "log: parsed all of it (" in said
    assert pair[0].query("select model_name from feedback_log where position = 4") == [("unnamed",)]


def test_an_empty_log_grows(tmp_path):
    pair = twins(tmp_path, [])
    assert "parsed only the 8 new records (the 0 before" in rebuild(pair, log_of(8))


def test_json_lines_grow(tmp_path):
    old = log_of(20)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in old)
    pair = twins(tmp_path, lines, name="feedback.jsonl")
    more = lines + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in log_of(6, start=21) + [old[0]])
    said = rebuild(pair, more)
    assert "parsed only the 7 new records (the 20 before" in said
    assert pair[0].query("select reason from feedback_log where position = 27") == [("duplicate",)]


def rating(n: int, thumbs: int, text: str) -> dict:
    """An Open WebUI rating record of a one-turn chat."""
    q, a = message(f"q{n}", None, "user", f"问题 {n}", [f"a{n}"]), \
        message(f"a{n}", f"q{n}", "assistant", text, model="qwen2.5:7b")
    return {"id": f"fb-{n}", "user_id": "u-1", "version": 0, "type": "rating",
            "data": {"rating": thumbs, "model_id": "qwen2.5:7b", "sibling_model_ids": None, "reason": "",
                     "comment": "", "tags": []},
            "meta": {"arena": False, "model_id": "qwen2.5:7b", "message_id": f"a{n}", "message_index": 2,
                     "chat_id": f"c{n}", "base_models": {}},
            "snapshot": {"chat": chat(f"c{n}", f"Chat {n}", [q, a], f"a{n}")},
            "created_at": BASE + n, "updated_at": BASE + n}


def test_an_open_webui_export_that_grew(tmp_path):
    old = [rating(n, 1 if n % 3 else -1, f"回答 {n}") for n in range(1, 10)]
    pair = twins(tmp_path, json.dumps(old, ensure_ascii=False, separators=(",", ":")),
                 name="feedback-history-export-1733000000000.json")
    more = old + [rating(n, 1, f"Answer {n}") for n in range(10, 14)] + [rating(1, 1, "again")]
    said = rebuild(pair, json.dumps(more, ensure_ascii=False, separators=(",", ":")))
    assert "parsed only the 5 new records (the 9 before" in said


def test_a_bad_new_record_is_said_of_the_log_itself(tmp_path):
    old = log_of(20)
    pair = twins(tmp_path, old)
    for p in pair:
        p.write_log(old + log_of(3, start=21) + [5])
    said = [same(p, p.invoke("build", "--feedback-file", str(p.log), ok=False).output) for p in pair]
    assert said[0] == said[1] and "record 24" in said[0] and "ROOT/data/user_feedback.json" in said[0]


def test_the_log_is_hashed_in_blocks_and_an_edit_in_any_is_found(tmp_path, monkeypatch):
    """hash_prefix hashes blocks of the log on two threads: the hash of the bytes before a point is
    the same whatever else is hashed with it and on however many threads, and changes with any
    byte before it. Small blocks here, so that the log's records end inside and across them."""
    import engine.tail

    monkeypatch.setattr(engine.tail, "BLOCK", 700)
    monkeypatch.setattr(engine.tail, "CHUNK", 64)
    log = tmp_path / "log.bin"
    log.write_bytes(bytes(range(256)) * 12)
    stops = [(0,), (699,), (700,), (701, 3072), (1400, 2999), (3072, 5), (5000,)]
    found = [engine.tail.hash_prefix(log, *at) for at in stops]
    for at, digests in zip(stops, found, strict=True):
        assert digests == [engine.tail.hash_prefix(log, stop, threads=1)[0] for stop in at], at
    monkeypatch.setattr(engine.tail, "PREAD", False)  # (Windows: one thread, seek and read)
    assert [engine.tail.hash_prefix(log, *at) for at in stops] == found
    monkeypatch.undo()
    monkeypatch.setattr(engine.tail, "BLOCK", 700)
    monkeypatch.setattr(engine.tail, "CHUNK", 64)
    edited = tmp_path / "edited.bin"
    for at in (0, 699, 700, 2500):
        data = bytearray(log.read_bytes())
        data[at] ^= 1
        edited.write_bytes(bytes(data))
        assert engine.tail.hash_prefix(edited, at) == engine.tail.hash_prefix(log, at)
        assert engine.tail.hash_prefix(edited, at + 1, 3072) != engine.tail.hash_prefix(log, at + 1, 3072)
    old = log_of(40)
    pair = twins(tmp_path, old)
    assert "parsed only the 6 new records" in rebuild(pair, old + log_of(6, start=41))
    grown = old + log_of(6, start=41) + log_of(2, start=47)
    assert "parsed all of it (the records the last build read changed" in rebuild(
        pair, grown[:30] + [dict(grown[30], model_response="edited")] + grown[31:])


def test_a_hash_of_an_earlier_fbt_parses_all_and_says_so(tmp_path):
    old = log_of(20)
    pair = twins(tmp_path, old)
    import duckdb

    with duckdb.connect(str(pair[0].db)) as con:  # (an earlier fbt hashed the log whole: no "how:")
        con.execute("update fbt.log_parse set prefix_hash = split_part(prefix_hash, ':', 2)")
    assert "log: parsed all of it (the last build hashed the log another way" in rebuild(pair, old + log_of(3, start=21))
