"""Analysts edit models/ and macros/: what they get when it works and when it does not."""

from __future__ import annotations

from conftest import record


def test_an_edited_filter_is_honoured_and_counted(project):
    path = project.root / "models" / "training_candidates.sql"
    path.write_text(path.read_text().replace(
        "        end as good_excluded_by",
        "            when length(model_response) > 4 then 'too_long'\n        end as good_excluded_by"))
    project.write_log([record(1, model_response="短"), record(2, model_response="很长很长的回答")])
    result = project.invoke("build", "--format", "json", "kto")
    assert len(project.read_json("high_quality_samples.json")) == 1
    assert len(project.read_jsonl("kto_samples.jsonl")) == 1  # one WHEN, every format
    assert "valid: 2 = samples 1 + below_min_rating 0 + other_model 0 + too_long 1" in result.stdout


def test_a_macro_may_call_a_macro_of_another_file(project):
    project.write("macros/shout.sql", "{% macro shout(x) %}upper({{ strip_text(x) }}){% endmacro %}")
    project.write("models/loud.sql", "select {{ shout(\"' hi '\") }} as v")
    project.write_log([record(1)])
    project.invoke("run")
    assert project.query("select v from loud") == [("HI",)]


def test_unknown_ref_names_the_file_and_suggests(project):
    project.write("models/extra.sql", "select 1 as x\nfrom {{ ref('stg_feedbak') }}")
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: models/extra.sql:2: ref('stg_feedbak') names no model in "
                                     "models/. Did you mean 'stg_feedback'?")


def test_a_cycle_names_the_files(project):
    project.write("models/a.sql", "select * from {{ ref('b') }}")
    project.write("models/b.sql", "select * from {{ ref('a') }}")
    result = project.invoke("ls", ok=False)
    assert result.exit_code == 1
    assert "models/a.sql -> models/b.sql -> models/a.sql" in result.stderr


def test_an_undeclared_var_and_a_misspelt_name_are_errors(project):
    project.write("models/x.sql", "select {{ var('min_ratin') }}")
    result = project.invoke("compile", "x", ok=False)
    assert "models/x.sql:1: var('min_ratin') is not declared" in result.stderr
    assert "Did you mean 'min_rating'?" in result.stderr
    project.write("models/x.sql", "select 1\n-- {{ typo }}")
    result = project.invoke("compile", "x", ok=False)
    assert result.stderr.strip() == "Error: models/x.sql:2: 'typo' is undefined"


def test_a_jinja_syntax_error_names_the_line(project):
    project.write("models/x.sql", "select 1\n{% if %}")
    result = project.invoke("compile", ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("Error: models/x.sql:2: ")


def test_a_sql_error_names_the_model(project):
    project.write("models/x.sql", "select nope from {{ ref('stg_feedback') }}")
    project.write_log([record(1)])
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: models/x.sql: Binder Error: ")
    assert not project.out.exists() and not project.db.exists()


def test_a_failing_data_test_stops_the_build_and_touches_no_file(project):
    project.write_log([record(1)])
    project.invoke("build")
    before = {p.name: p.read_bytes() for p in project.out.iterdir()}
    project.write("models/tests/no_long_prompts.sql",
                  "select feedback_id, instruction from {{ ref('training_samples') }} where length(instruction) > 5")
    project.write_log([record(1), record(2, user_input="一个很长的问题")])
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: data test no_long_prompts (models/tests/no_long_prompts.sql) "
                                    "failed: 1 failing row(s), e.g. feedback_id=")
    assert "instruction='一个很长的问题'" in result.stderr
    assert {p.name: p.read_bytes() for p in project.out.iterdir()} == before
    assert project.query("select count(*) from training_samples") == [(1,)]  # the old database


def test_the_test_command_runs_the_shipped_data_tests(project):
    project.write_log([record(1)])
    project.invoke("build")
    result = project.invoke("test")
    assert "PASS unique_training_samples_feedback_id" in result.stdout
    assert "PASS accepted_values_training_samples_rating" in result.stdout
    assert "PASS not_empty_training_samples_output" in result.stdout


def test_an_unknown_export_format_in_config_suggests(project):
    path = project.root / "models" / "training_set.sql"
    path.write_text(path.read_text().replace("'alpaca']", "'alpacca']"))
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert "Unknown export format 'alpacca'. Did you mean 'alpaca'?" in result.stderr


def test_a_post_hook_updates_the_model_after_it_is_built(project):
    project.write("models/tagged.sql", (
        "{% set tag_long %}update {{ this }} set tag = 'long' where length(model_response) > 3{% endset %}\n"
        "{{ config(post_hook=[tag_long]) }}\n"
        "select feedback_id, model_response, 'short' as tag from {{ ref('stg_feedback') }}"))
    project.write_log([record(1, model_response="短"), record(2, model_response="很长很长的回答")])
    project.invoke("run")
    assert project.query("select tag from tagged order by feedback_id") == [("short",), ("long",)]
    compiled = project.invoke("compile", "tagged").stdout
    assert "-- post_hook\nupdate \"tagged\" set tag = 'long'" in compiled


def test_a_failing_post_hook_names_the_model_and_the_hook(project):
    project.write("models/x.sql", "{{ config(post_hook='update {{ this }} set nope = 1') }}\nselect 1 as v")
    project.write_log([record(1)])
    result = project.invoke("run", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: models/x.sql: post_hook 1: Binder Error: ")
