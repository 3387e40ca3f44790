"""The command line: exit codes, messages, vars, injection and file names."""

from __future__ import annotations

import json

import pytest

from conftest import record


def test_min_rating_out_of_range_or_not_an_integer_is_refused_naming_min_rating(project):
    project.write_log([record(1)])
    for value in ["0", "6", "4.5", "x", "true"]:
        result = project.invoke("build", "--min-rating", value, ok=False)
        assert result.exit_code == 2
        assert result.stderr.startswith("Error: Invalid value for var 'min_rating' (from --min-rating)")
        assert "an integer from 1 to 5" in result.stderr
    assert not project.out.exists()


def test_var_forms(project):
    project.write_log([record(1, rating=4), record(2, rating=5)])
    for args in (["--var", "min_rating=5"], ["--vars", '{"min_rating": 5}'], ["--min-rating", "5"]):
        project.invoke("build", *args)
        assert len(project.read_json("high_quality_samples.json")) == 1


def test_unknown_var_suggests_the_close_one(project):
    result = project.invoke("build", "--var", "min_ratin=5", ok=False)
    assert result.exit_code == 2
    assert "Unknown var 'min_ratin' (from --var). Did you mean 'min_rating'?" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--var", "min_rating"], "expected KEY=VALUE, got 'min_rating'"),
    (["--vars", "[1]"], "expected a JSON object"),
    (["--vars", '{"min_rating": "5"}'], "Invalid value for var 'min_rating' (from --vars)"),
    (["--format", "csv"], "'csv' is not one of"),
])
def test_misuse_exits_2(project, args, message):
    result = project.invoke("build", *args, ok=False)
    assert result.exit_code == 2
    assert message in result.stderr


def test_format_takes_several_space_separated_values(project):
    project.write_log([record(1)])
    project.invoke("build", "--format", "json", "alpaca", "--min-rating", "5")
    assert sorted(p.name for p in project.out.iterdir()) == ["alpaca_format_samples.json",
                                                             "high_quality_samples.json"]


@pytest.mark.parametrize("value", ["x' OR '1'='1", "'; drop table stg_feedback; --", "{{ 7*7 }}"])
def test_a_model_name_is_data_not_code(project, value):
    project.write_log([record(1), record(2, model_name=value), record(3, model_name="49")])
    project.invoke("build", "--model-name", value)
    files = list(project.out.iterdir())
    assert {p.parent for p in files} == {project.out}
    [json_file] = [p for p in files if p.name.endswith("_samples.json")]
    assert [s["feedback_id"] for s in json.loads(json_file.read_text())] == [record(2)["id"]]
    assert project.query("select count(*) from stg_feedback") == [(3,)]


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "___.._etc_passwd_samples.json"),
    ("a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j_samples.json"),
    ("CON", "_CON_samples.json"),
    ("甄嬛 😀", "甄嬛 😀_samples.json"),
])
def test_a_model_name_never_makes_a_file_outside_output_dir(project, name, expected):
    project.write_log([record(1, model_name=name)])
    project.invoke("build", "--model-name", name)
    assert (project.out / expected).is_file()
    assert len(json.loads((project.out / expected).read_text())) == 1


def test_a_300_character_model_name_makes_a_short_distinct_file_name(project):
    name = "模" * 300
    project.write_log([record(1, model_name=name)])
    project.invoke("build", "--model-name", name, "--format", "json")
    [path] = project.out.iterdir()
    assert len(path.name.encode()) <= 120 and path.name.endswith("_samples.json")


def test_missing_feedback_file_exits_1_with_the_flag_to_use(project):
    result = project.invoke("build", "--feedback-file", "nope.json", ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: {project.root / 'nope.json'}: no such file (source "
                                     f"'feedback'); pass the log's path with --feedback-file PATH")


@pytest.mark.parametrize("content", [b"", b'{"rating": 5}', b'[{"rating": 5}', b'[{"rating": 5}] x'])
def test_a_log_that_is_not_a_json_array_stops_and_keeps_earlier_outputs(project, content):
    project.write_log([record(1)])
    project.invoke("build")
    before = {p.name: p.read_bytes() for p in project.out.iterdir()}
    db_before = project.db.read_bytes()
    project.write_log(content)
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"Error: {project.log}: ")
    assert {p.name: p.read_bytes() for p in project.out.iterdir()} == before
    assert project.db.read_bytes() == db_before


def test_query_prints_a_table_and_is_read_only(project):
    project.write_log([record(1), record(2, model_name="甄嬛-7b")])
    project.invoke("build")
    result = project.invoke("query", "select model_name, count(*) as n from training_samples group by 1 order by 1")
    assert result.stdout.splitlines() == ["model_name    | n", "------------- | -",
                                          "huanhuan-qwen | 1", "甄嬛-7b       | 1"]
    result = project.invoke("query", "drop table stg_feedback", ok=False)
    assert result.exit_code == 1 and "read-only" in result.stderr
    assert project.query("select count(*) from stg_feedback") == [(2,)]


WRITES = {  # each would write a file, attach a database, fetch an extension or change a setting
    "copy": "COPY (select 'pwned' as x) TO '{out}/high_quality_samples.json' (FORMAT csv)",
    "copy_over_a_source": "COPY (select 'pwned' as x) TO '{log}' (FORMAT csv, USE_TMP_FILE false)",
    "second_statement": "select 1; COPY (select 2) TO '{out}/x.csv'",
    "explain_analyze": "EXPLAIN ANALYZE COPY (select 2) TO '{log}' (USE_TMP_FILE false)",
    "prepared": "PREPARE p AS COPY (select 2) TO '{log}' (USE_TMP_FILE false); EXECUTE p",
    "export": "EXPORT DATABASE '{out}/dump'",
    "attach": "ATTACH '{out}/new.duckdb' AS x",
    "install": "INSTALL spatial",
    "load": "LOAD spatial",
    "set": "SET enable_external_access = true",
    "secret": "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "temp_table": "CREATE TEMP TABLE t AS SELECT 1",
}


@pytest.mark.parametrize("sql", WRITES.values(), ids=WRITES)
def test_query_refuses_what_writes_or_reaches_outside(project, sql):
    project.write_log([record(1)])
    project.invoke("build")
    before = {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()}
    result = project.invoke("query", sql.format(out=project.out, log=project.log), ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: query is read-only: statement ")
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""
    assert {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("sql, message", [
    ("select * from read_text('/etc/hostname')", 'Cannot access file "/etc/hostname"'),
    ("select * from read_csv('http://example.com/x.csv')", 'Cannot access file "http://example'),
    ("PRAGMA enable_profiling", 'Cannot change configuration option "enable_profiling"'),
    ("CALL enable_logging(storage='file', storage_path='x')", "Cannot change configuration option"),
])
def test_query_reads_the_database_only(project, sql, message):
    project.write_log([record(1)])
    project.invoke("build")
    result = project.invoke("query", sql, ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: query: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_query_answers_from_every_table_and_view(project):
    project.write("models/raw_log.sql", "{{ config(materialized='view') }}\n"
                                        "select * from read_json({{ source('feedback') }})")
    project.write_log([record(1), record(2)])
    project.invoke("build")
    models = project.query("select table_name from duckdb_tables() where schema_name = 'main' "
                           "union all select view_name from duckdb_views() where not internal")
    assert ("raw_log",) in models
    assert len(models) == len(list((project.root / "models").glob("*.sql")))
    for (name,) in models:  # each model, as a table or a view, answers as DuckDB itself does
        count = f'select count(*) as n from "{name}"'
        assert project.invoke("query", count).stdout.split()[-1] == str(project.query(count)[0][0])
    assert project.invoke("query", "select count(*) as n from raw_log").stdout.split()[-1] == "2"
    assert project.invoke("query", "describe training_samples").stdout.startswith("column_name")
    assert "analyzed_plan" in project.invoke("query", "explain analyze select 1").stdout


@pytest.mark.parametrize("args", [[""], ["  \n "], ["/* nothing */"], [";"], ["--", "-- nothing"]])
def test_query_without_sql_is_misuse(project, args):
    result = project.invoke("query", *args, ok=False)
    assert (result.exit_code, result.stderr) == (
        2, 'Error: query needs SQL, e.g. python cli.py query "select count(*) from stg_feedback"\n')


def test_query_prints_a_limited_number_of_rows_and_says_how_many_are_left_out(project):
    project.write_log([record(1)])
    project.invoke("build")
    result = project.invoke("query", "select range as n from range(2500)")
    assert result.stdout.splitlines() == ["n", "---"] + [str(i) for i in range(1000)]
    assert result.stderr == ("(1500 more rows not shown: pass --limit 0 to print all of them, "
                             "or --limit N)\n")
    result = project.invoke("query", "--limit", "0", "select range as n from range(2500)")
    assert result.stdout.splitlines() == ["n", "---"] + [str(i) for i in range(2500)]
    assert result.stderr == ""
    assert project.invoke("query", "-n", "3", "select 1 as n from range(5)").stdout == \
        "n\n-\n1\n1\n1\n"


def test_query_before_any_build_says_to_build(project):
    result = project.invoke("query", "select 1", ok=False)
    assert result.exit_code == 1
    assert "no database yet; run `python cli.py build`" in result.stderr


def test_compile_prints_sql_with_vars_as_literals(project):
    result = project.invoke("compile", "training_candidates", "--min-rating", "5", "--model-name", "a'b")
    assert "rating < 5" in result.stdout
    assert "model_name <> 'a''b'" in result.stdout
    assert "-- training_samples" not in result.stdout
    assert project.invoke("compile", "nope", ok=False).exit_code == 2


def test_ls_lists_models_in_build_order(project):
    lines = project.invoke("ls").stdout.splitlines()
    names = [line.split()[0] for line in lines]
    assert names.index("feedback_log") < names.index("stg_feedback") < names.index("training_candidates")
    [exporting] = [line for line in lines if line.startswith("training_set ")]
    assert exporting.endswith("exports: json, jsonl, alpaca")
    assert names.index("training_samples") < names.index("training_set")


def test_run_builds_tables_without_files(project):
    project.write_log([record(1)])
    project.invoke("run")
    assert project.query("select count(*) from training_samples") == [(1,)]
    assert not project.out.exists()


def test_build_writes_run_results(project):
    project.write_log([record(1), record(2, rating=1), record(3, rating=None)])
    project.invoke("build")
    results = json.loads((project.root / "target" / "run_results.json").read_text())
    assert results["accounting"]["read"] == 3
    assert results["accounting"]["rejected_by_reason"] == {"invalid_rating": 1}
    assert results["accounting"]["excluded_by"] == {"below_min_rating": 1, "other_model": 0}
    assert [e["rows"] for e in results["exports"]] == [1, 1, 1]
    assert {m["name"] for m in results["models"]} >= {"feedback_log", "training_samples"}
    assert all(t["status"] == "pass" for t in results["tests"])


def test_help_lists_every_command(project):
    result = project.invoke("--help")
    for command in ["build", "run", "compile", "test", "ls", "query"]:
        assert f"  {command} " in result.stdout
