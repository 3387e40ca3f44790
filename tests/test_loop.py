"""The feedback loop: incremental builds, review decisions, merge with the base set, dedup, splits,
redaction. Each test builds a hand-made log whose answer is known."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import random

import pytest
from conftest import record

GATED = ("--var", "export_unreviewed=false")  # only samples kept in review reach a file


def new_files(project, before: set[str]) -> dict[str, list]:
    """The files a build added to the output dir, by name, read as JSON."""
    added = sorted({p.name for p in project.out.iterdir()} - before)
    return {name: project.read_jsonl(name) if name.endswith(".jsonl") else project.read_json(name)
            for name in added}


def names(project) -> set[str]:
    return {p.name for p in project.out.iterdir()} if project.out.exists() else set()


def build(project, *args):
    before = names(project)
    result = project.invoke("build", *args)
    return result, new_files(project, before)


@contextlib.contextmanager
def any_length():
    """csv reads fields of any length meanwhile (only: fbt must not rely on the test's setting)."""
    limit = csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def review_csv(project, path):
    project.invoke("review", "export", "-o", str(path))
    with path.open(encoding="utf-8-sig", newline="") as f, any_length():
        return list(csv.DictReader(f))


def write_decisions(path, rows, decisions: dict[str, tuple[str, str]]):
    """Fill in decision and corrected_output, as a reviewer does in a spreadsheet."""
    for row in rows:
        row["decision"], row["corrected_output"] = decisions.get(row["feedback_id"], ("", ""))
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def state_rows(project, table: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(project.root / "data/fbt_state.duckdb"), read_only=True) as con:
        return con.execute(f"select * from {table}").fetchall()


def ids(samples):
    return [s["feedback_id"] for s in samples]


def test_the_loop_twice_with_a_growing_log(project, tmp_path):
    r = {n: record(n, session_id=f"s{n}") for n in range(1, 7)}
    # Day 1: four ratings. Nothing is reviewed yet, so nothing is exported.
    project.write_log([r[1], r[2], r[3], r[4]])
    result, files = build(project, "--new-only", *GATED)
    assert all(samples == [] for samples in files.values()) and len(files) == 3
    assert "awaiting_review 4" in result.stdout
    rows = review_csv(project, tmp_path / "day1.csv")
    assert ids(rows) == [r[n]["id"] for n in (1, 2, 3, 4)]
    assert rows[0]["instruction"] == "问题 1" and rows[0]["output"] == "回答 1"
    write_decisions(tmp_path / "day1.csv", rows, {
        r[1]["id"]: ("keep", ""), r[2]["id"]: ("drop", ""), r[3]["id"]: ("keep", "  改过的回答 3\n")})
    done = project.invoke("review", "import", str(tmp_path / "day1.csv"))
    assert "keep 2 (corrected 1), drop 1" in done.stdout and "1 rows left blank" in done.stdout

    # Day 2: the app rewrote the log, in another order, with two new ratings.
    log = [r[6], r[3], r[1], r[5], r[4], r[2]]
    project.write_log(log)
    result, files = build(project, "--new-only", *GATED)
    json_file = next(name for name in files if name.startswith("high_quality_samples_") and
                     name.endswith(".json"))
    assert [(s["feedback_id"], s["output"]) for s in files[json_file]] == [
        (r[3]["id"], "改过的回答 3"), (r[1]["id"], "回答 1")]  # log order; the corrected text
    assert "review: kept 2, dropped 1, corrected 1, awaiting review 3" in result.stdout
    assert "dropped_in_review 1" in result.stdout and "awaiting_review 3" in result.stdout

    rows = review_csv(project, tmp_path / "day2.csv")  # nothing is reviewed twice
    assert ids(rows) == [r[n]["id"] for n in (6, 5, 4)]
    write_decisions(tmp_path / "day2.csv", rows, {
        r[4]["id"]: ("keep", ""), r[5]["id"]: ("DROP", ""), r[6]["id"]: ("keep", "")})
    project.invoke("review", "import", str(tmp_path / "day2.csv"))
    result, files = build(project, "--new-only", *GATED)
    for name, samples in files.items():  # only the new, undropped samples
        assert [s["output"] for s in samples] == ["回答 6", "回答 4"], name
    assert "already_exported 2" in result.stdout and "dropped_in_review 2" in result.stdout
    assert len(names(project)) == 9  # three builds, three files each, none overwritten

    # A full build holds every kept sample, the correction included, and no dropped one.
    project.invoke("build", *GATED)
    assert [(s["feedback_id"], s["output"]) for s in project.read_json("high_quality_samples.json")] == [
        (r[6]["id"], "回答 6"), (r[3]["id"], "改过的回答 3"), (r[1]["id"], "回答 1"), (r[4]["id"], "回答 4")]


SENSITIVE = [
    ("我的电话是13812345678，邮箱 zhen.huan@example.com", "我的电话是[PHONE]，邮箱 [EMAIL]"),
    ("身份证 11010519491231002X 请核对", "身份证 [ID_CARD] 请核对"),
    ("卡号 6222 0212 3456 7890，另一张6222021234567890123", "卡号 [BANK_CARD]，另一张[BANK_CARD]"),
    ("打 +86 138 1234 5678 或 010-12345678", "打 [PHONE] 或 [PHONE]"),
    ("宫中 3000 佳丽，2025-07-18 入宫，编号 12345", "宫中 3000 佳丽，2025-07-18 入宫，编号 12345"),
]


def test_redaction_masks_sensitive_content_and_counts_it(project):
    project.write_log([record(n, user_input=f"问{n}：{text}", model_response=text)
                       for n, (text, _) in enumerate(SENSITIVE, 1)])
    result = project.invoke("build")
    samples = project.read_json("high_quality_samples.json")
    assert [s["output"] for s in samples] == [masked for _, masked in SENSITIVE]
    assert [s["instruction"] for s in samples] == [f"问{n}：{m}" for n, (_, m) in enumerate(SENSITIVE, 1)]
    # each in the prompt and in the reply: twice the count of one text
    assert "redacted: email 2, id_card 2, bank_card 4, phone 6" in result.stdout
    figures = json.loads((project.root / "target/run_results.json").read_text())["figures"]
    assert figures["redacted"] == {"email": 2, "id_card": 2, "bank_card": 4, "phone": 6}
    assert project.query("select count(*) from stg_feedback where model_response like '%13812345678%'") == [(1,)]
    assert project.query("select redacted from training_samples order by ordinal") == [
        (True,), (True,), (True,), (True,), (False,)]


def test_redaction_can_be_turned_off(project):
    project.write_log([record(1, model_response=SENSITIVE[0][0])])
    result = project.invoke("build", "--var", "redact=false")
    assert project.read_json("high_quality_samples.json")[0]["output"] == SENSITIVE[0][0]
    assert "redacted:" not in result.stdout


def test_new_only_exports_each_sample_once_and_full_refresh_forgets(project):
    project.write_log([record(1), record(2)])
    _, files = build(project, "--new-only")
    assert {name: len(s) for name, s in files.items() if name.endswith(".jsonl")}.popitem()[1] == 2
    project.write_log([record(2), record(3), record(1)])
    result, files = build(project, "--new-only", "--format", "jsonl")
    assert [ids(s) for s in files.values()] == [[record(3)["id"]]]
    assert "already_exported 2" in result.stdout
    _, files = build(project, "--new-only", "--format", "jsonl")
    assert [ids(s) for s in files.values()] == [[]]
    _, files = build(project, "--new-only", "--full-refresh", "--format", "jsonl")
    assert [len(s) for s in files.values()] == [3]
    assert not (project.out / "high_quality_samples.jsonl").exists()  # the stable names untouched


def test_full_builds_count_as_exported(project):
    project.write_log([record(1)])
    project.invoke("build")
    project.write_log([record(1), record(2)])
    _, files = build(project, "--new-only", "--format", "json")
    assert [ids(s) for s in files.values()] == [[record(2)["id"]]]


def test_a_failed_build_leaves_the_history_as_it_was(project):
    project.write_log([record(1)])
    project.invoke("build", "--new-only")
    state = (project.root / "data/fbt_state.duckdb").read_bytes()
    project.write_log("[{")
    assert project.invoke("build", "--new-only", "--full-refresh", ok=False).exit_code == 1
    assert (project.root / "data/fbt_state.duckdb").read_bytes() == state
    project.write_log([record(1), record(2)])
    _, files = build(project, "--new-only", "--format", "json")
    assert [ids(s) for s in files.values()] == [[record(2)["id"]]]


def test_review_import_with_bad_rows_imports_nothing(project, tmp_path):
    project.write_log([record(1), record(2)])
    project.invoke("build")
    rows = review_csv(project, tmp_path / "r.csv")
    rows.append(dict(rows[0], feedback_id="no-such-id"))
    write_decisions(tmp_path / "r.csv", rows, {record(1)["id"]: ("keep", ""),
                                               record(2)["id"]: ("maybe", ""),
                                               "no-such-id": ("drop", "")})
    result = project.invoke("review", "import", str(tmp_path / "r.csv"), ok=False)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'r.csv'}: 2 bad row(s), nothing imported: row 3: decision "
                             f"'maybe' is not keep or drop; row 4: unknown feedback_id 'no-such-id'. "
                             f"Fix them and import the file again\n")
    assert state_rows(project, "review_decisions") == []
    assert len(review_csv(project, tmp_path / "again.csv")) == 2


def test_review_csv_without_bom_and_a_changed_mind(project, tmp_path):
    project.write_log([record(1), record(2)])
    project.invoke("build")
    path = tmp_path / "plain.csv"
    path.write_text(f"feedback_id,decision\n{record(1)['id']},drop\n{record(2)['id']},\n", encoding="utf-8")
    assert "drop 1; 0 replaced an earlier decision, 1 rows left blank" in \
        project.invoke("review", "import", str(path)).stdout
    project.invoke("build")
    assert ids(project.read_json("high_quality_samples.json")) == [record(2)["id"]]
    path.write_text(f"feedback_id,decision\n{record(1)['id']},keep\n", encoding="utf-8")
    assert "1 replaced an earlier decision" in project.invoke("review", "import", str(path)).stdout
    project.invoke("build")
    assert ids(project.read_json("high_quality_samples.json")) == [record(1)["id"], record(2)["id"]]
    assert project.query("select feedback_id, decision from state.review_decisions") == [
        (record(1)["id"], "keep")]


def test_review_export_needs_a_build(project):
    result = project.invoke("review", "export", ok=False)
    assert result.exit_code == 1 and "run `python cli.py build`" in result.stderr


def read_cells(path) -> list[list[str]]:
    """A CSV's cells as a spreadsheet keeps them: text, header row first."""
    with path.open(encoding="utf-8-sig", newline="") as f, any_length():
        return list(csv.reader(f))


def test_review_cells_that_look_like_formulas_are_guarded_and_round_trip(project, tmp_path):
    texts = {1: ('=HYPERLINK("http://x","click")', "=cmd|' /C calc'!A0"),
             2: ("@SUM(1+1)", "- 第一点\n- 第二点"),
             3: ("+1 加 1 等于几？", "'=已经带引号的回答"),
             4: ("'Tis a question", "-1")}
    project.write_log([record(n, user_input=q, model_response=a, model_name="@bot" if n == 4 else "m")
                       for n, (q, a) in texts.items()])
    project.invoke("build")
    path = tmp_path / "r.csv"
    project.invoke("review", "export", "-o", str(path))
    cells = read_cells(path)
    assert not [c for row in cells for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert [row[1:3] for row in cells[1:]] == [
        ['\'=HYPERLINK("http://x","click")', "'=cmd|' /C calc'!A0"],
        ["'@SUM(1+1)", "'- 第一点\n- 第二点"],
        ["'+1 加 1 等于几？", "''=已经带引号的回答"], ["'Tis a question", "'-1"]]
    assert cells[4][4] == "'@bot"
    # The reviewer writes corrections as a spreadsheet saves them (a formula-like text with or
    # without the guard) and leaves the exported output cells as they are.
    meant = {1: "=SUM(A1:A3) 是公式", 2: "- 改过的第一点", 4: "'Tis mine"}
    typed = {1: "'=SUM(A1:A3) 是公式", 2: "- 改过的第一点", 4: "'Tis mine"}
    for n, row in enumerate(cells[1:], 1):
        row[-2:] = ["keep", typed.get(n, "")]
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(cells)
    project.invoke("review", "import", str(path))
    assert sorted(r[:3] for r in state_rows(project, "review_decisions")) == [
        (record(n)["id"], "keep", meant.get(n)) for n in texts]
    project.invoke("build")
    assert [s["output"] for s in project.read_json("high_quality_samples.json")] == [
        meant[1], meant[2], "'=已经带引号的回答", meant[4]]


def test_an_edited_output_cell_without_a_correction_is_refused(project, tmp_path):
    project.write_log([record(n, model_response=f"回答 {n}\n第二行") for n in range(1, 6)])
    project.invoke("build")
    rows = review_csv(project, tmp_path / "r.csv")
    rows[0]["output"] = "回答 1 改了"                          # keep: the edit would be lost
    rows[1]["output"] = "回答 2\r\n第二行  "                  # as Excel saves it: not an edit
    rows[2]["output"] = "回答 3 改了"                          # drop: no file has it anyway
    rows[3]["output"] = "回答 4 改了"                          # the correction says what to keep
    rows[4]["output"] = ""                                     # emptied: not an edit
    decisions = {record(1)["id"]: ("keep", ""), record(2)["id"]: ("keep", ""),
                 record(3)["id"]: ("drop", ""), record(4)["id"]: ("keep", "新的回答 4"),
                 record(5)["id"]: ("keep", "")}
    write_decisions(tmp_path / "r.csv", rows, decisions)
    result = project.invoke("review", "import", str(tmp_path / "r.csv"), ok=False)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'r.csv'}: 1 bad row(s), nothing imported: row 2: output edited, "
        f"corrected_output empty. Put a fixed reply in corrected_output, not in output (leave output "
        f"as exported, or empty it); Excel also changes cells it reads as numbers or dates and cuts "
        f"texts at 32,767 characters. Fix them and import the file again\n")
    assert state_rows(project, "review_decisions") == []
    rows[0]["output"], decisions[record(1)["id"]] = "回答 1\n第二行", ("keep", "回答 1 改了")
    write_decisions(tmp_path / "r.csv", rows, decisions)
    project.invoke("review", "import", str(tmp_path / "r.csv"))
    assert sorted(r[:3] for r in state_rows(project, "review_decisions")) == [
        (record(1)["id"], "keep", "回答 1 改了"), (record(2)["id"], "keep", None),
        (record(3)["id"], "drop", None), (record(4)["id"], "keep", "新的回答 4"),
        (record(5)["id"], "keep", None)]


def test_texts_longer_than_csv_field_size_limit_round_trip(project, tmp_path):
    long_reply, long_fix = "长" * 200_000 + "。", "改" * 150_000 + "。"  # csv's limit: 131,072
    assert csv.field_size_limit() == 131_072  # Python's default, as a user's fbt has it
    project.write_log([record(1, model_response=long_reply),
                       record(2, model_response=long_reply + "2")])
    project.invoke("build")
    rows = review_csv(project, tmp_path / "r.csv")
    assert [r["output"] for r in rows] == [long_reply, long_reply + "2"]
    write_decisions(tmp_path / "r.csv", rows, {record(1)["id"]: ("keep", long_fix),
                                               record(2)["id"]: ("keep", "")})
    project.invoke("review", "import", str(tmp_path / "r.csv"))
    assert sorted(r[:3] for r in state_rows(project, "review_decisions")) == [
        (record(1)["id"], "keep", long_fix), (record(2)["id"], "keep", None)]


def test_ids_excel_turned_into_numbers_are_named_as_such(project, tmp_path):
    project.write_log([record(1, id="001"), record(2, id="1721300000123456789"), record(3)])
    project.invoke("build")
    rows = review_csv(project, tmp_path / "r.csv")
    assert ids(rows) == ["001", "1721300000123456789", record(3)["id"]]
    rows[0]["feedback_id"], rows[1]["feedback_id"] = "1", "1.7213E+18"  # as Excel saves them
    write_decisions(tmp_path / "r.csv", rows, {"1": ("keep", ""), "1.7213E+18": ("drop", ""),
                                               record(3)["id"]: ("keep", "")})
    result = project.invoke("review", "import", str(tmp_path / "r.csv"), ok=False)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'r.csv'}: 2 bad row(s), nothing imported: row 2: unknown feedback_id '1' "
        f"(id '001' without its leading zeros?); row 3: unknown feedback_id '1.7213E+18' (Excel's "
        f"number form of an id?). Excel turned ids into numbers: export again and open the CSV in "
        f"Excel with Data > From Text/CSV, setting feedback_id to Text (or edit the CSV in a text "
        f"editor). Fix them and import the file again\n")
    assert state_rows(project, "review_decisions") == []


SEPARATED = ("the columns are separated by {}, not commas ({}); save it as CSV with commas (Excel: "
             "\"CSV UTF-8\" with ',' as the list separator in Windows' Region settings, or use "
             "LibreOffice or Google Sheets) and import it again")


@pytest.mark.parametrize("data, message", [
    ("\ufeff\ufefffeedback_id,decision\n{id},keep\n",
     ("starts with two byte order marks (U+FEFF), as when a program adds one to a file that had one, "
      "and the second reads as part of the first column's name; type that name, feedback_id, again "
      "(in Excel: cell A1), save it as \"CSV UTF-8\" and import it again")),
    ("\ufefffeedback_id;instruction;decision\n{id};问题 1;keep\n",
     SEPARATED.format("semicolons", "Excel does so where a comma is the decimal mark")),
    ("feedback_id\tdecision\n{id}\tkeep\n", SEPARATED.format("tabs", "as Excel's \"Unicode Text\" is")),
], ids=["two BOMs", "semicolons", "tabs"])
def test_csvs_a_spreadsheet_saved_otherwise_say_what_happened(project, tmp_path, data, message):
    project.write_log([record(1)])
    project.invoke("build")
    path = tmp_path / "r.csv"
    path.write_text(data.replace("{id}", record(1)["id"]), encoding="utf-8")
    result = project.invoke("review", "import", str(path), ok=False)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}: {message}\n"


def dedup_log():
    return [
        record(1, user_input="Hello ＡＢＣ", model_response="好的！", rating=4),
        record(2, user_input="Hello \u3000 ABC", model_response="好的!", rating=5),
        record(3, user_input="Hello\tABC", model_response="好的 !", rating=2),  # a space more: another reply
        record(4, user_input="Hello ABC", model_response="好的!", rating=2),
        record(5, user_input="别的问题", model_response="别的回答", rating=5),
        record(6, user_input="别的问题", model_response="别的回答", rating=5),
    ]


def test_dedup_keeps_the_highest_rating_of_the_same_prompt_and_reply(project):
    project.write_log(dedup_log())
    result = project.invoke("build", "--var", "dedup=true")
    assert ids(project.read_json("high_quality_samples.json")) == [record(2)["id"], record(5)["id"]]
    assert project.query("select feedback_id, times_rated from training_samples order by position") == [
        (record(2)["id"], 3), (record(5)["id"], 2)]
    assert "below_min_rating 2 + other_model 0 + duplicate_rating 2" in result.stdout
    assert "dedup: duplicate ratings left out 2, samples rated more than once 2" in result.stdout


def test_without_dedup_every_rating_is_a_sample(project):
    project.write_log(dedup_log())
    result = project.invoke("build")
    assert ids(project.read_json("high_quality_samples.json")) == [record(n)["id"] for n in (1, 2, 5, 6)]
    assert "dedup:" not in result.stdout


def python_split(session: str, ratio: float) -> str:
    return "val" if int(hashlib.md5(session.encode()).hexdigest()[:8], 16) / 2**32 < ratio else "train"


def test_split_by_session_is_stable_and_written_to_separate_files(project):
    log = [record(n, session_id=f"17213000{n % 20:02d}.5") for n in range(1, 61)]
    random.Random(7).shuffle(log)
    project.write_log(log)
    result = project.invoke("build", "--var", "val_ratio=0.3")
    assert sorted(p.name for p in project.out.iterdir()) == sorted(
        f"{stem}_{split}{suffix}" for stem, suffix in [("high_quality_samples", ".json"),
                                                      ("high_quality_samples", ".jsonl"),
                                                      ("alpaca_format_samples", ".json")]
        for split in ("train", "val"))
    by_id = {r["id"]: r for r in log}
    for split in ("train", "val"):
        samples = project.read_json(f"high_quality_samples_{split}.json")
        assert ids(samples) == [r["id"] for r in log if python_split(r["session_id"], 0.3) == split]
        assert project.read_jsonl(f"high_quality_samples_{split}.jsonl") == samples
        assert len(project.read_json(f"alpaca_format_samples_{split}.json")) == len(samples)
    train = {by_id[i]["session_id"] for i in ids(project.read_json("high_quality_samples_train.json"))}
    val = {by_id[i]["session_id"] for i in ids(project.read_json("high_quality_samples_val.json"))}
    assert train and val and not train & val
    n_val = sum(python_split(r["session_id"], 0.3) == "val" for r in log)
    assert f"split: train {60 - n_val}, val {n_val}" in result.stdout


def test_merge_with_the_base_set_leaves_out_duplicates(project, tmp_path):
    base = [{"instruction": "你好", "input": "", "output": "臣妾是甄嬛 OK"},
            {"instruction": "请介绍", "input": "你自己", "output": "臣妾甄嬛。"}]
    as_json = tmp_path / "base.json"
    as_json.write_text(json.dumps(base, ensure_ascii=False), encoding="utf-8")
    as_jsonl = tmp_path / "base.jsonl"
    as_jsonl.write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in base), encoding="utf-8")
    project.write_log([record(1, user_input="你好", model_response="臣妾是甄嬛\u3000ＯＫ"),
                       record(2, user_input="你好", model_response="臣妾是甄嬛 OK。"),
                       record(3)])
    for path in (as_json, as_jsonl):
        result = project.invoke("build", "--var", f"base_dataset={path}")
        assert project.read_json("alpaca_format_samples.json") == base + [
            {"instruction": "你好", "input": "", "output": "臣妾是甄嬛 OK。"},
            {"instruction": "问题 3", "input": "", "output": "回答 3"}]
        assert "merged: base 2, new 2, duplicates of base left out 1, total 4" in result.stdout
        assert "samples 2 + below_min_rating 0 + other_model 0 + duplicate_of_base 1" in result.stdout
        assert project.read_json("high_quality_samples.json")[0]["rating"] is None


def test_jsonl_and_gzip_logs(project, tmp_path):
    import gzip

    log = [record(1), record(2, rating=None), record(3)]
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in log)
    files = {"log.jsonl": lines.encode(), "log.json.gz": gzip.compress(json.dumps(log).encode()),
             "log.jsonl.gz": gzip.compress(lines.encode())}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        result = project.invoke("build", "--feedback-file", str(tmp_path / name))
        assert ids(project.read_json("high_quality_samples.json")) == [record(1)["id"], record(3)["id"]], name
        assert "records read: 3 = rejected 1 + valid 2" in result.stdout


def test_a_glob_of_daily_logs_reads_every_file_in_name_order(project, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "feedback-2025-07-19.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in [record(3), record(1), record(4, rating=0)]), encoding="utf-8")
    (logs / "feedback-2025-07-18.json").write_text(json.dumps([record(1), record(2)]), encoding="utf-8")
    result = project.invoke("build", "--feedback-file", str(logs / "feedback-*"))
    assert ids(project.read_json("high_quality_samples.json")) == [record(n)["id"] for n in (1, 2, 3)]
    assert "records read: 5 = rejected 2 + valid 3" in result.stdout
    assert project.query("select regexp_extract(source_file, '[^/]*$'), position, reason, detail "
                         "from rejected_feedback") == [
        ("feedback-2025-07-19.jsonl", 2, "duplicate", "repeats record 1 of "
         f"{logs / 'feedback-2025-07-18.json'} (same id)"),
        ("feedback-2025-07-19.jsonl", 3, "invalid_rating", "rating 0 is not an integer from 1 to 5")]


def test_a_glob_that_matches_nothing_says_so(project, tmp_path):
    result = project.invoke("build", "--feedback-file", str(tmp_path / "none-*.jsonl"), ok=False)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'none-*.jsonl'}: no file matches (source 'feedback'); "
                             f"pass the logs' path with --feedback-file PATH\n")
