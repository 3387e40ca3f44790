"""One set of rules for every format (README, One set of rules): what a user drops, holds for
review or for validation is trained on by no file of any format; --new-only remembers per format;
history is context, never a target; the engine finds what it needs by the models' declarations."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from conftest import record
from test_loop import review_csv, write_decisions

EVERY_FORMAT = ["json", "jsonl", "alpaca", "sharegpt", "openai", "prompt_completion", "dpo", "kto"]
FILES = ["high_quality_samples", "high_quality_samples.jsonl", "alpaca_format_samples",
         "sharegpt_format_samples", "openai_format_samples.jsonl", "prompt_completion_samples.jsonl",
         "dpo_pairs.jsonl", "dpo_pairs_alpaca", "dpo_pairs_openai.jsonl", "kto_samples.jsonl"]
VAL_RATIO = 0.5


def is_val(session: str) -> bool:
    """The split rule, computed apart from fbt: md5 of the session below val_ratio is validation."""
    return int(hashlib.md5(session.encode()).hexdigest()[:8], 16) / 2**32 < VAL_RATIO


def session(val: bool, skip: int = 0) -> str:
    """The skip-th session name s0, s1, ... that falls in validation (val) or in training."""
    found = [f"s{i}" for i in range(100) if is_val(f"s{i}") == val]
    return found[skip]


TRAIN, TRAIN2, VAL = session(False), session(False, 1), session(True)


def turn(n: int, sess: str, minute: int, prompt: str, reply: str, rating: int) -> dict:
    return record(n, session_id=sess, timestamp=f"2025-07-20T10:{minute:02d}:00.000000",
                  user_input=prompt, model_response=reply, rating=rating)


def story_log() -> list[dict]:
    """Every reply's text names what should happen to it."""
    return [
        turn(1, TRAIN, 0, "你好", "训练-好-保留", 5),           # kept in review: a good answer everywhere
        turn(2, TRAIN, 1, "你好", "训练-差", 1),                # bad: rejected / undesirable, no review needed
        turn(3, TRAIN, 2, "你好", "训练-丢弃", 4),              # dropped in review: in no file at all
        turn(4, TRAIN, 3, "你喜欢什么花？", "训练-待改", 5),     # kept, corrected by the reviewer
        turn(5, TRAIN, 4, "你喜欢什么花？", "训练-差-花", 1),
        turn(6, TRAIN2, 0, "你好", "训练-好-未审", 5),          # nobody reviewed it: no positive target
        turn(7, VAL, 0, "你好", "验证-好-保留", 5),             # validation session: in no train file
        turn(8, VAL, 1, "你好", "验证-差", 1),
        turn(9, VAL, 2, "讲个笑话", "验证-笑话", 5),
    ]


def decide(project, tmp_path, decisions: dict[int, tuple[str, str]]) -> None:
    """Review in a spreadsheet: keep or drop by record number, with a corrected reply."""
    path = tmp_path / "review.csv"
    write_decisions(path, review_csv(project, path), {record(n)["id"]: d for n, d in decisions.items()})
    project.invoke("review", "import", str(path))


def file_texts(project, name: str) -> str:
    return (project.out / name).read_text(encoding="utf-8")


def split_name(stem: str, split: str) -> str:
    base, _, suffix = stem.partition(".")
    return f"{base}_{split}.{suffix or 'json'}"


def rows(project, name: str) -> list:
    text = file_texts(project, name)
    return [json.loads(line) for line in text.splitlines()] if name.endswith(".jsonl") else json.loads(text)


def contents(row) -> list[str]:
    """Every text content of a row, wherever it sits (messages, conversations, fields)."""
    if isinstance(row, str):
        return [row]
    if isinstance(row, dict):
        return [t for v in row.values() for t in contents(v)]
    if isinstance(row, list):
        return [t for v in row for t in contents(v)]
    return []


@pytest.fixture
def reviewed(project, tmp_path):
    """The story log, reviewed: 1 and 4 kept (4 corrected), 3 dropped, 7 and 9 kept; 6 left."""
    project.write_log(story_log())
    project.invoke("build", "--var", "min_rating=1")  # to put every reply up for review
    decide(project, tmp_path, {1: ("keep", ""), 3: ("drop", ""), 4: ("keep", "训练-已改"),
                               7: ("keep", ""), 9: ("keep", "")})
    shutil.rmtree(project.out)  # the files of that first build
    return project


def test_nothing_dropped_unreviewed_or_held_for_validation_is_trained_on(reviewed):
    project = reviewed
    result = project.invoke("build", "--format", *EVERY_FORMAT, "--var", f"val_ratio={VAL_RATIO}",
                            "--var", "export_unreviewed=false", "--var", "with_history=true",
                            "--var", "min_gap=1")
    assert ("valid: 9 = samples 4 + below_min_rating 3 + other_model 0 + awaiting_review 1 + "
            "dropped_in_review 1") in result.stdout
    written = {p.name for p in project.out.iterdir()}
    for stem in FILES:  # every format is split
        assert {split_name(stem, "train"), split_name(stem, "val")} <= written, stem
    train = {stem: rows(project, split_name(stem, "train")) for stem in FILES}
    val = {stem: rows(project, split_name(stem, "val")) for stem in FILES}
    everything = " ".join(file_texts(project, name) for name in written)

    # A reply dropped in review is in no file of any format, not even as history.
    assert "训练-丢弃" not in everything
    # No reply of a validation session is in any train file of any format.
    for stem, samples in train.items():
        assert not [t for t in contents(samples) if t.startswith("验证")], stem
    # ... and the validation files hold only validation sessions.
    for stem, samples in val.items():
        assert not [t for t in contents(samples) if t.startswith("训练")], stem

    # Good answers (SFT outputs, DPO chosen, KTO true) passed review: never 6; 4 as corrected.
    sft_outputs = [s["output"] for s in train["alpaca_format_samples"]]
    assert sft_outputs == ["训练-好-保留", "训练-已改"]
    chosen = [p["chosen"][0]["content"] for p in train["dpo_pairs.jsonl"]]
    rejected = [p["rejected"][0]["content"] for p in train["dpo_pairs.jsonl"]]
    assert chosen == ["训练-好-保留", "训练-已改"] and rejected == ["训练-差", "训练-差-花"]
    kto = [(r["completion"][0]["content"], r["label"]) for r in train["kto_samples.jsonl"]]
    assert kto == [("训练-好-保留", True), ("训练-差", False), ("训练-已改", True), ("训练-差-花", False)]
    assert "训练-好-未审" not in everything
    # (the corrected reply's original, "训练-待改", is never a target: the lists above; as history it is
    # what the user saw, so it is the context of the later turns of its session)
    assert [(r["completion"][0]["content"], r["label"]) for r in val["kto_samples.jsonl"]] == [
        ("验证-好-保留", True), ("验证-差", False), ("验证-笑话", True)]
    info = json.loads(file_texts(project, "dataset_info.json"))
    for stem in ("alpaca_format_samples", "sharegpt_format_samples", "openai_format_samples.jsonl",
                 "dpo_pairs_alpaca"):
        assert {split_name(stem, "train"), split_name(stem, "val")} <= set(info), stem


def test_pairs_are_made_within_a_split(project):
    project.write_log([turn(1, TRAIN, 0, "你好", "训练-好", 5), turn(2, VAL, 0, "你好", "验证-差", 1),
                       turn(3, TRAIN, 1, "花", "训练-好-花", 5), turn(4, TRAIN2, 0, "花", "训练-差-花", 1),
                       turn(5, VAL, 1, "你好", "验证-好", 4)])
    project.invoke("build", "--format", "dpo_trl", "--var", f"val_ratio={VAL_RATIO}")
    assert [(p["chosen"][0]["content"], p["rejected"][0]["content"])
            for p in rows(project, "dpo_pairs_train.jsonl")] == [("训练-好-花", "训练-差-花")]
    assert [(p["chosen"][0]["content"], p["rejected"][0]["content"])
            for p in rows(project, "dpo_pairs_val.jsonl")] == [("验证-好", "验证-差")]


def test_history_is_context_never_a_target(reviewed):
    project = reviewed
    project.invoke("build", "--format", "openai", "prompt_completion", "sharegpt", "kto", "kto_sharegpt",
                   "--var", "with_history=true", "--var", "min_rating=4")
    openai = rows(project, "openai_format_samples.jsonl")
    # record 4 (kept, corrected) comes after 1, 2 and 3 in its session; 3 was dropped: no history.
    last = openai[1]["messages"]
    assert [(m["role"], m["content"], m.get("weight")) for m in last] == [
        ("user", "你好", None), ("assistant", "训练-好-保留", 0),
        ("user", "你好", None), ("assistant", "训练-差", 0),
        ("user", "你喜欢什么花？", None), ("assistant", "训练-已改", None)]
    assert "weight" not in last[-1]  # the rated reply is the target (OpenAI's default weight 1)
    completion = rows(project, "prompt_completion_samples.jsonl")[1]
    assert [m["content"] for m in completion["prompt"]] == ["你好", "训练-好-保留", "你好", "训练-差", "你喜欢什么花？"]
    assert completion["completion"] == [{"role": "assistant", "content": "训练-已改"}]
    assert "训练-丢弃" not in file_texts(project, "sharegpt_format_samples.json")
    # KTO rows (TRL's and LLaMA-Factory's) carry the same history before the rated reply
    kto = {r["completion"][0]["content"]: r for r in rows(project, "kto_samples.jsonl")}
    assert [m["content"] for m in kto["训练-已改"]["prompt"]] == ["你好", "训练-好-保留", "你好", "训练-差", "你喜欢什么花？"]
    lf = {r["messages"][-1]["content"]: r for r in rows(project, "kto_sharegpt_samples.json")}
    assert lf["训练-已改"]["messages"] == kto["训练-已改"]["prompt"] + kto["训练-已改"]["completion"]


def test_new_only_remembers_per_format(project, tmp_path):
    project.write_log([record(1), record(2)])
    project.invoke("build", "--new-only", "--format", "kto")
    result = project.invoke("build", "--new-only", "--format", "json")  # kto's rows are new for json
    [json_file] = [p for p in project.out.glob("high_quality_samples_*.json")]
    assert [s["feedback_id"] for s in json.loads(json_file.read_text())] == [record(1)["id"], record(2)["id"]]
    project.write_log([record(1), record(2), record(3)])
    before = set(project.out.iterdir())
    result = project.invoke("build", "--new-only", "--format", "json", "kto")
    assert "already_exported 2: left out, written before as json" in result.stdout
    assert "already_exported 2: left out, written before as kto" in result.stdout
    [newest] = [p for p in project.out.glob("high_quality_samples_*.json") if p not in before]
    assert [s["feedback_id"] for s in json.loads(newest.read_text())] == [record(3)["id"]]


def test_a_state_file_from_before_counts_for_the_original_three_formats(project):
    import duckdb

    project.write_log([record(1), record(2)])
    state = project.root / "data" / "fbt_state.duckdb"
    with duckdb.connect(str(state)) as con:  # the layout of fbt before the history was per format
        con.execute("create table exported_samples (feedback_id VARCHAR NOT NULL, build_id VARCHAR NOT NULL, "
                    "exported_at TIMESTAMP NOT NULL)")
        con.execute("insert into exported_samples values (?, '20250718T190102Z', now()::TIMESTAMP)",
                    [record(1)["id"]])
    result = project.invoke("build", "--new-only", "--format", "jsonl", "kto")
    [jsonl] = project.out.glob("high_quality_samples_*.jsonl")
    [kto] = project.out.glob("kto_samples_*.jsonl")
    assert [json.loads(line)["feedback_id"] for line in jsonl.read_text().splitlines()] == [record(2)["id"]]
    assert len(kto.read_text().splitlines()) == 2
    assert "already_exported 1: left out, written before as jsonl" in result.stdout
    with duckdb.connect(str(state), read_only=True) as con:
        assert con.execute("select format, count(*) from exported_samples group by 1 order by 1").fetchall() == [
            ("alpaca", 1), ("json", 1), ("jsonl", 2), ("kto", 2)]


def test_renaming_the_eligibility_model_keeps_every_check(project):
    (project.root / "models/training_candidates.sql").rename(project.root / "models/eligibility.sql")
    for path in (project.root / "models").glob("*.sql"):
        path.write_text(path.read_text(encoding="utf-8").replace("ref('training_candidates')", "ref('eligibility')"),
                        encoding="utf-8")
    project.write_log([record(1), record(2, rating=2)])
    result = project.invoke("build")
    assert "valid: 2 = samples 1 + below_min_rating 1 + other_model 0" in result.stdout


def test_a_missing_declaration_fails_the_build_naming_it(project):
    path = project.root / "models/training_candidates.sql"
    path.write_text(path.read_text(encoding="utf-8").replace("{{ config(role='eligibility') }}", ""),
                    encoding="utf-8")
    project.write_log([record(1)])
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert "No model declares config(role='eligibility'), every valid record, with excluded_by" in result.stderr


@pytest.mark.parametrize("args, tables", [
    ([], {"feedback_log", "training_samples"}),
    (["--var", "with_history=true"], {"feedback_log", "training_samples", "chat_samples"}),
    (["--format", "dpo"], {"feedback_log", "training_samples", "preference_pairs"}),
])
def test_the_engine_stores_what_the_files_would_compute_again(project, args, tables):
    project.write_log([record(1), record(2, rating=1)])
    project.invoke("build", *args)
    assert {r[0] for r in project.query("select table_name from duckdb_tables() where schema_name = 'main'")} \
        == tables


def test_every_reply_some_format_could_train_on_is_put_up_for_review(project, tmp_path):
    """With min_rating 5, a 4 is no SFT sample but may be a KTO desirable row or a DPO chosen
    reply: under export_unreviewed=false it needs a review, so it is in the queue; a 1 is not."""
    project.write_log([record(1, rating=5), record(2, rating=4), record(3, rating=1)])
    project.invoke("build", "--min-rating", "5", "--var", "export_unreviewed=false")
    queued = [row["feedback_id"] for row in review_csv(project, tmp_path / "queue.csv")]
    assert queued == [record(1)["id"], record(2)["id"]]


def test_a_file_leaves_out_an_optional_key_its_own_rows_lack(project):
    """A --new-only alpaca file holding only base samples (no system prompt) has no "system" key."""
    project.write("data/base.json", json.dumps([{"instruction": "基础", "input": "", "output": "基础回答"}],
                                               ensure_ascii=False))
    project.write_log([record(1)])
    args = ["--new-only", "--format", "alpaca", "--var", "system_prompt=你是甄嬛。",
            "--var", "base_dataset=data/base.json"]
    project.invoke("build", *args)
    before = set(project.out.iterdir())
    project.invoke("build", *args)
    [second] = [p for p in project.out.glob("alpaca_format_samples_*.json") if p not in before]
    assert json.loads(second.read_text(encoding="utf-8")) == [{"instruction": "基础", "input": "", "output": "基础回答"}]
