"""The base set (--var base_dataset=PATH) is checked like the log: a file that is not Alpaca records
stops the build with one line (the file, the record, what was found, the shape expected) and
touches nothing; an Alpaca record that cannot be trained on is rejected with a reason into
rejected_base, is in no file, and is counted: base records read = merged + rejected."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest
from conftest import record

EXPECTED = ('; expected Alpaca records {"instruction": "...", "input": "...", "output": "..."}, in a '
            'JSON array (.json) or one per line (.jsonl); fix the file or use another')
SHAREGPT = {"conversations": [{"from": "human", "value": "你好"}, {"from": "gpt", "value": "臣妾在。"}]}
GOOD = {"instruction": "请介绍", "input": "", "output": "臣妾甄嬛。"}


def lines(*records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def indented(*records) -> str:
    return json.dumps(list(records), ensure_ascii=False, indent=2)


# name: (file name, its text, the line a user sees after "Error: <file>: ", before EXPECTED)
STOPS = {
    "ShareGPT": ("sharegpt.json", indented(SHAREGPT),
                 'line 2, column 3 (record 1): record 1 is not an Alpaca record: it has "conversations" '
                 'but neither "instruction" nor "output" (it looks like ShareGPT)'),
    "ShareGPT as JSON lines, after good records": (
        "sharegpt.jsonl", lines(GOOD, GOOD, SHAREGPT),
        'line 3, column 1 (record 3): record 3 is not an Alpaca record: it has "conversations" but '
        'neither "instruction" nor "output" (it looks like ShareGPT)'),
    "OpenAI chat": ("chat.jsonl", lines({"messages": [{"role": "user", "content": "你好"}]}),
                    'line 1, column 1 (record 1): record 1 is not an Alpaca record: it has "messages" '
                    'but neither "instruction" nor "output" (it looks like OpenAI chat)'),
    "the feedback log itself": ("user_feedback.json", indented(record(1)),
                                'line 2, column 3 (record 1): record 1 is not an Alpaca record: it has '
                                '"id", "timestamp", "session_id", "model_name", "user_input" and 6 more '
                                'but neither "instruction" nor "output" (it looks like the feedback log)'),
    "records with none of the keys": ("pairs.json", indented(GOOD, {"prompt": "a", "completion": "b"}),
                                      'line 7, column 3 (record 2): record 2 is not an Alpaca record: it '
                                      'has "prompt", "completion" but neither "instruction" nor "output"'),
    "an empty record": ("empty_record.jsonl", lines(GOOD, {}),
                        "line 2, column 1 (record 2): record 2 is not an Alpaca record: it is an empty "
                        "object {}"),
    "a JSON object": ("object.json", json.dumps(GOOD, ensure_ascii=False),
                      "line 1, column 1: expected a JSON array of records ([...]), found an object"),
    "an array of non-objects": ("strings.json", '["请介绍", "臣妾甄嬛。"]',
                                "line 1, column 2 (record 1): record 1 is a string, not an object {...}"),
    "not JSON": ("notes.json", "请介绍: 臣妾甄嬛。\n", "line 1, column 1: expected a JSON array of records "
                                                  "([...]), found text starting '请介绍: 臣妾甄嬛。'"),
    "cut short": ("cut.json", indented(GOOD, GOOD)[:-30],
                  "line 9, column 14 (record 2): the file ends inside this record; it was probably cut "
                  "short"),
    "JSON lines cut short": ("cut.jsonl", lines(GOOD, GOOD)[:-20],
                             f"line 2, column {len(lines(GOOD)) - 19} (record 2): the file ends inside "
                             f"this record; it was probably cut short"),
    "a record split over lines": ("split.jsonl", lines(GOOD) + '{"instruction": "a",\n"output": "b"}\n',
                                  "line 2, column 21 (record 2): the line ends inside this record (one "
                                  "record per line); it was cut short or split"),
    "an empty file": ("empty.json", "", "line 1, column 1: the file holds no JSON value (it is empty or "
                                        "only white space)"),
    "not UTF-8": ("gbk.json", "", "line 1, column 19 (record 1): byte 0xc7 is not UTF-8 (the base set "
                                  "must be UTF-8)"),
    "gzip-compressed ShareGPT": ("sharegpt.json.gz", indented(SHAREGPT),
                                 'line 2, column 3 (record 1): record 1 is not an Alpaca record: it has '
                                 '"conversations" but neither "instruction" nor "output" (it looks like '
                                 'ShareGPT)'),
}


def write_base(project, name: str, text: str) -> str:
    path = project.root / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if name == "gbk.json":
        path.write_bytes(json.dumps([GOOD], ensure_ascii=False).encode("gbk"))
    elif name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def digest(project) -> dict[str, str]:
    files = [*project.out.iterdir(), project.db, project.root / "target" / "run_results.json"]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.parametrize("name", list(STOPS))
def test_a_base_set_that_is_not_alpaca_records_stops_with_one_line_and_touches_nothing(project, name):
    project.write_log([record(1), record(2)])
    project.invoke("build")
    before = digest(project)
    file_name, text, where = STOPS[name]
    path = write_base(project, file_name, text)
    result = project.invoke("build", "--var", f"base_dataset={path}", ok=False)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {path}: {where}{EXPECTED}\n"
    assert digest(project) == before


def test_a_missing_base_set_names_the_var(project):
    project.write_log([record(1)])
    result = project.invoke("build", "--var", "base_dataset=data/nope.json", ok=False)
    assert (result.exit_code, result.stderr) == (1, (
        f"Error: {project.root / 'data' / 'nope.json'}: no such file (source 'base'); pass the path of "
        f"an Alpaca JSON or JSONL file with --var base_dataset=PATH\n"))


BASE = [  # (record, why it is rejected: (reason, detail), or None: merged)
    ({"instruction": "你好", "input": "", "output": "臣妾是甄嬛。"}, None),
    ({"instruction": 5, "output": ["x"]}, ("empty_instruction", "instruction is a number")),
    ({"instruction": "", "input": "", "output": "b"}, ("empty_instruction", "instruction is blank")),
    ({"instruction": " \u3000\n", "output": "b"}, ("empty_instruction", "instruction is blank")),
    ({"output": "只有回答"}, ("empty_instruction", "instruction is missing or null")),
    ({"instruction": "只有问题"}, ("empty_output", "output is missing or null")),
    ({"instruction": "问", "output": None}, ("empty_output", "output is missing or null")),
    ({"instruction": "问", "output": "\t"}, ("empty_output", "output is blank")),
    ({"instruction": "问", "output": {"text": "答"}}, ("empty_output", "output is an object")),
    ({"instruction": "问题 3", "input": 3, "output": "回答 3"}, ("invalid_input", "input is a number, not text")),
    ({"instruction": "问", "input": ["上文"], "output": "答"}, ("invalid_input", "input is an array, not text")),
    ({"instruction": "  请介绍 ", "input": None, "output": "臣妾甄嬛。\n", "extra": 1}, None),
    ({"instruction": "请继续", "output": "是。"}, None),
]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_base_records_that_cannot_be_trained_on_are_rejected_and_counted(project, suffix):
    records = [r for r, _ in BASE]
    text = indented(*records) if suffix == ".json" else lines(*records)
    path = write_base(project, f"base{suffix}", text)
    # record 3 of the log repeats a rejected base record (input 3): it is no duplicate of the base set
    project.write_log([record(1), record(2, user_input="你好", model_response="臣妾是甄嬛。"), record(3)])
    result = project.invoke("build", "--var", f"base_dataset={path}")
    merged = [{"instruction": r["instruction"], "input": r.get("input") or "", "output": r["output"]}
              for r, why in BASE if why is None]
    new = [{"instruction": f"问题 {n}", "input": "", "output": f"回答 {n}"} for n in (1, 3)]
    assert project.read_json("alpaca_format_samples.json") == merged + new
    for name in ("high_quality_samples.json", "high_quality_samples.jsonl"):
        rows = project.read_jsonl(name) if name.endswith("l") else project.read_json(name)
        assert [(r["instruction"], r["output"]) for r in rows] == [(r["instruction"], r["output"])
                                                                    for r in merged + new]
    rejected = [(n, *why) for n, (_, why) in enumerate(BASE, 1) if why]
    assert project.query("select position, reason, detail from rejected_base order by position") == rejected
    assert project.query("select input from rejected_base where position = 10") == [("3",)]
    # read once (the engine stores a model the files read that reads a file), so it is a table
    assert project.query("select count(*) from duckdb_tables() where table_name = 'base_records'") == [(1,)]
    assert "base records read: 13 = merged 3 + rejected 10\n" in result.stdout
    assert "  rejected by reason: empty_instruction 4, empty_output 4, invalid_input 2\n" in result.stdout
    assert "merged: base 3, new 2, duplicates of base left out 1, total 5" in result.stdout
    accounting = json.loads((project.root / "target" / "run_results.json").read_text())["accounting"]
    assert accounting["base"] == {"read": 13, "merged": 3, "rejected": 10, "rejected_by_reason": {
        "empty_instruction": 4, "empty_output": 4, "invalid_input": 2}}


def test_without_a_base_set_the_summary_has_no_base_line(project):
    project.write_log([record(1)])
    result = project.invoke("build")
    assert "base records" not in result.stdout
    assert json.loads((project.root / "target" / "run_results.json").read_text())["accounting"]["base"] is None


def test_an_empty_base_set_is_counted(project):
    project.write_log([record(1)])
    path = write_base(project, "base.json", "[]")
    result = project.invoke("build", "--var", f"base_dataset={path}")
    assert "base records read: 0 = merged 0 + rejected 0\n  rejected by reason: none\n" in result.stdout


def test_the_data_tests_keep_an_empty_base_text_out_of_every_file(project):
    """An analyst's edit that lets blank outputs through is stopped by base_samples' data tests."""
    model = project.root / "models" / "base_records.sql"
    sql = model.read_text(encoding="utf-8")
    model.write_text(sql.replace("when coalesce({{ strip_text('output_text') }}, '') = '' then 'empty_output'",
                                 ""), encoding="utf-8")
    path = write_base(project, "base.json", indented(GOOD, {"instruction": "问", "output": "\u3000"}))
    project.write_log([record(1)])
    result = project.invoke("build", "--var", f"base_dataset={path}", ok=False)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == ("Error: data test not_empty_base_samples_output (models/base_samples.sql) "
                             "failed: 1 failing row(s), e.g. position=0, instruction='问', input='', "
                             "output='\\u3000', same_prompt='问', same_output=''; nothing was exported\n")
    assert not project.out.exists()


def test_a_base_model_that_drops_records_fails_the_accounting(project):
    model = project.root / "models" / "base_samples.sql"
    model.write_text(model.read_text(encoding="utf-8").replace("where reason is null",
                                                               "where reason is null limit 1"),
                     encoding="utf-8")
    path = write_base(project, "base.json", indented(GOOD, GOOD))
    project.write_log([record(1)])
    result = project.invoke("build", "--var", f"base_dataset={path}", ok=False)
    assert result.exit_code == 1
    assert result.stderr == ("Error: Accounting does not add up: base read 2 != merged 1 + rejected 0. "
                             "A model drops or repeats records; check its WHERE and JOINs\n")


def test_a_json_lines_log_cut_short_is_described_as_json_lines(project):
    """The log's diagnosis reads JSON lines too (the base set's check shares it)."""
    text = lines(record(1), record(2))
    project.write("data/user_feedback.jsonl", text[:-20])
    result = project.invoke("build", "--feedback-file", "data/user_feedback.jsonl", ok=False)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {project.root / 'data' / 'user_feedback.jsonl'}: line 2, column "
                             f"{len(lines(record(2))) - 19} (record 2): the file ends inside this record; "
                             f"it was probably cut short; fix the log and build again (an empty log is "
                             f"written as [])\n")



def test_a_base_record_larger_than_the_readers_default_is_merged_whole(project):
    output = "臣妾" * (6 * 1024 * 1024) + " the end"  # 36 MiB of UTF-8: over what the reader takes
    path = write_base(project, "base.jsonl", lines(GOOD, {"instruction": "写一部长篇小说", "output": output}))
    project.write_log([record(1)])
    result = project.invoke("build", "-q", "--format", "alpaca", "--var", f"base_dataset={path}")
    assert "base records read: 2 = merged 2 + rejected 0" in result.stdout
    assert [s["output"] for s in project.read_json("alpaca_format_samples.json")] == [
        GOOD["output"], output, "回答 1"]
