"""The training formats (sharegpt, openai, dpo, kto) and dataset_info.json, on a hand-made log whose
pairs, labels and histories are known."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

QWEN, LORA = "huanhuan-qwen", "huanhuan-qwen-7b-lora"
A, B, C = "1721400000.01", "1721400500.02", "1721401000.03"
PERSONA = "你是甄嬛，说话要有宫廷韵味。"
ALL_FORMATS = ["json", "jsonl", "alpaca", "sharegpt", "openai", "dpo", "kto"]
NEW_FILES = ["sharegpt_format_samples.json", "openai_format_samples.jsonl", "dpo_pairs.jsonl",
             "dpo_pairs_alpaca.json", "dpo_pairs_openai.jsonl", "kto_samples.jsonl"]


def turn(n: int, session: str, clock: str | None, prompt: str, reply: str, rating, model: str = QWEN):
    return record(n, session_id=session, timestamp=f"2025-07-20T{clock}.000000" if clock else ...,
                  user_input=prompt, model_response=reply, rating=rating, model_name=model)


def known_log() -> list[dict]:
    """A small log with known answers (n = record id; the log order is the list order)."""
    return [
        turn(1, A, "10:00:00", "你好", "臣妾甄嬛。", 5),
        turn(2, A, "10:01:00", "你喜欢什么花？", "臣妾最爱杏花。", 4),
        turn(3, A, "10:03:00", "讲个笑话", "嗯。", 1),
        turn(4, A, "10:02:00", "今天天气如何？", "天朗气清。", 3),  # earlier than 3, later in the log
        turn(5, B, "11:00:00", "你好", "我是AI助手。", 1),
        turn(6, B, "11:01:00", "  你好\u3000", "本宫乃莞嫔。", 4),  # the same prompt once stripped
        turn(7, B, "11:02:00", "你好", "你好呀。", 3),
        turn(8, B, "11:03:00", "讲个笑话", "御膳房的公公偷吃点心，说是替皇上试毒。", 5),
        turn(9, "", "12:00:00", "你好", "臣妾在。", 2),  # no session: never history
        turn(10, C, "13:00:00", "你好", "嬛嬛在此。", 5, LORA),
        turn(11, C, "13:01:00", "你喜欢什么花？", "不知道。", 1, LORA),
        turn(12, A, "10:05:00", "你好", "（无评分）", None),  # rejected: never paired, never history
        turn(13, A, "10:06:00", "你喜欢什么花？", "杏花与海棠。", 3),
        turn(16, A, None, "没有时间", "这条没有时间戳。", 5),  # no timestamp: no history, not history
        turn(14, A, "10:07:00", "再见", "恭送。", 5),
        turn(15, "", "12:05:00", "你是谁", "甄嬛。", 5),
    ]


def build(project, *args: str):
    project.write_log(known_log())
    return project.invoke("build", "--format", *ALL_FORMATS, *args)


# ---- golden files --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, args", [
    ("formats_default", []),
    ("formats_persona_history", ["--var", f"system_prompt={PERSONA}", "--var", "with_history=true"]),
])
def test_every_format_matches_its_golden_file(project, golden, name, args):
    build(project, *args)
    golden(project.out, name)


def test_files_are_utf8_and_not_escaped(project):
    build(project, "--var", f"system_prompt={PERSONA}")
    for name in NEW_FILES:
        text = (project.out / name).read_text(encoding="utf-8")
        assert "\\u" not in text and "你好" in text, name


# ---- datasets.load_dataset -----------------------------------------------------------------------

# file -> (columns, rows) on the known log with default vars, then with system_prompt + with_history
EXPECTED_DATASETS = {
    "high_quality_samples.json": (["instruction", "input", "output", "rating", "model_name",
                                   "feedback_id", "timestamp"], 8),
    "high_quality_samples.jsonl": (["instruction", "input", "output", "rating", "model_name",
                                    "feedback_id", "timestamp"], 8),
    "alpaca_format_samples.json": (["instruction", "input", "output"], 8),
    "sharegpt_format_samples.json": (["conversations"], 8),
    "openai_format_samples.jsonl": (["messages"], 8),
    "dpo_pairs.jsonl": (["prompt", "chosen", "rejected"], 3),
    "dpo_pairs_alpaca.json": (["instruction", "input", "chosen", "rejected"], 3),
    "dpo_pairs_openai.jsonl": (["input", "preferred_output", "non_preferred_output"], 3),
    "kto_samples.jsonl": (["prompt", "completion", "label"], 12),
}
WITH_SYSTEM_AND_HISTORY = {
    "alpaca_format_samples.json": ["instruction", "input", "output", "system", "history"],
    "sharegpt_format_samples.json": ["conversations", "system"],
    "dpo_pairs_alpaca.json": ["instruction", "input", "chosen", "rejected", "system", "history"],
}
# with history, replies are paired within a session: of the known log's pairs, one is a regeneration
PAIRS_WITH_HISTORY = {"dpo_pairs.jsonl": 1, "dpo_pairs_alpaca.json": 1, "dpo_pairs_openai.jsonl": 1}


def load(path: Path, cache: Path):
    datasets = pytest.importorskip("datasets")
    datasets.disable_progress_bars()
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


@pytest.mark.parametrize("persona", [False, True], ids=["default", "persona_history"])
def test_each_file_loads_in_hugging_face_datasets(project, tmp_path, monkeypatch, persona):
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    build(project, *(["--var", f"system_prompt={PERSONA}", "--var", "with_history=true"] if persona else []))
    for name, (columns, rows) in EXPECTED_DATASETS.items():
        if persona:
            columns = WITH_SYSTEM_AND_HISTORY.get(name, columns)
            rows = PAIRS_WITH_HISTORY.get(name, rows)
        dataset = load(project.out / name, tmp_path / "hf-cache")
        assert (name, dataset.column_names, dataset.num_rows) == (name, columns, rows)
    kto = load(project.out / "kto_samples.jsonl", tmp_path / "hf-cache")
    assert kto.features["label"].dtype == "bool"


# ---- preference pairs ----------------------------------------------------------------------------

def pairs(project, name: str = "dpo_pairs.jsonl") -> list[tuple[str, str, str]]:
    """(prompt, chosen, rejected) texts of the TRL file, in file order."""
    return [(p["prompt"][-1]["content"], p["chosen"][0]["content"], p["rejected"][0]["content"])
            for p in project.read_jsonl(name)]


def test_dpo_pairs_best_with_worst_same_model_gap_at_least_2(project):
    build(project)
    assert pairs(project) == [
        ("你好", "臣妾甄嬛。", "我是AI助手。"),          # 5 vs 1: the best and the worst of five
        ("讲个笑话", "御膳房的公公偷吃点心，说是替皇上试毒。", "嗯。"),  # 5 vs 1
        ("你好", "本宫乃莞嫔。", "臣妾在。"),            # 4 vs 2: the 2nd best and the 2nd worst
    ]  # 你喜欢什么花？ 4 vs 3 is below min_gap; the lora model's replies have no partner


def test_dpo_layouts_hold_the_same_pairs(project):
    build(project)
    trl = pairs(project)
    llamafactory = [(p["instruction"], p["chosen"], p["rejected"])
                    for p in project.read_json("dpo_pairs_alpaca.json")]
    openai = [(p["input"]["messages"][-1]["content"], p["preferred_output"][0]["content"],
               p["non_preferred_output"][0]["content"]) for p in project.read_jsonl("dpo_pairs_openai.jsonl")]
    assert trl == llamafactory == openai
    assert all(p["input"] == "" for p in project.read_json("dpo_pairs_alpaca.json"))


def test_cross_model_pairs_with_same_model_pairs_false(project):
    build(project, "--var", "same_model_pairs=false")
    assert pairs(project) == [
        ("你好", "臣妾甄嬛。", "我是AI助手。"),
        ("你喜欢什么花？", "臣妾最爱杏花。", "不知道。"),  # huanhuan-qwen 4 vs the lora model's 1
        ("讲个笑话", "御膳房的公公偷吃点心，说是替皇上试毒。", "嗯。"),
        ("你好", "嬛嬛在此。", "臣妾在。"),              # lora 5 vs 2; 4 vs 3 is below min_gap
    ]


def test_min_gap_and_max_pairs_per_prompt(project):
    build(project, "--var", "min_gap=1", "--var", "max_pairs_per_prompt=1")
    assert pairs(project) == [
        ("你好", "臣妾甄嬛。", "我是AI助手。"),
        ("你喜欢什么花？", "臣妾最爱杏花。", "杏花与海棠。"),  # 4 vs 3 now counts
        ("讲个笑话", "御膳房的公公偷吃点心，说是替皇上试毒。", "嗯。"),
    ]


def test_model_name_keeps_pairs_and_kto_to_that_model(project):
    build(project, "--model-name", LORA, "--var", "same_model_pairs=false")
    assert pairs(project, f"{LORA}_dpo_pairs.jsonl") == []
    kto = project.read_jsonl(f"{LORA}_kto_samples.jsonl")
    assert [(k["completion"][0]["content"], k["label"]) for k in kto] == [("嬛嬛在此。", True),
                                                                          ("不知道。", False)]


def reference_pairs(log: list[dict], min_gap: int, same_model: bool, most: int) -> list[tuple]:
    """The README's rule, in Python: group valid replies by stripped prompt (and model); rank best
    first (rating, then log order); pair the k-th best with the k-th worst while k <= n/2 and k <= most,
    keeping pairs with gap >= min_gap; order by the earlier reply's place in the log."""
    groups = defaultdict(list)
    for position, r in enumerate(log, 1):
        groups[(r["user_input"].strip(), r["model_name"] if same_model else "")].append((position, r))
    found = []
    for replies in groups.values():
        ranked = sorted(replies, key=lambda pr: (-pr[1]["rating"], pr[0]))
        for k in range(min(len(ranked) // 2, most)):
            (pc, c), (pw, w) = ranked[k], ranked[-1 - k]
            if c["rating"] - w["rating"] >= min_gap:
                found.append((min(pc, pw), c["user_input"].strip(), c["model_response"], w["model_response"]))
    return [f[1:] for f in sorted(found)]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(replies=st.lists(st.tuples(st.sampled_from(["你好", " 你好 ", "再见"]), st.sampled_from([QWEN, LORA]),
                                  st.integers(1, 5)), max_size=14),
       min_gap=st.integers(1, 4), same_model=st.booleans(), most=st.integers(1, 3))
def test_pairs_follow_the_rule_on_any_log(project, replies, min_gap, same_model, most):
    log = [record(n, user_input=p, model_name=m, rating=r, model_response=f"回答{n}")
           for n, (p, m, r) in enumerate(replies, 1)]
    project.write_log(log)  # each example a log of its own, not a continuation: --allow-shrink
    project.invoke("build", "--allow-shrink", "--format", "dpo", "--var", f"min_gap={min_gap}",
                   "--var", f"same_model_pairs={json.dumps(same_model)}",
                   "--var", f"max_pairs_per_prompt={most}")
    found = pairs(project)
    assert found == reference_pairs(log, min_gap, same_model, most)
    by_reply = {r["model_response"]: r for r in log}
    used = [reply for _, chosen, rejected in found for reply in (chosen, rejected)]
    assert len(used) == len(set(used)), "a reply is in more than one pair"
    for prompt, chosen, rejected in found:
        c, w = by_reply[chosen], by_reply[rejected]  # both came from the log
        assert c["rating"] - w["rating"] >= min_gap
        assert c["user_input"].strip() == w["user_input"].strip() == prompt
        assert not same_model or c["model_name"] == w["model_name"]


# ---- kto -----------------------------------------------------------------------------------------

def kto_labels(project) -> list[tuple[str, bool]]:
    return [(k["completion"][0]["content"], k["label"]) for k in project.read_jsonl("kto_samples.jsonl")]


def test_kto_labels_are_booleans_that_follow_the_ratings(project):
    build(project)
    text = (project.out / "kto_samples.jsonl").read_text(encoding="utf-8")
    assert '"label": true' in text and '"label": false' in text and '"true"' not in text
    ratings = {r["model_response"]: r["rating"] for r in known_log()}
    labels = kto_labels(project)
    assert all(label is (ratings[reply] >= 4) for reply, label in labels)
    assert sorted(ratings[reply] for reply, _ in labels) == [1, 1, 1, 2, 4, 4, 5, 5, 5, 5, 5, 5]  # 3s left out
    # and the valid records rated 5 are all there, the rejected one (no rating) is not
    assert "（无评分）" not in dict(labels)


def test_kto_thresholds(project):
    build(project, "--var", "kto_good=5", "--var", "kto_bad=3")
    ratings = {r["model_response"]: r["rating"] for r in known_log()}
    labels = kto_labels(project)
    assert {ratings[reply] for reply, _ in labels} == {1, 2, 3, 5}
    assert all(label is (ratings[reply] == 5) for reply, label in labels)


def test_kto_bad_must_be_below_kto_good(project):
    project.write_log(known_log())
    result = project.invoke("build", "--var", "kto_bad=4", ok=False)
    assert result.exit_code == 2
    assert result.stderr == ("Error: Invalid vars: kto_bad must be below kto_good, but kto_bad=4 (from "
                             "--var) and kto_good=4 (from pyproject.toml). Example: --var kto_bad=2 "
                             "--var kto_good=4\n")


@pytest.mark.parametrize("item", ["min_gap=0", "min_gap=5", "kto_good=6", "max_pairs_per_prompt=0",
                                  "same_model_pairs=maybe", "with_history=1", "dataset_info=yes"])
def test_out_of_range_vars_are_refused(project, item):
    project.write_log(known_log())
    result = project.invoke("build", "--var", item, ok=False)
    assert result.exit_code == 2
    assert f"Invalid value for var '{item.split('=')[0]}' (from --var)" in result.stderr


# ---- system prompt and history -------------------------------------------------------------------

def test_system_prompt_only_when_set(project):
    build(project)
    assert all(set(s) == {"conversations"} for s in project.read_json("sharegpt_format_samples.json"))
    assert all(m["messages"][0]["role"] == "user" for m in project.read_jsonl("openai_format_samples.jsonl"))
    assert all("system" not in s for s in project.read_json("alpaca_format_samples.json"))

    build(project, "--var", f"system_prompt=  {PERSONA}\n")  # stripped like the texts
    assert all(s["system"] == PERSONA for s in project.read_json("sharegpt_format_samples.json"))
    assert all(s["system"] == PERSONA for s in project.read_json("alpaca_format_samples.json"))
    assert all(s["system"] == PERSONA for s in project.read_json("dpo_pairs_alpaca.json"))
    for name, key in [("openai_format_samples.jsonl", "messages"), ("dpo_pairs.jsonl", "prompt"),
                      ("kto_samples.jsonl", "prompt")]:
        assert all(row[key][0] == {"role": "system", "content": PERSONA} for row in project.read_jsonl(name))
    assert all(row["input"]["messages"][0] == {"role": "system", "content": PERSONA}
               for row in project.read_jsonl("dpo_pairs_openai.jsonl"))


def histories(project) -> list[tuple[str, list[list[str]]]]:
    return [(s["instruction"], s["history"]) for s in project.read_json("alpaca_format_samples.json")]


def test_history_is_the_earlier_rated_turns_of_the_session_in_timestamp_order(project):
    build(project, "--var", "with_history=true")
    assert histories(project) == [
        ("你好", []),
        ("你喜欢什么花？", [["你好", "臣妾甄嬛。"]]),
        ("你好", [["你好", "我是AI助手。"]]),  # session B's first turn, rated 1: history whatever the rating
        ("讲个笑话", [["你好", "我是AI助手。"], ["你好", "本宫乃莞嫔。"], ["你好", "你好呀。"]]),
        ("你好", []),             # session C (the lora model)
        ("没有时间", []),         # no timestamp: no history
        # in timestamp order (record 4 before 3); not the rejected record 12, not record 16 (no timestamp)
        ("再见", [["你好", "臣妾甄嬛。"], ["你喜欢什么花？", "臣妾最爱杏花。"], ["今天天气如何？", "天朗气清。"],
                 ["讲个笑话", "嗯。"], ["你喜欢什么花？", "杏花与海棠。"]]),
        ("你是谁", []),           # no session id: no history, though record 9 came before it
    ]
    by_prompt = {s["conversations"][-2]["value"]: s["conversations"]
                 for s in project.read_json("sharegpt_format_samples.json")}
    assert by_prompt["讲个笑话"] == [
        {"from": "human", "value": "你好"}, {"from": "gpt", "value": "我是AI助手。"},
        {"from": "human", "value": "你好"}, {"from": "gpt", "value": "本宫乃莞嫔。"},
        {"from": "human", "value": "你好"}, {"from": "gpt", "value": "你好呀。"},
        {"from": "human", "value": "讲个笑话"}, {"from": "gpt", "value": "御膳房的公公偷吃点心，说是替皇上试毒。"}]
    openai = [m["messages"] for m in project.read_jsonl("openai_format_samples.jsonl")]
    assert [[m["content"] for m in messages] for messages in openai] == [
        [t["value"] for t in conversation]
        for conversation in [s["conversations"] for s in project.read_json("sharegpt_format_samples.json")]]
    assert all(m["role"] == ("user", "assistant")[i % 2] for messages in openai for i, m in enumerate(messages))


def test_without_with_history_there_is_no_history_key(project):
    build(project)
    assert all(set(s) == {"instruction", "input", "output"} for s in project.read_json("alpaca_format_samples.json"))
    assert all(len(s["conversations"]) == 2 for s in project.read_json("sharegpt_format_samples.json"))


# ---- format names, files and dataset_info.json ---------------------------------------------------

def test_dpo_writes_three_layouts_and_each_can_be_asked_for_alone(project, tmp_path):
    project.write_log(known_log())
    project.invoke("build", "--format", "dpo")
    assert sorted(p.name for p in project.out.iterdir()) == [
        "README.md", "dataset_info.json", "dpo_pairs.jsonl", "dpo_pairs_alpaca.json", "dpo_pairs_openai.jsonl"]
    project.invoke("build", "--format", "dpo_openai", "--output-dir", str(tmp_path / "one"))
    # nothing for LLaMA-Factory; the dataset card, for `datasets` and the Hub
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["README.md", "dpo_pairs_openai.jsonl"]


def test_unknown_format_lists_the_new_ones(project):
    project.write_log(known_log())
    result = project.invoke("build", "--format", "sharegtp", ok=False)
    assert result.exit_code == 2
    for name in ["dpo", "dpo_alpaca", "dpo_openai", "dpo_trl", "kto", "openai", "sharegpt"]:
        assert name in result.stderr


def test_model_name_names_the_new_files_after_the_model(project):
    build(project, "--model-name", QWEN)
    names = {p.name for p in project.out.iterdir()}
    assert {f"{QWEN}_sharegpt_format.json", f"{QWEN}_openai_format.jsonl", f"{QWEN}_dpo_pairs.jsonl",
            f"{QWEN}_dpo_pairs_alpaca.json", f"{QWEN}_dpo_pairs_openai.jsonl",
            f"{QWEN}_kto_samples.jsonl"} <= names
    assert set(project.read_json("dataset_info.json")) == {
        f"{QWEN}_samples.json", f"{QWEN}_samples.jsonl", f"{QWEN}_alpaca_format.json",
        f"{QWEN}_sharegpt_format.json", f"{QWEN}_openai_format.jsonl", f"{QWEN}_dpo_pairs_alpaca.json"}


# What LLaMA-Factory's dataset parser reads from an entry (data/README.md, src/llamafactory/data/parser.py)
LF_KEYS = {"file_name", "formatting", "ranking", "columns", "tags"}
LF_COLUMNS = {"alpaca": {"prompt", "query", "response", "history", "system", "tools", "images", "chosen",
                         "rejected", "kto_tag"},
              "sharegpt": {"messages", "system", "tools", "images", "chosen", "rejected", "kto_tag"}}
LF_TAGS = {"role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag",
           "system_tag"}


@pytest.mark.parametrize("args", [[], ["--var", f"system_prompt={PERSONA}", "--var", "with_history=true"]],
                         ids=["default", "persona_history"])
def test_dataset_info_registers_each_llamafactory_file_as_llamafactory_reads_it(project, args):
    build(project, *args)
    info = project.read_json("dataset_info.json")
    assert sorted(info) == ["alpaca_format_samples.json", "dpo_pairs_alpaca.json", "high_quality_samples.json",
                            "high_quality_samples.jsonl", "openai_format_samples.jsonl",
                            "sharegpt_format_samples.json"]  # TRL and OpenAI-preference files are not LLaMA-Factory's
    for name, entry in info.items():
        assert set(entry) <= LF_KEYS and entry["file_name"] == name
        path = project.out / entry["file_name"]
        rows = project.read_jsonl(path.name) if path.suffix == ".jsonl" else project.read_json(path.name)
        assert entry["ranking"] is (name == "dpo_pairs_alpaca.json")
        columns = entry["columns"]
        assert set(columns) <= LF_COLUMNS[entry["formatting"]]
        # When "columns" is given LLaMA-Factory takes an unlisted one as absent: every role it
        # needs is listed, and every column named is in every row.
        needed = {"alpaca": {"prompt", "query"} | ({"chosen", "rejected"} if entry["ranking"] else {"response"}),
                  "sharegpt": {"messages"}}[entry["formatting"]]
        assert needed <= set(columns), name
        assert all(set(columns.values()) <= set(row) for row in rows), name
        if entry["formatting"] == "sharegpt":
            tags = entry["tags"]
            assert set(tags) <= LF_TAGS
            for row in rows:
                messages = row[columns["messages"]]
                if messages[0][tags["role_tag"]] == tags["system_tag"]:
                    messages = messages[1:]
                roles = [m[tags["role_tag"]] for m in messages]
                assert roles == [tags["user_tag"], tags["assistant_tag"]] * (len(roles) // 2), name
                # besides OpenAI's "weight": 0 on earlier replies (with history), which LLaMA-Factory ignores
                assert all(set(m) - {"weight"} == {tags["role_tag"], tags["content_tag"]} for m in messages)
    with_system = bool(args)
    assert ("system" in info["sharegpt_format_samples.json"]["columns"]) is with_system
    assert ("history" in info["alpaca_format_samples.json"]["columns"]) is with_system


def test_dataset_info_is_not_written_by_the_original_formats_alone(project):
    project.write_log(known_log())
    project.invoke("build")
    assert not (project.out / "dataset_info.json").exists()
    project.invoke("build", "--var", "dataset_info=always")
    assert set(project.read_json("dataset_info.json")) == {
        "high_quality_samples.json", "high_quality_samples.jsonl", "alpaca_format_samples.json"}


def test_dataset_info_never(project):
    build(project, "--var", "dataset_info=never")
    assert not (project.out / "dataset_info.json").exists()


def test_dataset_info_keeps_entries_of_your_own(project):
    project.out.mkdir(parents=True)
    mine = {"my_data": {"file_name": "my_data.json"}, "sharegpt_format_samples.json": {"file_name": "old"}}
    (project.out / "dataset_info.json").write_text(json.dumps(mine), encoding="utf-8")
    build(project)
    info = project.read_json("dataset_info.json")
    assert info["my_data"] == {"file_name": "my_data.json"}
    assert info["sharegpt_format_samples.json"]["file_name"] == "sharegpt_format_samples.json"


def test_unreadable_dataset_info_stops_the_build_and_keeps_the_old_files(project):
    project.out.mkdir(parents=True)
    (project.out / "dataset_info.json").write_text("{not json", encoding="utf-8")
    project.write_log(known_log())
    result = project.invoke("build", "--format", "sharegpt", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: data/training_samples/dataset_info.json: cannot read it as JSON")
    assert result.stderr.rstrip().endswith("fix or remove it, or pass --var dataset_info=never")
    assert [p.name for p in project.out.iterdir()] == ["dataset_info.json"]


def test_dataset_info_leaves_out_empty_files(project):
    build(project)
    assert "dpo_pairs_alpaca.json" in project.read_json("dataset_info.json")
    project.write_log([r for r in known_log() if r["rating"] != 1])  # without the 1s, no gap of 4
    project.invoke("build", "--allow-shrink", "--format", *ALL_FORMATS, "--var", "min_gap=4")
    assert project.read_json("dpo_pairs_alpaca.json") == []
    info = project.read_json("dataset_info.json")
    assert "dpo_pairs_alpaca.json" not in info and "sharegpt_format_samples.json" in info


# ---- the dataset card, LLaMA-Factory's KTO file, small files -------------------------------------

def test_every_config_of_the_dataset_card_loads_with_datasets(project):
    """`datasets.load_dataset(output_dir, config)` for every format and split of a full build."""
    import datasets

    project.write_log(known_log())
    result = project.invoke("build", "--format", *ALL_FORMATS, "prompt_completion", "kto_sharegpt",
                            "dpo_sharegpt", "--var", "val_ratio=0.3", "--var", "dataset_license=cc-by-4.0")
    card = (project.out / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nconfigs:\n") and 'license: "cc-by-4.0"' in card
    assert 'language:\n- "zh"\n' in card  # found in the samples (the known log is Chinese)
    configs = re.findall(r'- config_name: "(\w+)"', card)
    assert "json" in configs and "kto_sharegpt" in configs and "wrote the dataset card" in result.stdout
    for config in configs:
        loaded = datasets.load_dataset(str(project.out), config)
        assert set(loaded) <= {"train", "validation"} and "train" in loaded, config
        assert all(rows.num_rows > 0 for rows in loaded.values()), config


def test_a_readme_that_fbt_did_not_write_is_never_overwritten(project):
    project.write_log(known_log())
    project.write("data/training_samples/README.md", "# our own notes\n")
    result = project.invoke("build", "--format", "kto")
    assert (project.out / "README.md").read_text(encoding="utf-8") == "# our own notes\n"
    assert "warning: README.md in the output dir was not written by fbt" in result.stdout


def test_llamafactory_kto_file_has_messages_and_a_boolean_kto_tag(project):
    project.write_log(known_log())
    project.invoke("build", "--format", "kto", "kto_sharegpt", "--var", f"system_prompt={PERSONA}")
    trl = project.read_jsonl("kto_samples.jsonl")
    lf = project.read_json("kto_sharegpt_samples.json")
    assert [row["messages"] for row in lf] == [row["prompt"] + row["completion"] for row in trl]
    assert [row["kto_tag"] for row in lf] == [row["label"] for row in trl]
    entry = project.read_json("dataset_info.json")["kto_sharegpt_samples.json"]
    assert entry["columns"] == {"messages": "messages", "kto_tag": "kto_tag"} and entry["formatting"] == "sharegpt"


def test_small_and_empty_files_are_said(project):
    project.write_log([record(1, rating=5)])
    result = project.invoke("build", "--format", "openai", "dpo_trl")
    assert "warning: data/training_samples/openai_format_samples.jsonl has 1 rows; the service it is for " \
           "takes at least 10" in result.stdout
    assert "wrote 0 pairs to data/training_samples/dpo_pairs.jsonl (empty: valid, but `datasets` and the " \
           "trainers cannot load it, so it is not registered)" in result.stdout
    assert "dpo_trl" not in (project.out / "README.md").read_text(encoding="utf-8")


def test_the_summary_gives_the_kto_weight_trl_asks_for(project):
    project.write_log(known_log())
    result = project.invoke("build", "--format", "kto")
    labels = [row["label"] for row in project.read_jsonl("kto_samples.jsonl")]
    desirable, undesirable = labels.count(True), labels.count(False)
    figures = json.loads((project.root / "target/run_results.json").read_text())["figures"]["kto"]
    assert (figures["desirable"], figures["undesirable"]) == (desirable, undesirable)
    weight = figures["TRL desirable_weight"]
    assert 1 <= weight * desirable / undesirable <= 4 / 3  # TRL's KTOTrainer asks for this range
    assert f"kto: desirable {desirable}, undesirable {undesirable}, TRL desirable_weight {weight}" in result.stdout


def test_with_history_pairs_are_regenerations_in_a_session_with_its_history(project):
    project.write_log([
        turn(1, A, "10:00:00", "你好", "臣妾甄嬛。", 5),
        turn(2, A, "10:01:00", "你喜欢什么花？", "臣妾最爱杏花。", 5),
        turn(3, A, "10:02:00", "你喜欢什么花？", "不知道。", 1),        # regenerated, rated 1
        turn(4, B, "11:00:00", "你喜欢什么花？", "花都好。", 1),          # another session: not paired
    ])
    project.invoke("build", "--format", "dpo", "dpo_sharegpt", "--var", "with_history=true")
    [lf] = project.read_json("dpo_pairs_sharegpt.json")
    assert lf == {"conversations": [{"from": "human", "value": "你好"}, {"from": "gpt", "value": "臣妾甄嬛。"},
                                    {"from": "human", "value": "你喜欢什么花？"}],
                  "chosen": {"from": "gpt", "value": "臣妾最爱杏花。"}, "rejected": {"from": "gpt", "value": "不知道。"}}
    [trl] = project.read_jsonl("dpo_pairs.jsonl")
    assert [m["content"] for m in trl["prompt"]] == ["你好", "臣妾甄嬛。", "你喜欢什么花？"]
    [alpaca] = project.read_json("dpo_pairs_alpaca.json")
    assert alpaca["history"] == [["你好", "臣妾甄嬛。"]]
    entry = project.read_json("dataset_info.json")["dpo_pairs_sharegpt.json"]
    assert entry["ranking"] is True and entry["columns"]["messages"] == "conversations"
