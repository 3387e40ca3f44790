"""Open WebUI's feedback export as a source (README, From Open WebUI): recognised by its shape, read
by its own staging model, and every rule of the mapping, on the fixture of tests/openwebui.py."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import record
from openwebui import dumps, export

from engine.logshape import log_format

EXPORT = "data/feedback-history-export-1733000000000.json"
EVERY_FORMAT = ["json", "jsonl", "alpaca", "sharegpt", "openai", "prompt_completion", "dpo_trl",
                "dpo_alpaca", "dpo_sharegpt", "dpo_openai", "kto", "kto_sharegpt"]


def build(project, *args: str, records: list[dict] | None = None):
    project.write(EXPORT, dumps(export() if records is None else records))
    return project.invoke("build", "-q", "--feedback-file", EXPORT, *args)


def test_the_export_is_recognised_by_its_shape(project):
    path = project.write(EXPORT, dumps(export()))
    assert log_format(path) == "openwebui"
    assert log_format(project.write_log([record(1)])) == "app"
    result = build(project)
    assert "records read: 14 = rejected 7 + valid 7" in result.stdout
    assert project.query("select count(*) from stg_app_feedback") == [(0,)]


def test_log_format_forces_the_shape(project):
    result = build(project, "--var", "log_format=app")  # read as the app's log: nothing is valid
    assert "records read: 14 = rejected 14 + valid 0" in result.stdout
    project.write_log([record(1), record(2)])
    result = project.invoke("build", "-q", "--var", "log_format=openwebui")
    assert "records read: 2 = rejected 2 + valid 0" in result.stdout
    assert project.query("select distinct reason from rejected_feedback") == [("not_a_rating",)]


def test_each_record_is_one_rated_reply(project):
    build(project)
    rows = project.query("select feedback_id, session_id, timestamp, model_name, user_input, model_response, "
                         "comment, thumbs, detailed_rating, rating from stg_feedback order by position")
    assert rows == [
        ("f-a3", "c-a", "2024-11-30T20:54:50Z", "llama3.1:8b", "And a Parquet file?",
         "read_parquet('file.parquet'), or just select from the file.", "", 1, None, 4),
        ("f-a2b", "c-a", "2024-11-30T20:54:40Z", "llama3.1:8b", "How do I read a JSON file with it?",
         "Use read_json('file.json'): it infers the columns.", "", 1, 8, 4),
        ("f-a2", "c-a", "2024-11-30T20:54:30Z", "llama3.1:8b", "How do I read a JSON file with it?",
         "You cannot; convert it to CSV first.", "It can read JSON.", -1, None, 2),
        ("f-a1", "c-a", "2024-11-30T20:54:20Z", "llama3.1:8b", "What is DuckDB?",
         "DuckDB is an in-process analytical SQL database.", "", 1, 9, 5),
        ("f-b1", "c-b", "2024-11-30T20:54:10Z", "qwen2.5:7b", "用一句话介绍长城。",
         "长城是中国古代修建的军事防御工程，绵延两万多公里。", "简洁准确", 1, 10, 5),
        ("f-c1", "c-c", "2024-11-30T20:54:00Z", "qwen2.5:7b", "写一句关于梅花的诗。", "梅花很好看。", "", -1, 3, 2),
        ("f-c2", "c-c", "2024-11-30T20:53:50Z", "qwen2.5:7b", "这是谁写的？", "这是北宋王安石的《梅花》。", "", 1, 7, 4),
    ]
    assert project.query("select feedback_reason, tags, arena, chat_title from stg_feedback "
                         "where feedback_id = 'f-b1'") == [("thorough_explanation", ["历史", "中国"], True, "长城")]


@pytest.mark.parametrize("args, ratings", [
    ([], {"f-a3": 4, "f-a2": 2}),
    (["--var", "thumbs_up_rating=5", "--var", "thumbs_down_rating=1"], {"f-a3": 5, "f-a2": 1}),
])
def test_thumbs_without_a_score_take_the_thumbs_vars(project, args, ratings):
    build(project, *args)
    assert dict(project.query("select feedback_id, rating from stg_feedback where detailed_rating is null")) \
        == ratings
    assert project.query("select rating from stg_feedback where feedback_id = 'f-a2b'") == [(4,)]  # 8/10


def test_min_rating_5_keeps_the_nines_and_tens(project):
    build(project, "--min-rating", "5", "--format", "jsonl")
    assert [r["feedback_id"] for r in project.read_jsonl("high_quality_samples.jsonl")] == ["f-a1", "f-b1"]


def test_bad_records_are_rejected_with_their_reason_and_position(project):
    build(project)
    assert project.query("select position, feedback_id, reason, detail from rejected_feedback order by position") == [
        (8, "f-old", "no_snapshot",
         "no snapshot.chat.chat.history.messages (an export from an Open WebUI without snapshots?)"),
        (9, "f-miss", "message_not_in_snapshot", "message a-a9 is not in the snapshot"),
        (10, "f-empty-reply", "empty_model_response", "the rated message is blank"),
        (11, "f-empty-prompt", "empty_user_input", "the user message is blank"),
        (12, "f-other", "not_a_rating", 'type is "comment", not "rating"'),
        (13, "f-norating", "invalid_rating", "data.rating 0 is neither 1 (👍) nor -1 (👎), and there is no 1-10 score"),
        (14, "f-a1", "duplicate", "repeats record 4 (same id)"),
    ]


def test_a_score_out_of_range_is_no_rating(project):
    records = export()[:1]
    records[0]["data"]["details"] = {"rating": 11}
    build(project, records=records)
    assert project.query("select reason, detail from rejected_feedback") == \
        [("invalid_rating", "details.rating 11 is not an integer from 1 to 10")]


def test_history_is_the_whole_chain_unrated_turns_included(project):
    build(project, "--format", "openai", "--var", "with_history=true")
    by_reply = {row["messages"][-1]["content"]: row["messages"][:-1]
                for row in project.read_jsonl("openai_format_samples.jsonl")}
    assert by_reply["read_parquet('file.parquet'), or just select from the file."] == [
        {"role": "user", "content": "What is DuckDB?"},
        {"role": "assistant", "content": "DuckDB is an in-process analytical SQL database.", "weight": 0},
        {"role": "user", "content": "How do I read a JSON file with it?"},
        {"role": "assistant", "content": "Use read_json('file.json'): it infers the columns.", "weight": 0},
        {"role": "user", "content": "And a Parquet file?"},
    ]
    # c-a1b was never rated: it is history all the same (the branch the chat went on from)
    assert by_reply["这是北宋王安石的《梅花》。"] == [
        {"role": "user", "content": "写一句关于梅花的诗。"},
        {"role": "assistant", "content": "墙角数枝梅，凌寒独自开。", "weight": 0},
        {"role": "user", "content": "这是谁写的？"},
    ]


def looped(records: list[dict], parent: str) -> list[dict]:
    """The records with record 1's snapshot (chat A) changed: its first message's parentId set to
    parent, a message further down the chain, so that following parentId up from the prompt loops."""
    records = json.loads(dumps(records))  # (no chat shared between records)
    records[0]["snapshot"]["chat"]["chat"]["history"]["messages"]["a-u1"]["parentId"] = parent
    return records


@pytest.mark.parametrize("parent", ["a-a2b", "a-u3", "a-a3"])  # a message passed, the prompt, the reply
def test_history_ends_where_a_loop_of_parent_ids_comes_back(project, parent):
    build(project, "--format", "openai", "--var", "with_history=true", records=looped(export(), parent))
    by_reply = {row["messages"][-1]["content"]: row["messages"][:-1]
                for row in project.read_jsonl("openai_format_samples.jsonl")}
    history = by_reply["read_parquet('file.parquet'), or just select from the file."]
    assert [m["content"] for m in history] == [
        "What is DuckDB?", "DuckDB is an in-process analytical SQL database.",
        "How do I read a JSON file with it?", "Use read_json('file.json'): it infers the columns.",
        "And a Parquet file?"]


def pairs(project) -> list[tuple]:
    return project.query("select kind, chosen_id, rejected_id from preference_pairs order by position, pair_id")


def test_siblings_make_preference_pairs(project):
    build(project, "--format", "dpo_trl")
    assert pairs(project) == [
        ("rating", "f-a2b", "f-a2"),    # also siblings: one pair
        ("sibling", "c-a1b", "f-c1"),   # a 👎 reply loses to its unrated regeneration
    ]
    build(project, "--format", "dpo_trl", "--var", "same_model_pairs=false")
    assert ("sibling", "f-b1", "b-a2") in pairs(project)  # the arena: 👍 qwen over gemma
    build(project, "--format", "dpo_trl", "--var", "sibling_pairs=false")
    assert pairs(project) == [("rating", "f-a2b", "f-a2")]


def test_sibling_pairs_need_no_gap_and_are_bounded_per_prompt(project):
    records = export()
    arena = copy.deepcopy(records[4])
    messages = arena["snapshot"]["chat"]["chat"]["history"]["messages"]
    for n in (3, 4):
        messages[f"b-a{n}"] = {**messages["b-a2"], "id": f"b-a{n}", "content": f"第{n}个回答。"}
        messages["b-u1"]["childrenIds"].append(f"b-a{n}")
    records[4] = arena
    build(project, "--format", "dpo_trl", "--var", "same_model_pairs=false", "--var", "min_gap=4",
          records=records)
    assert [p for p in pairs(project) if p[1] == "f-b1"] == \
        [("sibling", "f-b1", "b-a2"), ("sibling", "f-b1", "b-a3"), ("sibling", "f-b1", "b-a4")]
    build(project, "--format", "dpo_trl", "--var", "same_model_pairs=false",
          "--var", "max_pairs_per_prompt=2", records=records)
    assert [p for p in pairs(project) if p[1] == "f-b1"] == \
        [("sibling", "f-b1", "b-a2"), ("sibling", "f-b1", "b-a3")]


def test_kto_labels_come_from_the_mapped_rating(project):
    build(project, "--format", "kto")
    labels = {r["completion"][0]["content"]: r["label"] for r in project.read_jsonl("kto_samples.jsonl")}
    assert labels == {
        "read_parquet('file.parquet'), or just select from the file.": True,      # 👍 -> 4
        "Use read_json('file.json'): it infers the columns.": True,               # 8 -> 4
        "You cannot; convert it to CSV first.": False,                            # 👎 -> 2
        "DuckDB is an in-process analytical SQL database.": True,                 # 9 -> 5
        "长城是中国古代修建的军事防御工程，绵延两万多公里。": True,                   # 10 -> 5
        "梅花很好看。": False,                                                     # 3 -> 2
        "这是北宋王安石的《梅花》。": True,                                          # 7 -> 4
    }


@pytest.mark.parametrize("name, args", [
    ("openwebui_default", []),
    ("openwebui_history", ["--var", "with_history=true", "--var", "same_model_pairs=false"]),
])
def test_every_format_matches_its_golden_file(project, golden, name, args):
    build(project, "--format", *EVERY_FORMAT, *args)
    golden(project.out, name)
