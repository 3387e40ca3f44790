"""The spark target's `schema`, run by tests/test_spark_catalog.py in a pytest process of its own
(a Spark session's catalog is chosen when it starts, and the other spark tests' session, with
Spark's in-memory catalog, is started first in their process): every model kept as a table of the
project's own Hive metastore, the same rows as DuckDB's, replaced only by a build that commits
(and read by another process when this one has ended: test_spark_catalog.py). The project is made
in FBT_CATALOG_PROJECT, when given."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from engine.project import load_project
from engine.spark import BUILDING, REPLACED, STATE, spark_session, this_process

from conftest import copy_project, record

TARGET = """
[tool.fbt.targets.tables]
type = "spark"
schema = "fbt"
"spark.master" = "local[2]"
"spark.sql.shuffle.partitions" = 4
"spark.ui.enabled" = false
"spark.sql.session.timeZone" = "Asia/Shanghai"  # (the state's times are kept as the file keeps them)

[tool.fbt.targets.views]
type = "spark"
"spark.master" = "local[2]"
"""
RECORDS = [record(n, rating=5 if n % 3 else 2, model_response=f"回答 {n}") for n in range(1, 31)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = os.environ.get("FBT_CATALOG_PROJECT") or tmp_path_factory.mktemp("catalog") / "proj"
    project = copy_project(Path(root))
    with (project.root / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write(TARGET)
    project.write_log(RECORDS[:20])
    result = project.invoke("build", "--target", "tables")
    return project, result


def catalog(project):
    return spark_session(load_project(project.root, target="tables").target)


def duckdb_counts(project) -> dict[str, int]:
    with duckdb.connect(str(project.db), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() "
                                           "WHERE schema_name = 'main'").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def spark_counts(project) -> dict[str, int]:
    spark = catalog(project)
    names = [r.tableName for r in spark.sql("SHOW TABLES IN fbt").collect()
             if not r.isTemporary and not r.tableName.startswith(STATE)]
    return {n: spark.table(f"fbt.{n}").count() for n in names}


def samples(project) -> list[tuple]:
    rows = catalog(project).sql("SELECT feedback_id, output FROM fbt.training_samples").collect()
    return sorted((r.feedback_id, r.output) for r in rows)


def test_every_model_is_a_table_of_the_schema_with_duckdbs_rows(built):
    project, result = built
    counts = duckdb_counts(project)
    assert spark_counts(project) == counts
    assert f"kept {len(counts)} model(s) as tables of the Spark catalog's `fbt`" in result.output
    with duckdb.connect(str(project.db), read_only=True) as con:
        expected = sorted(con.execute("SELECT feedback_id, output FROM training_samples").fetchall())
    assert samples(project) == expected and len(expected) == 14
    assert (project.root / "target" / "spark-metastore").is_dir()
    assert (project.root / "target" / "spark-warehouse" / "fbt.db" / "training_samples").is_dir()


def test_a_failed_build_leaves_the_tables_as_they_were(built):
    project, _ = built
    before = (spark_counts(project), samples(project))
    project.write_log(RECORDS)
    project.write("models/broken.sql", "select no_such_column from {{ ref('stg_feedback') }}")
    result = project.invoke("build", "--target", "tables", ok=False)
    assert result.exit_code == 1 and "models/broken.sql" in result.stderr
    assert (spark_counts(project), samples(project)) == before
    assert state_rows(project)[0] == state_rows(project)[1]
    assert not any(BUILDING in name or name == "fbt_lock" for name in spark_counts(project))
    (project.root / "models" / "broken.sql").unlink()


def test_a_build_killed_while_it_put_its_tables_in_place_is_mended_by_the_next(built):
    """(As the kill would leave them: the last build's table set aside, another build's table.)"""
    project, _ = built
    spark = catalog(project)
    before = spark_counts(project)
    spark.sql("ALTER TABLE fbt.training_samples RENAME TO fbt.training_samples__fbt_replaced_0badc0de")
    spark.sql("CREATE TABLE fbt.review_queue__fbt_building_0badc0de_3 USING parquet AS SELECT 1 AS x")
    project.write("models/broken.sql", "select no_such_column from {{ ref('stg_feedback') }}")
    project.invoke("build", "--target", "tables", ok=False)
    (project.root / "models" / "broken.sql").unlink()
    assert spark_counts(project) == before


def state_rows(project) -> dict[str, list[tuple]]:
    """fbt's state as the file keeps it, and as the catalog does: each table's rows."""
    with duckdb.connect(str(project.root / "data" / "fbt_state.duckdb"), read_only=True) as con:
        kept = {n: sorted(con.execute(f"SELECT * FROM {n}").fetchall())
                for n in ("exported_samples", "log_reads")}
    spark = catalog(project)
    there = {n: sorted(tuple(r) for r in spark.table(f"fbt.{STATE}{n}").collect()) for n in kept}
    return kept, there


def test_the_state_is_kept_in_the_catalog_too_with_its_times_as_the_file_has_them(built):
    project, _ = built
    kept, there = state_rows(project)
    assert kept == there
    assert len(kept["exported_samples"]) == 3 * 14 and len(kept["log_reads"]) == 1


def test_a_build_that_commits_replaces_them_and_a_new_machine_has_the_catalogs_state(built):
    """(The state file gone, as on a new driver: --new-only still writes only what is new.)"""
    project, _ = built
    (project.root / "data" / "fbt_state.duckdb").unlink()
    project.write_log(RECORDS)
    before = {p.name for p in project.out.iterdir()}
    result = project.invoke("build", "--target", "tables", "--new-only", "--format", "jsonl")
    added = [p for p in project.out.iterdir() if p.name not in before]
    assert [len(project.read_jsonl(p.name)) for p in added] == [6], result.output
    assert "already_exported 14" in result.output
    assert spark_counts(project) == duckdb_counts(project)
    assert len(samples(project)) == 20
    kept, there = state_rows(project)
    assert kept == there and len(kept["exported_samples"]) == 2 * 14 + 20


def test_query_on_spark_reads_the_schemas_tables(built):
    """query --target: the DuckDB SQL transpiled as the models are, run on the catalog's tables
    (the build's DuckDB database is moved away meanwhile), rows past --limit counted."""
    project, _ = built
    expected = [(r.feedback_id, r.output) for r in catalog(project).sql(
        "SELECT feedback_id, output FROM fbt.training_samples ORDER BY position").collect()]
    aside = project.db.with_name("aside.duckdb")
    project.db.rename(aside)
    try:
        result = project.invoke("query", "--target", "tables", "--limit", "2",
                                "select feedback_id, output from training_samples order by position")
    finally:
        aside.rename(project.db)
    rows = [tuple(cell.strip() for cell in line.split("|")) for line in result.stdout.splitlines()]
    assert rows[0] == ("feedback_id", "output") and len(rows) == 4  # the names, a rule, 2 rows
    assert rows[2:] == expected[:2]
    assert result.stderr.startswith(f"({len(expected) - 2} more rows not shown")
    # Spark replaces ${...} before it parses, in comments too: this one would end the comment
    project.invoke("query", "--target", "tables",
                   "/* *${system:file.separator} DROP TABLE fbt.training_samples -- */ select 1")
    assert "training_samples" in spark_counts(project)


@pytest.mark.parametrize("target, sql, said", [
    ("tables", 'select * from parquet."/etc/hostname"',
     "reads parquet.`/etc/hostname` (a file, as format.`path`, is not read); on Spark, query reads only"),
    ("tables", "select reflect('java.util.UUID', 'randomUUID')", "calls reflect(), which runs Java code"),
    ("tables", "select '${env:HOME}'", "holds ${...}, which Spark would replace"),
    ("tables", "describe select * from training_samples", "one SELECT (or DESCRIBE of a table)"),
    ("tables", "select * from another_table", "reads another_table, which schema fbt does not have"),
    ("tables", "select * from fbt.java_view",
     "reads java_view, a view (it runs whatever SQL its owner wrote); on Spark, query reads only"),
    ("views", "select 1", "the target keeps no tables"),
])
def test_query_on_spark_reads_nothing_else(built, target, sql, said):
    project, _ = built
    spark = catalog(project)
    spark.sql("CREATE VIEW fbt.java_view AS SELECT reflect('java.util.UUID', 'randomUUID') AS x")  # (someone's)
    try:
        result = project.invoke("query", "--target", target, sql, ok=False)
    finally:
        spark.sql("DROP VIEW fbt.java_view")
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"Error: query --target {target}: ") and said in result.stderr


def test_one_build_at_a_time_writes_the_schema_on_whichever_machine_it_runs(built):
    """The schema's lock (engine/spark.py, SparkRun.lock): held by another machine's build, then left
    by a killed build of this machine (its pid no longer runs), which the next build takes over.
    (Last: its build changes what the tests above look at.)"""
    project, _ = built
    spark = catalog(project)
    held = "'fbt.run' = '0badc0de', 'fbt.since' = '20261202T010203Z'"
    spark.sql(f"CREATE VIEW fbt.fbt_lock TBLPROPERTIES ('fbt.host' = 'gpu-7', 'fbt.boot' = 'b', "
              f"'fbt.pid' = '4242', {held}) AS SELECT 1")
    before = spark_counts(project)
    result = project.invoke("build", "--target", "tables", ok=False)
    assert result.exit_code == 1
    assert result.stderr == ("Error: schema fbt: another build writes it (host gpu-7, pid 4242, since "
                             "20261202T010203Z); wait for it to end, or, if it no longer runs, drop view "
                             "fbt.fbt_lock and build again\n")
    assert spark_counts(project) == before
    spark.sql("DROP VIEW fbt.fbt_lock")
    ended = subprocess.Popen(["true"])
    ended.wait()
    dead = {**this_process(), "fbt.pid": str(ended.pid), "fbt.started": "1"}  # (this machine's)
    properties = ", ".join(f"'{key}' = '{value}'" for key, value in dead.items())
    spark.sql(f"CREATE VIEW fbt.fbt_lock TBLPROPERTIES ({properties}, {held}) AS SELECT 1")
    project.invoke("build", "--target", "tables")
    assert "fbt_lock" not in spark_counts(project)


def test_review_decisions_are_kept_in_the_catalog_for_every_driver(built, tmp_path):
    """`review import --target tables`: the decisions go into the state file and the catalog's copy
    of fbt's state, so that a driver without the file (here: the file gone) leaves them out of its
    `review export` and its build drops the dropped reply."""
    project, _ = built
    queue = tmp_path / "queue.csv"
    project.invoke("review", "export", "--target", "tables", "-o", str(queue))
    awaiting = [row["feedback_id"] for row in csv.DictReader(queue.open(encoding="utf-8-sig"))]
    dropped = awaiting[0]
    decided = tmp_path / "decided.csv"
    decided.write_text(f"feedback_id,decision\n{dropped},drop\n", encoding="utf-8")
    result = project.invoke("review", "import", str(decided), "--target", "tables")
    assert "drop 1;" in result.output and "kept in the Spark catalog's `fbt` too" in result.output
    there = catalog(project).table(f"fbt.{STATE}review_decisions").collect()
    assert [(r.feedback_id, r.decision) for r in there] == [(dropped, "drop")]
    (project.root / "data" / "fbt_state.duckdb").unlink()  # another driver
    project.invoke("review", "export", "--target", "tables", "-o", str(queue))
    again = [row["feedback_id"] for row in csv.DictReader(queue.open(encoding="utf-8-sig"))]
    assert again == awaiting[1:]
    # A build putting its copy in place has the last one aside for a moment (or left it there, killed)
    spark = catalog(project)
    spark.sql(f"ALTER TABLE fbt.{STATE}review_decisions RENAME TO fbt.{STATE}review_decisions{REPLACED}0badc0de")
    project.invoke("review", "export", "--target", "tables", "-o", str(queue))
    assert [row["feedback_id"] for row in csv.DictReader(queue.open(encoding="utf-8-sig"))] == awaiting[1:]
    project.invoke("build", "--target", "tables")  # (puts the one aside back, and honours it)
    assert dropped not in [feedback_id for feedback_id, _ in samples(project)]
    assert project.query(f"select count(*) from training_samples where feedback_id = '{dropped}'") == [(0,)]


def test_a_newer_decision_of_another_driver_stands_and_the_import_says_so(built, tmp_path):
    project, _ = built
    queue = tmp_path / "queue.csv"
    project.invoke("review", "export", "--target", "tables", "-o", str(queue))
    sample = next(csv.DictReader(queue.open(encoding="utf-8-sig")))["feedback_id"]
    spark = catalog(project)
    spark.sql(f"INSERT INTO fbt.{STATE}review_decisions VALUES ('{sample}', 'keep', NULL, "
              f"TIMESTAMP_NTZ'2099-01-01 00:00:00', 'another driver.csv')")
    decided = tmp_path / "decided.csv"
    decided.write_text(f"feedback_id,decision\n{sample},drop\n", encoding="utf-8")
    result = project.invoke("review", "import", str(decided), "--target", "tables")
    assert "kept in the Spark catalog's `fbt` too" in result.stdout
    assert result.stderr == ("warning: 1 of these samples has a later decision in the catalog (from another "
                             "driver, or a clock ahead of this one's): the catalog keeps it, and the next "
                             "build with --target tables takes it\n")
    there = spark.table(f"fbt.{STATE}review_decisions").where(f"feedback_id = '{sample}'").collect()
    assert [(r.decision, r.source) for r in there] == [("keep", "another driver.csv")]
