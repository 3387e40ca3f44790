"""Targets: --target, the duckdb default that needs nothing of Spark's, and the check that refuses
what SQLGlot transpiles silently although Spark runs it wrongly (needs sqlglot, not Spark)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.errors import ProjectError
from engine.target import choose_target

from conftest import ROOT, record


def test_a_default_build_imports_nothing_of_spark(project):
    project.write_log([record(1)])
    code = ("import sys, cli; from click.testing import CliRunner; "
            f"r = CliRunner().invoke(cli.cli, ['--project-dir', {str(project.root)!r}, 'build', '-q']); "
            "assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j', 'sqlglot')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unknown_target_is_a_usage_error_that_names_the_targets(project):
    project.write_log([record(1)])
    result = project.invoke("build", "--target", "sprak", ok=False)
    assert result.exit_code == 2
    assert result.stderr == ("Error: --target sprak: pyproject.toml [tool.fbt.targets] has no target of that "
                             "name. Did you mean 'spark'? Targets: duckdb, spark\n")
    assert not project.out.exists()


@pytest.mark.parametrize(("sql", "message"), [
    ("select trim(user_input, chr(12288)) as t from {{ ref('stg_feedback') }}",
     "line 2 of its spark SQL: chr(12288): Spark's chr() wraps above 255 (chr(n % 256))"),
    ("select regexp_replace(user_input, '\\b1[0-9]{10}\\b', '[PHONE]', 'g') as t from {{ ref('stg_feedback') }}",
     "line 2 of its spark SQL: '\\\\b1[0-9]{10}\\\\b': \\b in a pattern counts CJK letters as word characters"),
    ("select session_id,\n  list(user_input order by position) as l from {{ ref('stg_feedback') }} group by 1",
     "line 2 of its DuckDB SQL: list(... ORDER BY ...): Spark's collect_list keeps no order"),
    ("select hash(user_input) as h from {{ ref('stg_feedback') }}",
     "line 2 of its spark SQL: HASH: Spark's hash() is 32 bits, DuckDB's 64"),
    ("select json_transform(user_input, '{\"a\": \"VARCHAR\"}') as j from {{ ref('stg_feedback') }}",
     "line 2 of its spark SQL: JSON_TRANSFORM: DuckDB's json_transform has no Spark form"),
])
def test_spark_refuses_what_it_would_run_wrongly_naming_the_model_and_line(project, sql, message):
    pytest.importorskip("sqlglot")
    project.write("models/extra.sql", sql)
    result = project.invoke("compile", "--target", "spark", "extra", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: models/extra.sql, {message}"), result.stderr
    assert result.stderr.count("\n") == 1


def test_the_shipped_models_compile_for_spark_with_every_construct_avoided(project):
    pytest.importorskip("sqlglot")
    project.write_log([record(1)])
    for args in ([], ["--var", "with_history=true", "--var", "dedup=true", "--var", "val_ratio=0.2"]):
        result = project.invoke("compile", "--target", "spark", *args)
        assert "-- training_candidates" in result.stdout


def test_an_open_webui_export_compiles_for_spark_with_nothing_refused(project):
    """(Built on both targets in tests/test_spark_openwebui.py.)"""
    pytest.importorskip("sqlglot")
    result = project.invoke("compile", "--target", "spark", "--var", "log_format=openwebui",
                            "--var", "with_history=true", "stg_openwebui_feedback")
    assert "variant_get(" in result.stdout.lower() and "json_transform" not in result.stdout.lower()


def test_spark_without_java_says_what_to_install(monkeypatch):
    from engine.errors import DatabaseError
    from engine.spark import spark_session
    from engine.target import Target

    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(DatabaseError, match=r"^--target spark: Spark needs Java 17\+ and there is no java on PATH"):
        spark_session(Target("spark", "spark", {"spark.app.name": "fbt-no-java"}))


@pytest.mark.parametrize("table, says", [
    ({"type": "spark", "shema": "fbt"}, "[tool.fbt.targets.t] shema: not a setting of a spark target. Did you "
                                         "mean 'schema'? Settings: schema, max_shard_size, spark.*"),
    ({"type": "duckdb", "schema": "fbt"}, "[tool.fbt.targets.t] schema: not a setting of a duckdb target. "
                                          "Settings: max_shard_size"),
    ({"type": "spark", "schema": "a.b"}, "[tool.fbt.targets.t] schema = 'a.b': expected the name of a database "
                                         "of the Spark catalog, such as \"fbt\""),
])
def test_a_targets_unknown_or_bad_setting_is_one_line_naming_it(table, says):
    with pytest.raises(ProjectError) as e:
        choose_target({"t": table}, "t")
    assert str(e.value) == f"pyproject.toml {says}"
