"""A daily build changes the last database in place (engine/increment.py): it ends exactly as a build
that parsed and made everything anew (the twins of tests/test_tail.py), whatever changed between
the days (a review, a var), and a failure or kill leaves the last build whole."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest
from conftest import copy_project, record
from faults import big_log, fbt, kill, leftovers, spawn, state, wait_stopped
from test_tail import BUILD, build, log_of, rebuild, same, twins

import engine.export
from engine.materialization import row_wise


@pytest.mark.parametrize("sql, takes", [
    ("select a, upper(b), md5(c) from t left join u using (k) where a > 1", True),
    ("with x as (select * from t), y as (select * from x) select * from y join u using (k)", True),
    ("select * from t anti join u using (k)", True),
    # each row needs other rows of t, or rows that are not t's, or a value that changes
    (("with x as (select * from t) select * from x a where not exists (select 1 from x b where b.k = a.k "
      "and b.position < a.position)"), False),
    ("with x as (select * from t) select * from x a join x b using (k)", False),
    ("select * from u left join t using (k)", False),
    ("select * from u anti join t using (k)", False),
    ("select * from t full join u using (k)", False),
    ("select * from t union all select * from u", False),
    ("select count(*) over (partition by k) from t", False),
    ("select k, count(*) from t group by k", False),
    ("select distinct k from t", False),
    ("select * from t limit 5", False),
    ("select * from t using sample 10%", False),
    ("select * from t where ts > current_date - 30", False),
    ("select random() from t", False),
    ("select * from t where k in (select k from u)", False),
    ("select * from t, read_csv('blocklist.csv')", False),
])
def test_what_takes_only_the_new_rows(sql, takes):
    """engine/increment.py adds a model's rows of the new records alone only where that is sound."""
    with duckdb.connect() as con:
        assert row_wise(con, sql, {"t"}) is takes


def test_the_samples_take_only_the_new_records_rows(tmp_path):
    old = log_of(40)
    pair = twins(tmp_path, old, "--new-only")
    said = rebuild(pair, old + log_of(10, start=41), "--new-only")
    assert "database: changed in place, the new records' rows added to training_samples" in said
    said = rebuild(pair, old + log_of(15, start=41), "--new-only")  # and the next day
    assert "database: changed in place, the new records' rows added to training_samples" in said


def test_a_review_between_days_makes_the_samples_anew(tmp_path):
    old = log_of(30)
    pair = twins(tmp_path, old)
    dropped = pair[0].query("select feedback_id from training_samples order by position limit 1")[0][0]
    for p in pair:
        decisions = tmp_path / f"{p.root.name}.csv"
        decisions.write_text(f"feedback_id,decision\n{dropped},drop\n", encoding="utf-8")
        p.invoke("review", "import", str(decisions))
    said = rebuild(pair, old + log_of(5, start=31))
    assert "database: changed in place\n" in said  # (no rows added: made anew)
    assert pair[0].query(f"select count(*) from training_samples where feedback_id = '{dropped}'") == [(0,)]


def test_a_var_that_ranks_the_samples_makes_them_anew(tmp_path):
    old = log_of(30)
    pair = twins(tmp_path, old, "--var", "dedup=true")
    said = rebuild(pair, old + log_of(6, start=31) + [dict(old[4], id="again")], "--var", "dedup=true")
    assert "database: changed in place\n" in said  # dedup ranks the ratings of a prompt and reply


def history(p) -> tuple[list, list]:
    """The export history in the database's copy of the state, and in the state file."""
    copy = p.query("select format, sample_id, build_id from state.exported_samples order by all")
    with duckdb.connect(str(p.root / "data" / "fbt_state.duckdb"), read_only=True) as con:
        return copy, con.execute("select format, sample_id, build_id from exported_samples order by all").fetchall()


def test_the_history_is_the_state_files_whatever_wrote_it_last(tmp_path):
    """A database changed in place keeps its copy of the export history as the state file's when
    its build wrote the file last (their version stamps: engine/state.py), and takes the file's
    history again when another writer did: here, a backup of the file put back."""
    old = log_of(40)
    pair = twins(tmp_path, old, "--new-only")
    backups = [(p.root / "data" / "fbt_state.duckdb").read_bytes() for p in pair]
    rebuild(pair, old + log_of(10, start=41), "--new-only")
    copy, file = history(pair[0])
    assert copy == file and len({row[2] for row in file}) == 2  # two builds' rows
    for p, backup in zip(pair, backups, strict=True):  # the day before's history, back
        (p.root / "data" / "fbt_state.duckdb").write_bytes(backup)
    said = rebuild(pair, old + log_of(12, start=41), "--new-only")  # (the same files as a build anew)
    assert "database: changed in place, the new records' rows added to training_samples" in said
    copy, file = history(pair[0])
    assert copy == file and len({row[2] for row in file}) == 2  # the first day's and this one's
    samples = pair[0].query("select count(*) from training_set")[0][0]
    assert len([row for row in file if row[0] == "json"]) == samples  # the second day's samples written again


def test_the_new_only_files_are_the_same_read_apart_or_not(tmp_path, monkeypatch):
    """held_rows (few rows held: read apart) and the pass over every row write the same bytes; the
    base set's rows (no key, so in every --new-only file) too."""
    old = log_of(60)
    base = [{"instruction": "请介绍你自己", "input": "", "output": "臣妾甄嬛。"}, {"instruction": "好", "output": "是。"}]
    (tmp_path / "base.json").write_text(json.dumps(base, ensure_ascii=False), encoding="utf-8")
    with_base = ("--new-only", "--var", f"base_dataset={tmp_path / 'base.json'}")
    pair = twins(tmp_path, old, *with_base)
    for p in pair:
        p.write_log(old + log_of(8, start=61))
    apart = build(pair[0], "--feedback-file", str(pair[0].log), *with_base)
    monkeypatch.setattr(engine.export, "HELD_SHARE", -1.0)  # never read apart
    whole = build(pair[1], "--feedback-file", str(pair[1].log), *with_base)
    said = [[same(p, line) for line in text.splitlines() if line.startswith("wrote")]
            for p, text in zip(pair, (apart, whole), strict=True)]
    assert said[0] == said[1] and "already_exported" in apart
    files = [sorted((same(p, path.name), same(p, path.read_bytes())) for path in p.out.iterdir())
             for p in pair]
    assert files[0] == files[1] and len(files[0]) >= 14  # two days' files
    today = max(pair[0].out.glob("alpaca_format_samples_train_*.json"), key=lambda path: path.stat().st_mtime_ns)
    assert [row["output"] for row in json.loads(today.read_text(encoding="utf-8"))][:2] == ["臣妾甄嬛。", "是。"]
    kept = [[(fmt, sample) for fmt, sample, _ in history(p)[1]] for p in pair]  # (the builds' ids differ)
    assert kept[0] == kept[1] and len(kept[0]) > 200  # the export history too


def test_a_database_open_in_another_process_is_made_anew(tmp_path):
    old = log_of(20)
    pair = twins(tmp_path, old)
    hold = ("import duckdb, sys; held = duckdb.connect(sys.argv[1], read_only=True); "
            "print('open', flush=True); sys.stdin.read()")
    notebook = subprocess.Popen([sys.executable, "-c", hold, str(pair[0].db)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # a notebook
    try:
        assert notebook.stdout.readline() == "open\n"
        said = rebuild(pair, old + log_of(4, start=21))
    finally:
        notebook.communicate("")
    assert "database: made anew (another process has it open)" in said


def test_a_huge_new_record_starts_the_build_again_on_a_new_database(tmp_path):
    old = log_of(10)
    pair = twins(tmp_path, old)
    huge = dict(log_of(1, start=11)[0], model_response="长" * 21_000_000)  # 63 MB: over read_json's room
    said = rebuild(pair, old + [huge])
    assert "log: parsed all of it (its new records could not be read apart)" in said
    assert "database: changed in place" not in said  # (started again on a new one)


# Where an in-place build can be stopped, and what a kill there leaves (once settled): its
# transaction commits right after the journal is written (engine/commit.py).
POINTS = {"models-built": "old", "staged": "old", "journal-written": "old", "database-committed": "new",
          "move-1": "new", "move-5": "new", "state": "new"}  # (state: the export history applied, last)


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    """Yesterday's log and today's (the same records and more), and what an undisturbed build of
    today leaves after yesterday's."""
    yesterday = big_log(3_000, "day")
    today = yesterday + big_log(3_100, "day")[3_000:]
    p = copy_project(tmp_path_factory.mktemp("undisturbed") / "proj")
    p.write_log(yesterday)
    assert fbt(p, "build", "-q").returncode == 0
    old = state(p)
    p.write_log(today)
    built = fbt(p, "build")
    assert "database: changed in place" in built.stdout, built.stdout
    return {"yesterday": yesterday, "today": today, "old": old, "new": state(p)}


@pytest.mark.parametrize("point", list(POINTS))
def test_a_build_in_place_killed_anywhere_leaves_old_or_new(tmp_path, days, point):
    p = copy_project(tmp_path / "proj")
    p.write_log(days["yesterday"])
    assert fbt(p, "build", "-q").returncode == 0
    p.write_log(days["today"])
    stopped = spawn(p, "build", "-q", pause_at=point)
    try:
        wait_stopped(stopped)
    finally:
        kill(stopped)
    assert fbt(p, "query", "select 1").returncode == 0  # settles a stopped commit
    assert state(p) == days[POINTS[point]]
    copy, file = history(p)
    assert copy == file
    with duckdb.connect(str(p.root / "data" / "fbt_state.duckdb"), read_only=True) as con:
        read = con.execute("select records from log_reads").fetchall()
    assert read == [(len(days[{"old": "yesterday", "new": "today"}[POINTS[point]]]),)]
    rebuilt = fbt(p, "build")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert state(p) == days["new"]
    assert leftovers(p) == []


@pytest.mark.parametrize("key, columns", [
    ("feedback_id", ""),       # no position column: held_rows reads its rows whole
    ("ordinal", ", position"),  # a key that is not text (the history keeps keys as text)
])
def test_a_models_new_only_files_hold_its_new_rows(tmp_path, key, columns):
    p = copy_project(tmp_path / "p")
    p.write("models/training_set.sql", f"{{{{ config(export=['jsonl'], unique_key='{key}') }}}}\n"
            f"select instruction, input, output, rating, model_name, feedback_id, timestamp, split, ordinal"
            f"{columns} from {{{{ ref('training_samples') }}}}")
    p.write_log(log_of(60))
    p.invoke("build", "--new-only", "--format", "jsonl")
    before = {row[0] for row in p.query("select feedback_id from training_samples")}
    first = set(p.out.iterdir())
    p.write_log(log_of(64))  # the history holds most rows: they are held apart (HELD_SHARE)
    p.invoke("build", "--new-only", "--format", "jsonl")
    new = {row[0] for row in p.query("select feedback_id from training_samples")} - before
    [today] = set(p.out.iterdir()) - first
    assert new and sorted(row["output"] for row in p.read_jsonl(today.name)) == sorted(
        row[0] for row in p.query(f"select output from training_samples where feedback_id in "
                                  f"({', '.join(repr(k) for k in new)})"))


def test_in_place_the_data_tests_read_the_added_rows_the_old_ones_passed(tmp_path):
    """In place, a test the last build's rows passed reads only the rows added, and still stops the
    build on one of them; a test changed since reads every row again, and fails on an old row."""
    p = copy_project(tmp_path / "proj")
    p.write(
        "models/tests/no_secret_prompts.sql",
        "select * from {{ new_rows(ref('training_samples')) }} where instruction like '%机密%'\n")
    days = [log_of(40), log_of(46)]
    p.write_log(days[0])
    build(p)
    p.write_log(days[1])
    said = build(p)
    assert "database: changed in place" in said and "over the added rows only" in said, said
    tests = {t["name"]: t for t in json.loads((p.root / "target" / "run_results.json").read_text())["tests"]}
    assert {name for name, t in tests.items() if t["rows"] == "added"} >= {
        "not_null_training_samples_feedback_id", "unique_training_samples_feedback_id",
        "accepted_values_training_samples_rating", "not_empty_training_samples_output", "no_secret_prompts"}
    samples = p.query("select count(*) from training_samples")

    # A new sample fails the singular test: the build stops, the database as it was.
    p.write_log([*days[1], record(47, rating=5, user_input="机密文件在哪？")])
    failed = p.invoke(*BUILD, ok=False)
    assert failed.exit_code == 1 and "data test no_secret_prompts" in failed.output
    assert "1 failing row(s)" in failed.output and p.query("select count(*) from training_samples") == samples

    # The analyst narrows a test to 5 stars: every row is tested again; the old 4-star ones fail it.
    model = p.root / "models" / "training_samples.sql"
    model.write_text(model.read_text(encoding="utf-8").replace("[1, 2, 3, 4, 5]", "[5]"), encoding="utf-8")
    p.write_log([*days[1], record(48, rating=5)])
    failed = p.invoke(*BUILD, ok=False)
    four_stars = p.query("select count(*) from training_samples where rating = 4")[0][0]
    assert four_stars and "data test accepted_values_training_samples_rating" in failed.output
    assert f"{four_stars} failing row(s)" in failed.output


def test_the_rows_the_last_build_wrote_are_trusted_only_while_they_are_the_same(tmp_path):
    """A daily --new-only build looks up in the export history only the rows after those the last
    build found written (engine/state.py, record_written), while the model still holds the same
    rows before them. Here a lower min_rating lets in three old rows: today's file holds them."""
    log = [record(i, rating=4 if i % 20 == 0 else 5) for i in range(1, 61)]
    p = copy_project(tmp_path / "p")
    p.write_log(log)
    p.invoke("build", "--new-only", "--format", "jsonl", "--var", "min_rating=5")
    first = set(p.out.iterdir())
    p.write_log(log + [record(i) for i in range(61, 64)])
    said = p.invoke("build", "--new-only", "--format", "jsonl").output  # (min_rating 4)
    [today] = set(p.out.iterdir()) - first
    assert sorted(row["output"] for row in p.read_jsonl(today.name)) == \
        ["回答 20", "回答 40", "回答 60", "回答 61", "回答 62", "回答 63"]
    assert "already_exported 57" in said
    p.write_log(log + [record(i) for i in range(61, 66)])  # the next day: only the two new rows
    p.invoke("build", "--new-only", "--format", "jsonl")
    [last] = set(p.out.iterdir()) - first - {today}
    assert sorted(row["output"] for row in p.read_jsonl(last.name)) == ["回答 64", "回答 65"]
    assert p.query("select model, format, rows from fbt.written_rows") == [("training_set", "jsonl", 65)]


def test_the_rows_the_last_build_wrote_are_trusted_only_with_its_history(tmp_path):
    """The same, when the state file's history is not the one the last build left (a backup put
    back): the rows written since are written again."""
    log = [record(i) for i in range(1, 61)]
    p = copy_project(tmp_path / "p")
    p.write_log(log)
    p.invoke("build", "--new-only", "--format", "jsonl")
    state_file = p.root / "data" / "fbt_state.duckdb"
    backup = state_file.read_bytes()
    p.write_log(log + [record(i) for i in range(61, 64)])
    p.invoke("build", "--new-only", "--format", "jsonl")
    state_file.write_bytes(backup)
    first = set(p.out.iterdir())
    p.write_log(log + [record(i) for i in range(61, 66)])
    p.invoke("build", "--new-only", "--format", "jsonl")
    [today] = set(p.out.iterdir()) - first
    assert sorted(row["output"] for row in p.read_jsonl(today.name)) == [f"回答 {i}" for i in range(61, 66)]


def test_a_new_only_build_with_an_earlier_builds_id_restamps_its_rows_once(tmp_path, monkeypatch):
    """Build ids are times: a full build and a --new-only build in the same second share one. The
    --new-only build's change to the state file then replaces the rows of that id, where it
    otherwise only adds its own (engine/state.py, record_history)."""
    import engine.pipeline
    import engine.plan

    monkeypatch.setattr(engine.pipeline, "utc_stamp", lambda now=None: "20250718T190102Z")
    monkeypatch.setattr(engine.plan, "utc_stamp", lambda now=None: "20250718T190102Z")
    p = copy_project(tmp_path / "p")
    p.write_log(log_of(30))
    p.invoke("build", "--format", "jsonl")
    p.write_log(log_of(33))
    p.invoke("build", "--new-only", "--format", "jsonl")
    copy, file = history(p)
    assert copy == file and len(file) == len(set(file)) == p.query("select count(*) from training_set")[0][0]


def test_a_position_no_longer_a_whole_number_looks_up_every_row(tmp_path):
    """The rows the last build recorded as written are trusted only while the model's position is
    of whole numbers; a model whose position became text looks up every row, as before."""
    p = copy_project(tmp_path / "p")
    p.write_log(log_of(60))
    p.invoke("build", "--new-only", "--format", "jsonl")
    first = set(p.out.iterdir())
    model = p.root / "models" / "training_set.sql"
    model.write_text(model.read_text(encoding="utf-8").replace("    ordinal, instruction",
                                                               "    lpad(ordinal::VARCHAR, 6, '0'), instruction"),
                     encoding="utf-8")
    p.write_log(log_of(64))
    p.invoke("build", "--new-only", "--format", "jsonl")
    new = {row[0] for row in p.query("select output from training_samples where position > 60")}
    [today] = set(p.out.iterdir()) - first
    assert new and sorted(row["output"] for row in p.read_jsonl(today.name)) == sorted(new)
