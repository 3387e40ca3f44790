"""The bad-input corpus: every log a crash, a hand edit or another tool can leave. Each one either
builds, with the bad records in rejected_feedback and a reason, or stops with exit 1 and one line
naming the file, the position and the problem, leaving the earlier outputs and database as they were.
Never a traceback (the runner re-raises anything unexpected)."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import record

REPAIR = "; fix the log and build again (an empty log is written as [])"


def text(n: int, **fields) -> str:
    """One record as the app writes it, on one line."""
    return json.dumps(record(n, **fields), ensure_ascii=False)


def log(*records: str) -> str:
    """A log with one record per line: record N is on line N + 1."""
    return "[\n" + ",\n".join(records) + "\n]\n"


# name: (file bytes, the line a user sees after "Error: <file>: ")
STOPS = {
    "empty file": (b"", "line 1, column 1: the file holds no JSON value (it is empty or only white space);"
                        " the app writes [] when there is no feedback"),
    "only white space": (b" \r\n \t", "line 2, column 3: the file holds no JSON value (it is empty or only"
                                      " white space); the app writes [] when there is no feedback"),
    "single object": (text(1).encode(), "line 1, column 1: expected a JSON array of records ([...]), found "
                                        "an object"),
    "array of non-objects": (b'[1, "two", null, [4]]', "line 1, column 2 (record 1): record 1 is a number, "
                                                       "not an object {...}"),
    "a string among records": (log(text(1), '"hello"').encode(), "line 3, column 1 (record 2): record 2 is"
                                                                 " a string, not an object {...}"),
    "truncated inside a record": (log(text(1), text(2), text(3))[:-30].encode(),
                                  f"line 4, column {len(text(3)) - 30} (record 3): the file ends inside"
                                  f" this record; it was probably cut short"),
    "truncated after a comma": (("[\n" + text(1) + ",\n").encode(),
                                "line 3, column 1 (record 1): the file ends after record 1 without the "
                                "closing ]; it was probably cut short"),
    "truncated before the ]": (("[\n" + text(1)).encode(),
                               f"line 2, column {len(text(1)) + 1} (record 1): expected , or ] after record 1,"
                               f" found the end of the file; the file was probably cut short"),
    "trailing garbage": ((log(text(1)) + "garbage\n").encode(),
                         "line 4, column 1: unexpected text after the closing ] of the array: 'garbage\\n'"),
    "two arrays": ((log(text(1)) + log(text(2))).encode(),
                   "line 4, column 1: unexpected text after the closing ] of the array: "
                   + repr(("[\n" + text(2))[:20])),
    "trailing comma": (("[\n" + text(1) + ",\n]").encode(), "line 3, column 1 (record 2): expecting value "
                                                            "(found ']')"),
    "invalid UTF-8": (log(text(1), text(2, user_input="caf\udce9")).encode("utf-8", "surrogateescape"),
                      f"line 3, column {text(2).index('问题') + 4} (record 2): byte 0xe9 is not UTF-8 (the "
                      f"log must be UTF-8)"),
    "UTF-16": (log(text(1)).encode("utf-16"), "line 1, column 1: byte 0xff is not UTF-8 (the log must be "
                                              "UTF-8)"),
    "raw NUL byte in a string": (log(text(1), text(2, user_input="a\0b")).replace("\\u0000", "\0").encode(),
                                 f"line 3, column {text(2).index('问题') + 2} (record 2): control character "
                                 f"U+0000 inside a string; write it as \\u0000"),
    "lone surrogate escape": (log(text(1), text(2, model_response="x\ud800")).encode("utf-8", "surrogatepass")
                              .replace("\ud800".encode("utf-8", "surrogatepass"), b"\\ud800"),
                              f"line 3, column {text(2).index('回答') + 2} (record 2): \\ud800 is a lone "
                              f"surrogate escape (half of a UTF-16 pair), not a character"),
    "duplicate keys": (log(text(1), text(2)[:-1] + ', "rating": 1}').encode(),
                       'line 3, column 1 (record 2): key "rating" appears twice in record 2'),
}


@pytest.fixture
def built(project):
    """A project with a finished build of a good log, and a digest of everything it left."""
    project.write_log([record(n) for n in range(1, 4)])
    project.invoke("build")
    return project, digest(project)


def digest(project) -> dict[str, str]:
    files = [*project.out.iterdir(), project.db, project.root / "target" / "run_results.json"]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.parametrize("name", list(STOPS))
def test_a_log_that_cannot_be_read_stops_with_one_line_and_touches_nothing(built, name):
    project, before = built
    data, where = STOPS[name]
    project.write_log(data)
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {project.log}: {where}{REPAIR}\n"
    assert result.stdout == ""
    assert digest(project) == before
    assert sorted(p.name for p in project.out.iterdir()) == sorted(
        n for n in before if n.endswith((".json", ".jsonl")) and n != "run_results.json")


def build_and_rejects(project, data) -> tuple[dict, list[tuple]]:
    """Build data; return run_results' accounting and rejected_feedback's (position, reason, detail)."""
    project.write_log(data)
    project.invoke("build")
    accounting = json.loads((project.root / "target" / "run_results.json").read_text())["accounting"]
    rejects = project.query("select position, reason, detail from rejected_feedback order by position")
    return accounting, rejects


def test_empty_array_builds_valid_empty_files(project):
    accounting, rejects = build_and_rejects(project, b"[]")
    assert (accounting["read"], accounting["valid"], accounting["samples"]) == (0, 0, 0)
    assert project.read_json("high_quality_samples.json") == []
    assert project.read_json("alpaca_format_samples.json") == []


def test_bom_and_crlf_are_read_like_plain_utf8(project):
    records = [text(1, user_input="问题\r\n"), text(2)]
    data = b"\xef\xbb\xbf" + log(*records).replace("\n", "\r\n").encode()
    accounting, rejects = build_and_rejects(project, data)
    assert (accounting["read"], accounting["samples"], rejects) == (2, 2, [])
    assert [s["instruction"] for s in project.read_json("high_quality_samples.json")] == ["问题", "问题 2"]


def test_escaped_nul_inside_a_string_is_kept(project):
    build_and_rejects(project, log(text(1, user_input="a\0b")))
    assert project.read_jsonl("high_quality_samples.jsonl")[0]["instruction"] == "a\0b"


def test_nan_and_infinity_are_not_ratings_nor_texts(project):
    records = [text(1).replace('"rating": 5', '"rating": NaN'),
               text(2).replace('"rating": 5', '"rating": -Infinity'),
               text(3).replace('"问题 3"', "Infinity"),
               text(4).replace('"temperature": 0.7', '"temperature": NaN')]
    accounting, rejects = build_and_rejects(project, log(*records))
    assert rejects == [(1, "invalid_rating", "rating NaN is not an integer from 1 to 5"),
                       (2, "invalid_rating", "rating -Infinity is not an integer from 1 to 5"),
                       (3, "empty_user_input", "user_input is a number")]
    assert accounting["samples"] == 1


def test_a_missing_or_null_text_is_not_called_a_number(project):
    """json_kind (macros/text.sql): read_json reads a null and a missing key both as NULL."""
    records = [record(1, user_input=...), record(2, model_response=None), record(3, user_input=7)]
    _, rejects = build_and_rejects(project, records)
    assert [(p, d) for p, _, d in rejects] == [
        (1, "user_input is missing or null"), (2, "model_response is missing or null"),
        (3, "user_input is a number")]


def test_one_megabyte_texts_come_out_whole(project):
    big_q, big_a = "问" * 350_000, "a" * 1_048_576
    build_and_rejects(project, [record(1, user_input=big_q, model_response=f"  {big_a}\n")])
    [sample] = project.read_json("high_quality_samples.json")
    assert (sample["instruction"], sample["output"]) == (big_q, big_a)


RATINGS = {  # JSON text of the rating (None: no rating key) -> the rating it means (None: rejected)
    "5": 5, "5.0": 5, '"5"': 5, '"5.0"': 5, '" 5"': 5, '"4 "': 4, "1": 1, "3": 3,
    "null": None, None: None, "4.5": None, "0": None, "6": None, "-1": None, "true": None,
    "[5]": None, '{"v": 5}': None, '"five"': None, '""': None, '"1e0"': None,
}


def test_ten_thousand_records_with_every_rating_shape(project):
    shapes = list(RATINGS)
    records = []
    for n in range(1, 10_001):
        shape = shapes[n % len(shapes)]
        body = text(n, rating=...)[:-1]
        records.append(body + ("}" if shape is None else f', "rating": {shape}}}'))
    accounting, rejects = build_and_rejects(project, log(*records))
    expected_bad = [n for n in range(1, 10_001) if RATINGS[shapes[n % len(shapes)]] is None]
    assert [p for p, _, _ in rejects] == expected_bad
    assert {reason for _, reason, _ in rejects} == {"invalid_rating"}
    assert (accounting["read"], accounting["rejected"], accounting["valid"]) == (
        10_000, len(expected_bad), 10_000 - len(expected_bad))
    details = {shapes[p % len(shapes)]: d for p, _, d in rejects}
    assert details[None] == details["null"] == "rating is missing or null"
    assert details['{"v": 5}'] == 'rating {"v":5} is not an integer from 1 to 5'
    assert details['"five"'] == 'rating "five" is not an integer from 1 to 5'
    ratings = dict(project.query("select position, rating from stg_feedback"))
    assert all(ratings[n] == RATINGS[shapes[n % len(shapes)]] for n in ratings)


def test_numeric_ids_and_ids_repeated_with_other_content(project):
    records = [text(1, id=42), text(2, id=42, user_input="其他"), text(3, id="42"), text(4, id=4.5),
               text(5, id=None), text(6, id=None)]
    accounting, rejects = build_and_rejects(project, log(*records))
    assert rejects == [(2, "duplicate", "repeats record 1 (same id)"),
                       (3, "duplicate", "repeats record 1 (same id)")]
    assert [s["feedback_id"] for s in project.read_json("high_quality_samples.json")][:2] == ["42", "4.5"]


def test_unknown_fields_even_repeated_are_ignored(project):
    accounting, rejects = build_and_rejects(project, log(text(1)[:-1] + ', "extra": 1, "extra": 2}'))
    assert (accounting["samples"], rejects) == (1, [])


HOSTILE_NAMES = {  # model name -> the file name part it becomes
    'say "hi"': "say _hi_", "a/b": "a_b", "..": "__", "../../etc/passwd": "___.._etc_passwd",
    "qwen:7b": "qwen_7b", "my model": "my model", "甄嬛🙂": "甄嬛🙂", "CON": "_CON", "a\\b<c>|?*": "a_b_c____",
    "{{ 7*7 }}": "{{ 7_7 }}", "'; drop table x; --": "'; drop table x; --",
}


@pytest.mark.parametrize("name", [*HOSTILE_NAMES, "x" * 300, "🙂" * 300])
def test_hostile_model_names_are_data_and_safe_file_names(project, name):
    project.write_log([record(1, model_name=name), record(2, model_name="other")])
    project.invoke("build")
    assert [s["model_name"] for s in project.read_json("high_quality_samples.json")] == [name, "other"]
    def everything() -> set:
        return {p for p in project.root.parent.rglob("*") if p.is_file()}

    before = everything()
    project.invoke("build", "--model-name", name)
    written = everything() - before  # the three files of that model, in output_dir, nothing else
    assert len(written) == 3 and all(p.parent == project.out for p in written)
    for path in written:
        assert not set(path.name) & set(':*?"<>|/\\') and len(path.name.encode()) <= 255
    path = next(p for p in written if p.name.endswith("_samples.json"))
    if name in HOSTILE_NAMES:
        assert path.name == HOSTILE_NAMES[name] + "_samples.json"
    assert project.read_json(path.name)[0]["model_name"] == name
    assert project.query("select count(*) from stg_feedback") == [(2,)]
