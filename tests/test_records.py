"""The record rules (README, The models and What happens to bad input), each on hand-made records."""

from __future__ import annotations

import pytest

from conftest import record

WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def samples(project):
    return project.read_json("high_quality_samples.json")


def rejected(project):
    return project.query("select position, reason from rejected_feedback order by position")


def test_python_has_the_29_whitespace_characters_the_strip_macro_lists():
    assert len(WHITESPACE) == 29


def test_texts_are_stripped_like_python_str_strip(project):
    padded = WHITESPACE + "你好，\n世界" + WHITESPACE
    project.write_log([record(1, user_input=padded, model_response="\u3000\xa0臣妾在。\t\n",
                              model_name=" huanhuan-qwen\u3000")])
    project.invoke("build")
    [sample] = samples(project)
    assert sample["instruction"] == padded.strip() == "你好，\n世界"
    assert sample["output"] == "臣妾在。"
    assert sample["model_name"] == "huanhuan-qwen"


@pytest.mark.parametrize("rating, expected", [(5, 5), ("5", 5), (5.0, 5), (" 4 ", 4), ("5.0", 5), (1, 1)])
def test_ratings_that_mean_an_integer_1_to_5(project, rating, expected):
    project.write_log([record(1, rating=rating)])
    project.invoke("build", "--min-rating", "1")
    assert [s["rating"] for s in samples(project)] == [expected]


@pytest.mark.parametrize("rating", [None, ..., 4.5, 0, 6, -1, "five", True, [5], {"v": 5}, "", "4.5"])
def test_anything_else_is_not_a_rating(project, rating):
    project.write_log([record(1, rating=rating), record(2)])
    result = project.invoke("build", "--min-rating", "1")
    assert rejected(project) == [(1, "invalid_rating")]
    assert [s["feedback_id"] for s in samples(project)] == [record(2)["id"]]
    assert "rejected by reason: invalid_rating 1" in result.stdout


@pytest.mark.parametrize("field, reason", [("user_input", "empty_user_input"),
                                           ("model_response", "empty_model_response")])
@pytest.mark.parametrize("value", ["", "  \n\u3000", None, ..., 42, ["a"]])
def test_empty_or_non_text_prompt_and_reply_are_rejected(project, field, reason, value):
    project.write_log([record(1, **{field: value})])
    project.invoke("build")
    assert rejected(project) == [(1, reason)]
    assert samples(project) == []


def test_feedback_id_is_the_records_id_else_stable_from_content(project):
    project.write_log([record(1), record(2, id=...), record(3, id=12345)])
    project.invoke("build")
    ids = [s["feedback_id"] for s in samples(project)]
    assert ids[0] == record(1)["id"] and ids[2] == "12345"
    project.invoke("build")
    assert [s["feedback_id"] for s in samples(project)] == ids
    assert len(ids[1]) == 32 and ids[1] != ids[0]


def test_a_repeat_is_rejected_even_when_the_first_was_rejected(project):
    first_bad = record(1, rating=None)
    project.write_log([first_bad, record(2), dict(first_bad, rating=5), record(2, user_input="其他")])
    project.invoke("build")
    assert rejected(project) == [(1, "invalid_rating"), (3, "duplicate"), (4, "duplicate")]
    assert project.query("select detail from rejected_feedback where position = 4") == [
        ("repeats record 2 (same id)",)]


def test_without_ids_the_same_content_is_a_repeat_and_other_content_is_not(project):
    a = record(1, id=...)
    project.write_log([a, dict(a), dict(a, rating=4), dict(a, session_id="other")])
    project.invoke("build")
    assert rejected(project) == [(2, "duplicate")]
    assert len(samples(project)) == 3


def test_read_equals_rejected_plus_valid(project):
    project.write_log([record(n, rating=n % 7) for n in range(1, 50)])
    project.invoke("build")
    read, = project.query("select count(*) from feedback_log")[0]
    rej, = project.query("select count(*) from rejected_feedback")[0]
    valid, = project.query("select count(*) from stg_feedback")[0]
    assert read == 49 and rej + valid == read and rej == 14


def test_missing_model_name_is_unknown_and_missing_timestamp_is_empty(project):
    project.write_log([record(1, model_name=..., timestamp=...), record(2, model_name="  ")])
    project.invoke("build")
    assert [(s["model_name"], s["timestamp"]) for s in samples(project)] == [("unknown", ""),
                                                                             ("unknown", record(2)["timestamp"])]


def test_sample_rule_rating_threshold_and_model(project):
    project.write_log([record(1, rating=3), record(2, rating=4), record(3, model_name="other"),
                       record(4, rating=5)])
    result = project.invoke("build", "--model-name", "huanhuan-qwen")
    assert [s["feedback_id"] for s in project.read_json("huanhuan-qwen_samples.json")] == [
        record(2)["id"], record(4)["id"]]
    assert "valid: 4 = samples 2 + below_min_rating 1 + other_model 1" in result.stdout


def test_output_keeps_the_order_of_the_log(project):
    log = [record(n, timestamp=f"2025-01-{30 - n:02d}T00:00:00") for n in range(1, 30)]
    project.write_log(log)
    project.invoke("build")
    assert [s["feedback_id"] for s in samples(project)] == [r["id"] for r in log]


def test_extra_fields_are_ignored_and_generation_settings_kept(project):
    project.write_log([record(1, app_version="0.3", temperature="hot", comment="好")])
    project.invoke("build")
    assert project.query("select temperature, top_k, comment from stg_feedback") == [(None, 40, "好")]
