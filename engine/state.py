"""fbt's state: what must outlive a build (review decisions, which feedback was exported), kept in a
small DuckDB file of its own (setting `state`, default data/fbt_state.duckdb).

A build starts from a fresh database, so the state is copied into it (schema `state`, read by the
models through the state() macro) before the models run. The state file itself changes only under
the build lock, by writing a copy and os.replace-ing it over the original: a crash leaves the old
file whole. A build changes it only after its files are committed."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DatabaseError
from .render import quote_identifier
from .runner import configure, duckdb_errors, spill_directory
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb

    from .project import Project

SCHEMA = "state"
TABLES = {
    # One row per feedback_id a build has written to its files (the newest build that did). No
    # PRIMARY KEY: stage_state rewrites the table whole, which is much faster than an index's upserts.
    "exported_samples": "feedback_id VARCHAR NOT NULL, build_id VARCHAR NOT NULL, "
                        "exported_at TIMESTAMP NOT NULL",
    # One row per reviewed sample: keep or drop, and the reviewer's corrected reply, if any.
    "review_decisions": "feedback_id VARCHAR PRIMARY KEY, decision VARCHAR NOT NULL, "
                        "corrected_output VARCHAR, decided_at TIMESTAMP NOT NULL, source VARCHAR",
}


def state_path(project: Project) -> Path:
    return project.path(project.settings.get("state", "data/fbt_state.duckdb"))


def create_tables(con: duckdb.DuckDBPyConnection, schema: str | None = None) -> None:
    prefix = f"{quote_identifier(schema)}." if schema else ""
    if schema:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
    for name, columns in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {prefix}{quote_identifier(name)} ({columns})")


def load_state(con: duckdb.DuckDBPyConnection, project: Project, forget: Iterable[str] = ()) -> None:
    """Copy the state into the build database's `state` schema (empty tables when there is none
    yet); the tables named in forget stay empty (--full-refresh forgets the export history)."""
    path = state_path(project)
    with duckdb_errors(project.show(path), DatabaseError):
        create_tables(con, SCHEMA)
        if not path.is_file():
            return
        con.execute(f"ATTACH {sql_literal(str(path))} AS fbt_state_file (READ_ONLY)")
        try:
            present = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'fbt_state_file'").fetchall()}
            for name in TABLES:
                if name in present and name not in forget:
                    con.execute(f"INSERT INTO {SCHEMA}.{name} BY NAME SELECT * FROM fbt_state_file.{name}")
        finally:
            con.execute("DETACH fbt_state_file")


def update_state(project: Project, change: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Apply change to a copy of the state file, then swap the copy in (call under the build lock)."""
    os.replace(prepare_state(project, change), state_path(project))


def prepare_state(project: Project, change: Callable[[duckdb.DuckDBPyConnection], None]) -> Path:
    """A copy of the state file with change applied, beside it, for the caller to move into place."""
    import duckdb

    path = state_path(project)
    updating = path.with_name(f".{path.name}.updating")
    for stale in (updating, updating.with_name(updating.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(spill_directory(updating), ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        shutil.copyfile(path, updating)
    try:
        with duckdb_errors(project.show(path), DatabaseError):
            # with the build's memory_limit: at 10M, the export history alone is 7M ids
            con = configure(duckdb.connect(str(updating)), project.settings.get("duckdb", {}), updating)
            try:
                create_tables(con)
                change(con)  # no transaction needed: a failure leaves the copy, which is discarded
                con.execute("CHECKPOINT")
            finally:
                con.close()
    except BaseException:
        updating.unlink(missing_ok=True)
        raise
    finally:
        updating.with_name(updating.name + ".wal").unlink(missing_ok=True)
        shutil.rmtree(spill_directory(updating), ignore_errors=True)
    return updating


def stage_state(project: Project, database: Path, models: Iterable[str], build_id: str,
                forget_history: bool) -> Path:
    """The state with every feedback_id this build writes remembered (read from its sealed database:
    the exported models that have a feedback_id column, i.e. the samples, not pairs), as a copy for
    the build's commit to move into place; with forget_history (--full-refresh) the earlier history
    is dropped first."""
    wanted = sorted(set(models))

    def change(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"ATTACH {sql_literal(str(database))} AS fbt_build (READ_ONLY)")
        try:
            with_ids = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_columns() WHERE database_name = 'fbt_build' "
                "AND schema_name = 'main' AND column_name = 'feedback_id'").fetchall()}
            ids = " UNION ".join(f"SELECT feedback_id FROM fbt_build.main.{quote_identifier(m)} "
                                 f"WHERE feedback_id IS NOT NULL" for m in wanted if m in with_ids)
            ids = ids or "SELECT NULL::VARCHAR AS feedback_id WHERE false"
            earlier = "WHERE false" if forget_history else "WHERE feedback_id NOT IN (SELECT feedback_id FROM new)"
            con.execute(f"CREATE OR REPLACE TABLE exported_samples AS WITH new AS ({ids}) "
                        f"SELECT * FROM exported_samples {earlier} UNION ALL "
                        f"SELECT feedback_id, {sql_literal(build_id)}, now()::TIMESTAMP FROM new")
        finally:
            con.execute("DETACH fbt_build")

    return prepare_state(project, change)
