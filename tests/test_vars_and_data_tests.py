"""Vars are typed data, never code; data tests guard the training set before anything is exported."""

from __future__ import annotations

import json

import pytest
from conftest import record
from test_bad_input import digest

from engine.errors import VarError
from engine.vars import VarSpec, check_value

HOSTILE = ["{{ 7*7 }}", "'; drop table stg_feedback; --", "x' OR '1'='1", "{% raw %}", "$1", "\\"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_var_given_as_jinja_or_sql_is_a_literal(project, value):
    project.write_log([record(1, model_name=value), record(2, model_name="other")])
    compiled = project.invoke("compile", "training_candidates", "--model-name", value).stdout
    assert f"model_name <> '{value.replace(chr(39), chr(39) * 2)}'" in compiled
    result = project.invoke("build", "--model-name", value)
    assert "valid: 2 = samples 1 + below_min_rating 0 + other_model 1" in result.stdout
    assert project.query("select model_name from training_samples") == [(value,)]
    assert project.query("select count(*) from stg_feedback") == [(2,)]


HOOKS = {  # the two ways a model writes a post hook: a {% set %} block, rendered with the model,
           # and a string literal, a template rendered after it (as in dbt)
    "set_block": "{% set stamp %}update {{ this }} set system = {{ var('system_prompt') }}{% endset %}"
                 "\n{{ config(post_hook=[stamp]) }}\n",
    "string": "{{ config(post_hook=\"update {{ this }} set system = {{ var('system_prompt') }}\") }}\n",
}


@pytest.mark.parametrize("hook", HOOKS.values(), ids=HOOKS)
@pytest.mark.parametrize("value", ["{{ 7*7 }}", "{{ cycler.__init__.__globals__.os.getcwd() }}",
                                   "{% raw %}"])
def test_a_var_in_a_post_hook_is_data(project, hook, value):
    project.write("models/persona.sql",
                  hook + "select feedback_id, '' as system from {{ ref('stg_feedback') }}")
    project.write_log([record(1)])
    project.invoke("run", "--var", f"system_prompt={value}")
    assert project.query("select system from persona") == [(value,)]
    compiled = project.invoke("compile", "persona", "--var", f"system_prompt={value}").stdout
    assert f"-- post_hook\nupdate \"persona\" set system = '{value}';" in compiled


def test_a_template_cannot_reach_python(project):
    project.write("models/evil.sql", "select '{{ cycler.__init__.__globals__.os.getcwd() }}' as x")
    result = project.invoke("compile", "evil", ok=False)
    assert (result.exit_code, result.stderr) == (
        1, "Error: models/evil.sql:1: access to attribute '__init__' of 'type' object is unsafe.\n")


@pytest.mark.parametrize("args, message", [
    (["--var", "min_ratin=5"], "Error: Unknown var 'min_ratin' (from --var). Did you mean 'min_rating'?\n"),
    (["--vars", '{"modelname": "m"}'], "Error: Unknown var 'modelname' (from --vars). Did you mean "
                                       "'model_name'?\n"),
    (["--min-rating", "{{ 7*7 }}"], "Error: Invalid value for var 'min_rating' (from --min-rating): "
                                    "\"{{ 7*7 }}\" is not an integer from 1 to 5. Example: --var min_rating=4\n"),
    (["--var", "min_rating=4; drop table x"], "Error: Invalid value for var 'min_rating' (from --var): "
                                              "\"4; drop table x\" is not an integer from 1 to 5. "
                                              "Example: --var min_rating=4\n"),
    (["--vars", '{"min_rating": "5"}'], "Error: Invalid value for var 'min_rating' (from --vars): \"5\" is "
                                        "not an integer from 1 to 5. Example: --var min_rating=4\n"),
])
def test_unknown_or_ill_typed_vars_are_misuse(project, args, message):
    project.write_log([record(1)])
    result = project.invoke("build", *args, ok=False)
    assert (result.exit_code, result.stderr) == (2, message)


DEEP = "[" * 60000 + "]" * 60000
TOO_DEEP = ("Error: Invalid value for '--vars': expected a JSON object of vars, e.g. "
            "'{\"min_rating\": 5}'; this one is nested too deeply to read\n")


@pytest.mark.parametrize("args, message", [
    (["--vars", '{"a":' * 60000 + "1" + "}" * 60000], TOO_DEEP),
    (["--vars", DEEP], TOO_DEEP),
    (["--vars", '{"formats": ' + DEEP + "}"], TOO_DEEP),
    (["--var", "min_rating=" + DEEP], "Error: Invalid value for var 'min_rating' (from --var): \""
                                      + "[" * 98 + "… is not an integer from 1 to 5. Example: "
                                      "--var min_rating=4\n"),
], ids=["vars_object", "vars_array", "vars_value", "var"])
def test_deeply_nested_vars_are_one_line_misuse(project, args, message):
    project.write_log([record(1)])
    result = project.invoke("compile", *args, ok=False)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == message.strip()  # after click's usage lines, if any
    assert "Traceback" not in result.output


def test_a_value_too_deep_to_show_is_still_one_line():
    deep: list = []
    for _ in range(100000):
        deep = [deep]
    with pytest.raises(VarError) as caught:
        check_value(VarSpec("formats", ["json"]), deep, "--vars")
    assert str(caught.value) == ("Invalid value for var 'formats' (from --vars): a value nested too "
                                 "deeply to show is not a list of text. Example: --var formats=json")


def test_data_tests_pass_on_a_clean_build(project):
    project.write_log([record(n) for n in range(1, 4)])
    summary = project.invoke("build").stdout
    lines = project.invoke("test").stdout.splitlines()
    assert all(line.startswith("PASS ") for line in lines)
    assert {"PASS not_null_training_samples_feedback_id", "PASS unique_training_samples_feedback_id",
            "PASS accepted_values_training_samples_rating", "PASS not_empty_training_samples_instruction",
            "PASS not_empty_training_samples_output", "PASS unique_preference_pairs_pair_id"} <= set(lines)
    # the build ran the tests of what its files read; `test` runs them all
    def tests_run() -> list[str]:
        return [t["name"] for t in json.loads((project.root / "target" / "run_results.json").read_text())["tests"]]

    ran = tests_run()
    assert "unique_training_samples_feedback_id" in ran and "unique_preference_pairs_pair_id" not in ran
    assert (f"data tests: {len(ran)} of {len(ran)} passed ({len(lines) - len(ran)} more, of models no file "
            f"reads: python cli.py test)") in summary
    project.invoke("build", "--format", "dpo")
    assert "unique_preference_pairs_pair_id" in tests_run()


def test_a_failing_sql_test_stops_the_build_before_anything_is_exported(project):
    project.write_log([record(n, model_response=f"answer {n}") for n in range(1, 4)])
    project.invoke("build")
    before = digest(project)
    project.write("models/tests/no_short_answers.sql",
                  "select feedback_id, output from {{ ref('training_samples') }} where length(output) < 4\n")
    project.write_log([record(1, model_response="ok"), record(2, model_response="long enough")])
    result = project.invoke("build", ok=False)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: data test no_short_answers (models/tests/no_short_answers.sql) failed: 1 failing row(s), "
        f"e.g. feedback_id='{record(1)['id']}', output='ok'; nothing was exported\n")
    assert digest(project) == before
    tested = project.invoke("test", ok=False)  # against the last finished build, which passes it
    assert tested.exit_code == 0 and "PASS no_short_answers" in tested.stdout


def test_a_failing_declared_test_names_itself(project):
    model = project.root / "models" / "training_samples.sql"
    model.write_text(model.read_text().replace(
        "'output': ['not_empty'],", "'output': ['not_empty'],\n        'model_name': "
        "[{'accepted_values': {'values': ['huanhuan-qwen']}}],"), encoding="utf-8")
    project.write_log([record(1), record(2, model_name="other")])
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: data test accepted_values_training_samples_model_name "
                                    "(models/training_samples.sql) failed: 1 failing row(s), e.g. ")
    assert "model_name='other'" in result.stderr and result.stderr.count("\n") == 1
    assert not project.out.exists()


def test_an_unknown_test_name_suggests_the_right_one(project):
    model = project.root / "models" / "training_samples.sql"
    model.write_text(model.read_text().replace("['not_null', 'unique']", "['not_null', 'uniqe']"),
                     encoding="utf-8")
    project.write_log([record(1)])
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert "unknown test 'uniqe'. Did you mean 'unique'?" in result.stderr
