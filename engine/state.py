"""fbt's state: what must outlive a build (review decisions, which feedback was exported), kept in a
small DuckDB file of its own (setting `state`, default data/fbt_state.duckdb).

The state is copied into the build's database (schema `state`, read by the models through the
state() macro) before the models run (into a database changed in place, only what differs), and
the build adds its export history there, so that the database holds the state as the build left
it. The state file itself changes only under the build lock, and all or nothing: a review import
writes a copy and os.replaces it over the original (prepare_state); a build, as the last part of
its commit, applies its staged change to the file in one DuckDB transaction (apply_state). A crash
leaves the old file whole, or the build's commit journal applies the change again."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import DatabaseError
from .interrupts import uninterrupted
from .render import quote_identifier
from .runner import configure, duckdb_errors, has_table, spill_directory
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb
    import pyarrow

    from .project import Project

T = TypeVar("T")
SCHEMA = "state"
# A state file from before the history was kept per format (exported_samples had feedback_id, no
# format) does not say which formats wrote a sample: its history is taken as the original script's
# three formats', which every build of that time wrote by default.
UNKNOWN_FORMATS = ("json", "jsonl", "alpaca")
TABLES = {
    # One row per format and row a build has written in that format (the build that last wrote it:
    # with --new-only, the one that first did): the row's unique_key (a feedback_id; a pair's
    # "chosen > rejected" ids). No PRIMARY KEY: a build adds or restamps its rows in bulk, much
    # faster than an index's upserts.
    "exported_samples": "format VARCHAR NOT NULL, sample_id VARCHAR NOT NULL, build_id VARCHAR NOT NULL, "
                        "exported_at TIMESTAMP NOT NULL",
    # One row per reviewed sample: keep or drop, and the reviewer's corrected reply, if any.
    "review_decisions": "feedback_id VARCHAR PRIMARY KEY, decision VARCHAR NOT NULL, "
                        "corrected_output VARCHAR, decided_at TIMESTAMP NOT NULL, source VARCHAR",
    # One row per log: how many records the last build that wrote files read from it (logs only
    # grow: a build that reads fewer stops, unless allow_shrink).
    "log_reads": "log VARCHAR PRIMARY KEY, records BIGINT NOT NULL, build_id VARCHAR NOT NULL, "
                 "read_at TIMESTAMP NOT NULL",
}


# Which writing of the state file a copy of it is (a one-row table, in the file and in a build
# database's copy): each change of the file stamps a new one (prepare_state, apply_state), and a build that
# changes it stamps its database's copy the same. A database changed in place whose copy has the
# file's stamp (and as many history rows) holds the file's export history: it is not compared again.
VERSION = "fbt_version"
# In the build database: what the last build that wrote files found written, per model and format
# (record_written), for the next build to trust as long as the rows and the history are the same.
WRITTEN_SCHEMA, WRITTEN_TABLE = "fbt", "written_rows"
WRITTEN = f"{WRITTEN_SCHEMA}.{WRITTEN_TABLE}"

# Each table's key and the time its rows were made (in UTC, so that machines in other time zones
# agree): two copies of the state (the file's and a Spark catalog's, engine/spark.py) merge into one
# that keeps, for each key, the newer row (the state only grows: decisions are replaced by newer
# ones, each export and read by the next).
KEYS = {"exported_samples": (("format", "sample_id"), "exported_at"),
        "review_decisions": (("feedback_id",), "decided_at"),
        "log_reads": (("log",), "read_at")}


def state_path(project: Project) -> Path:
    return project.path(project.settings.get("state", "data/fbt_state.duckdb"))


def create_tables(con: duckdb.DuckDBPyConnection, schema: str | None = None) -> None:
    prefix = f"{quote_identifier(schema)}." if schema else ""
    if schema:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
    for name, columns in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {prefix}{quote_identifier(name)} ({columns})")


def load_state(con: duckdb.DuckDBPyConnection, project: Project, forget: Iterable[str] = (),
               replace: bool = False) -> None:
    """Copy the state into the build database's `state` schema (empty tables when there is none
    yet); the tables named in forget stay empty (--full-refresh forgets the export history). With
    replace, the database (changed in place) holds the last build's copy: each table is emptied and
    copied again, but the export history, which only grows build by build, is mended (refresh_history)."""
    path = state_path(project)
    with duckdb_errors(project.show(path), DatabaseError):
        create_tables(con, SCHEMA)
        present = set()
        if path.is_file():
            con.execute(f"ATTACH {sql_literal(str(path))} AS fbt_state_file (READ_ONLY)")
            present = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'fbt_state_file'").fetchall()}
        try:
            version = read_version(con, f"fbt_state_file.{VERSION}") if VERSION in present else None
            for name in TABLES:
                copied = name in present and name not in forget
                if replace and copied and name == "exported_samples":
                    if not holds_history(con, version):
                        refresh_history(con, read_table(con, "fbt_state_file", name))
                    continue
                if replace:
                    con.execute(f"DELETE FROM {SCHEMA}.{name}")
                if copied:
                    con.execute(f"INSERT INTO {SCHEMA}.{name} BY NAME {read_table(con, 'fbt_state_file', name)}")
            stamp_version(con, None if forget else version, SCHEMA)
        finally:
            if path.is_file():
                con.execute("DETACH fbt_state_file")


def read_version(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    return con.execute(f"SELECT max(version) FROM {table}").fetchone()[0]


def stamp_version(con: duckdb.DuckDBPyConnection, version: str | None, schema: str | None = None) -> None:
    """The state (its copy in schema) stamped as of the file's writing version."""
    table = f"{quote_identifier(schema)}.{VERSION}" if schema else VERSION
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT ?::VARCHAR AS version", [version])


def holds_history(con: duckdb.DuckDBPyConnection, version: str | None) -> bool:
    """Does the database's copy of the export history (changed in place) hold the state file's
    (attached): the file's version stamp, and as many rows?"""
    ours = has_table(con, SCHEMA, VERSION)
    if version is None or not ours or read_version(con, f"{SCHEMA}.{VERSION}") != version:
        return False
    return con.execute(f"SELECT (SELECT count(*) FROM {SCHEMA}.exported_samples) = "
                       f"(SELECT count(*) FROM fbt_state_file.exported_samples)").fetchone()[0]


def refresh_history(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """The database's copy of the export history made the same as rows (the state file's): only
    the builds whose rows differ (in number, or in a hash of their keys: a build adds rows stamped
    with its id; one that writes every row stamps them anew; --full-refresh forgets the others)
    are copied again."""
    table = f"{SCHEMA}.exported_samples"
    builds = "SELECT build_id, count(*) AS n, bit_xor(hash(format, sample_id)) AS h FROM {} GROUP BY ALL"
    con.execute(f"CREATE OR REPLACE TEMP TABLE fbt_stale_builds AS SELECT build_id FROM "
                f"({builds.format(table)}) AS in_copy FULL JOIN ({builds.format(f'({rows})')}) AS in_file "
                f"USING (build_id) WHERE (in_copy.n, in_copy.h) IS DISTINCT FROM (in_file.n, in_file.h)")
    con.execute(f"DELETE FROM {table} WHERE build_id IN (SELECT build_id FROM fbt_stale_builds)")
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM ({rows}) "
                f"WHERE build_id IN (SELECT build_id FROM fbt_stale_builds)")
    con.execute("DROP TABLE fbt_stale_builds")


def merge_rows(con: duckdb.DuckDBPyConnection, table: str, rows: pyarrow.Table) -> None:
    """Another copy's rows of a state table (its name: the last part of table) merged into it: a
    key's newer row replaces the older one, a key it lacks is added."""
    with con.cursor() as cur:  # (the caller's connection may hold a result it has not read)
        cur.register("fbt_other_state", rows)
        merge_from(cur, table, "fbt_other_state")


def merge_from(con: duckdb.DuckDBPyConnection, table: str, rows: str) -> None:
    """merge_rows, of the rows of a table or query (rows: its SQL), in con's transaction."""
    keys, at = KEYS[table.rsplit(".", 1)[-1]]
    on = " AND ".join(f"t.{k} = n.{k}" for k in keys)
    con.execute(f"DELETE FROM {table} AS t USING {rows} AS n WHERE {on} AND n.{at} > t.{at}")
    con.execute(f"INSERT INTO {table} BY NAME SELECT n.* FROM {rows} AS n ANTI JOIN {table} AS t ON {on}")


def read_state(project: Project, names: Iterable[str] = TABLES) -> dict[str, pyarrow.Table]:
    """The tables of the state file (those named), as Arrow (none when there is no file yet)."""
    import duckdb

    path = state_path(project)
    if not path.is_file():
        return {}
    with duckdb_errors(project.show(path), DatabaseError), duckdb.connect(str(path), read_only=True) as con:
        present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return {name: con.sql(f"SELECT * FROM {quote_identifier(name)}").to_arrow_table()
                for name in names if name in present}


def old_history(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    """Does the database hold an export history without formats (the layout before them)?"""
    columns = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = 'exported_samples'",
        [database]).fetchall()}
    return bool(columns) and "format" not in columns


def read_table(con: duckdb.DuckDBPyConnection, database: str, name: str) -> str:
    """A SELECT of a state table in the current layout, from a state file of any version."""
    table = f"{quote_identifier(database)}.{quote_identifier(name)}"
    if name == "exported_samples" and old_history(con, database):
        return (f"SELECT unnest({sql_literal(list(UNKNOWN_FORMATS))}) AS format, feedback_id AS sample_id, "
                f"build_id, exported_at FROM {table}")
    return f"SELECT * FROM {table}"


def update_state(project: Project, change: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Apply change to a copy of the state file, then swap the copy in (call under the build lock)."""
    updated = prepare_state(project, change)
    with uninterrupted():  # swapped in: the command ends as it would have
        os.replace(updated, state_path(project))


def prepare_state(project: Project, change: Callable[[duckdb.DuckDBPyConnection], None]) -> Path:
    """A copy of the state file with change applied, beside it, for the caller to move into place,
    stamped with a new version (VERSION), in a DuckDB of its own (with the build's memory_limit)."""
    import duckdb

    path = state_path(project)
    updating = path.with_name(f".{path.name}.updating")
    for stale in (updating, updating.with_name(updating.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(spill_directory(updating), ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.is_file():
            shutil.copyfile(path, updating)
        with duckdb_errors(project.show(path), DatabaseError), duckdb.connect(str(updating)) as con:
            configure(con, project.settings.get("duckdb", {}), updating)
            upgrade_tables(con)
            create_tables(con)
            change(con)  # no transaction needed: a failure leaves the copy, which is discarded
            stamp_version(con, uuid.uuid4().hex)
            con.execute("CHECKPOINT")
    except BaseException:
        updating.unlink(missing_ok=True)
        raise
    finally:
        updating.with_name(updating.name + ".wal").unlink(missing_ok=True)
        shutil.rmtree(spill_directory(updating), ignore_errors=True)
    return updating


def upgrade_tables(con: duckdb.DuckDBPyConnection) -> None:
    """A state file from an earlier version of fbt, in the current layout (see read_table)."""
    database = con.execute("SELECT current_database()").fetchone()[0]
    if old_history(con, database):  # (only then: the history is millions of rows at 10M records)
        con.execute(f"CREATE OR REPLACE TABLE exported_samples AS {read_table(con, database, 'exported_samples')}")


def last_read(con: duckdb.DuckDBPyConnection, log: str) -> tuple[int, str] | None:
    """(records, build_id) the last build that wrote files read from log, from the build's copy of the state."""
    return con.execute(f"SELECT records, build_id FROM {SCHEMA}.log_reads WHERE log = ?", [log]).fetchone()


def record_history(con: duckdb.DuckDBPyConnection, written: Iterable[tuple[str, str, str, str]],
                   build_id: str, new_only: bool, version: str) -> bool:
    """This build's rows of the export history, in the build database's copy of the state (which
    then holds the history as the build leaves it): written holds (format, model, unique_key
    column, a condition that the rows the format had not written meet: ExportResult.unwritten),
    every row of each model counting as written (a --new-only file left out only rows its
    format had written before). With new_only, only the rows new to the history are added, the
    rows the files left out keeping the build that wrote them (a daily build adds its few); else
    every row is stamped with this build. The copy is then of the state file's writing version
    (stage_state stamps the file so). Returns whether the rows stamped with build_id (those
    stage_state stages) may restamp rows the state file holds: unless new_only, and no earlier
    build had the same id (a build in the same second: the ids are times; the history is in
    build order, so zonemaps make this look-up cheap)."""
    ids = select_ids(sorted(set(written)), new_only)
    table = f"{SCHEMA}.exported_samples"
    with duckdb_errors("the export history", DatabaseError):
        restamps = not new_only or con.execute(f"SELECT count(*) > 0 FROM {table} WHERE build_id = ?",
                                               [build_id]).fetchall()[0][0]
        if not new_only:
            con.execute(f"DELETE FROM {table} AS t USING ({ids}) AS w "
                        f"WHERE t.format = w.format AND t.sample_id = w.sample_id")
        # (the rows from each format's first unwritten on, held_rows found: few, so only the part
        # of the history that holds their keys is joined, not its every row)
        few = new_only and all(unwritten for *_, unwritten in written)
        history = f"(SELECT format, sample_id FROM {table} WHERE sample_id IN (SELECT sample_id FROM w))" \
            if few else table
        con.execute(f"INSERT INTO {table} WITH w AS MATERIALIZED ({ids}) SELECT w.*, ?, timezone('UTC', now()) "
                    f"FROM w ANTI JOIN {history} AS h USING (format, sample_id)", [build_id])
        stamp_version(con, version, SCHEMA)
        record_written(con, written, version)
    return restamps


def record_written(con: duckdb.DuckDBPyConnection, written: Iterable[tuple[str, str, str, str]],
                   version: str) -> None:
    """For each model a format wrote that has a position column of whole numbers: the last
    position, and how many rows with a key it has up to there and a hash of their keys (every one
    of them now in the format's history), with the history's version (WRITTEN). The next build
    trusts that these rows were written while the model holds the same ones and the history is
    still that version (written_through): its --new-only files look up only the rows after them."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {WRITTEN_SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {WRITTEN} (model VARCHAR, format VARCHAR, last_position BIGINT, "
                f"rows BIGINT, key_hash HUGEINT, version VARCHAR)")
    for model, key in sorted({(model, key) for _, model, key, _ in written}):
        if not whole_positions(con, model):
            continue
        last = con.execute(f"SELECT max(position) FROM {quote_identifier(model)}").fetchall()[0][0]
        if last is None:  # (no rows)
            continue
        rows, key_hash = keys_through(con, model, key, last)
        con.executemany(f"INSERT INTO {WRITTEN} VALUES (?, ?, ?, ?, ?, ?)",
                        [(model, fmt, last, rows, key_hash, version)
                         for fmt in sorted({f for f, m, _, _ in written if m == model})])


def written_through(con: duckdb.DuckDBPyConnection, model: str, key: str,
                    formats: list[str]) -> tuple[int, int] | None:
    """The last position up to which every row of model with a key is in the history of each of
    formats, and how many rows these are, as the last build that wrote them recorded it
    (record_written), when the model holds the same rows up to there (as many, their keys of the
    same hash) and the database's copy of the history is still of that version; else None."""
    if not has_table(con, WRITTEN_SCHEMA, WRITTEN_TABLE) or not whole_positions(con, model):
        return None
    marks = con.execute(f"SELECT DISTINCT last_position, rows, key_hash FROM {WRITTEN} WHERE model = ? AND "
                        f"list_contains(?, format) AND version = (SELECT max(version) FROM {SCHEMA}.{VERSION}) "
                        f"AND (SELECT count(DISTINCT format) FROM {WRITTEN} WHERE model = ? AND "
                        f"list_contains(?, format)) = ?", [model, formats, model, formats, len(formats)]).fetchall()
    if len(marks) != 1:
        return None
    last, rows, key_hash = marks[0]
    return (last, rows) if keys_through(con, model, key, last) == (rows, key_hash) else None


def whole_positions(con: duckdb.DuckDBPyConnection, model: str) -> bool:
    """Is the model's position column of a type of whole numbers (the only positions the rows
    written are recorded by; a model's may change type between builds)?"""
    found = con.execute(f"SELECT column_type FROM (DESCRIBE {quote_identifier(model)}) "
                        f"WHERE column_name = 'position'").fetchall()
    return bool(found) and found[0][0] in WHOLE_NUMBERS


WHOLE_NUMBERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT"}


def keys_through(con: duckdb.DuckDBPyConnection, model: str, key: str, last: int) -> tuple[int, int | None]:
    """How many rows of model with a key have a position up to last, and the sum of their keys' hashes."""
    return con.execute(f"SELECT count(*), sum(hash({quote_identifier(key)})) FROM {quote_identifier(model)} "
                       f"WHERE position <= ? AND {quote_identifier(key)} IS NOT NULL", [last]).fetchall()[0]


@dataclass(frozen=True)
class StateChange:
    """A build's change to the state file, staged for its commit (engine/commit.py) to apply in
    place, in one DuckDB transaction, after the moves: the rows of the export history it stamped
    (and, on a spark target, the catalog's copy of every table) as Parquet files in folder, the
    records read from each log, whether the earlier history is forgotten (--full-refresh), and
    the version the file is stamped with (a change already applied, before a stop, has it: it is
    not applied twice)."""

    state: Path
    folder: Path
    version: str
    build_id: str
    reads: dict[str, int]
    forget_history: bool = False
    settings: dict[str, Any] = field(default_factory=dict)  # DuckDB's (memory_limit ...)
    # Whether its rows may restamp rows the file holds (a build that wrote every row; a Spark
    # catalog's rows). A --new-only build's rows are new to the history, its copy of which was the
    # file's (load_state, the lock held), unless an earlier build had its id (record_history).
    restamps: bool = True

    def document(self) -> dict[str, Any]:
        return {"state": str(self.state), "folder": str(self.folder), "version": self.version,
                "build_id": self.build_id, "reads": self.reads, "forget_history": self.forget_history,
                "settings": self.settings, "restamps": self.restamps}

    @classmethod
    def of(cls, document: dict[str, Any]) -> StateChange:
        return cls(Path(document["state"]), Path(document["folder"]), str(document["version"]),
                   str(document["build_id"]), {str(k): int(v) for k, v in document["reads"].items()},
                   bool(document["forget_history"]), dict(document["settings"]),
                   bool(document.get("restamps", True)))


def change_folder(project: Project) -> Path:
    path = state_path(project)
    return path.with_name(f".{path.name}.change")


def stage_state(project: Project, database: Path | duckdb.DuckDBPyConnection, build_id: str, version: str,
                forget_history: bool, reads: dict[str, int], restamps: bool = True,
                other: dict[str, pyarrow.Table] | None = None) -> StateChange:
    """This build's rows of the export history (record_history, which says whether they restamp
    rows of the file), from its sealed database or from its connection when it is changed in place
    (its rows are that transaction's), and other copy's tables (a Spark catalog's), written aside
    for the commit to apply (apply_state). The file is then stamped with version, the database's;
    with other, with a version of its own (the database does not hold those rows)."""
    import duckdb

    folder = change_folder(project)
    shutil.rmtree(folder, ignore_errors=True)  # (a build stopped before its commit)
    folder.mkdir(parents=True)
    rows = f"SELECT * FROM {{}}{SCHEMA}.exported_samples WHERE build_id = {sql_literal(build_id)}"
    history = sql_literal(str(folder / "exported_samples.parquet"))
    try:
        with duckdb_errors(project.show(state_path(project)), DatabaseError):
            if isinstance(database, Path):
                with duckdb.connect() as con:
                    con.execute(f"ATTACH {sql_literal(str(database))} AS fbt_build (READ_ONLY)")
                    con.execute(f"COPY ({rows.format('fbt_build.')}) TO {history} (FORMAT parquet)")
            else:
                database.execute(f"COPY ({rows.format('')}) TO {history} (FORMAT parquet)")
            if other:
                with duckdb.connect() as con:
                    for name, table in other.items():
                        con.register("fbt_other_state", table)
                        con.execute(f"COPY fbt_other_state TO "
                                    f"{sql_literal(str(folder / f'other_{name}.parquet'))} (FORMAT parquet)")
                        con.unregister("fbt_other_state")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return StateChange(state_path(project), folder, uuid.uuid4().hex if other else version, build_id, reads,
                       forget_history, project.settings.get("duckdb", {}), restamps=restamps or bool(other))


def apply_state(change: StateChange) -> None:
    """A build's staged change made to the state file in place, in one transaction (a stop leaves
    the file as it was, and the commit's journal applies the change again), unless the file
    already has its version; then the staged rows removed. While another process holds the file
    (a review export reading it), it waits a moment."""
    path = change.state
    with duckdb_errors(str(path), DatabaseError), open_waiting(path) as con:
        configure(con, change.settings, path)
        con.execute("BEGIN")
        upgrade_tables(con)
        create_tables(con)
        if has_table(con, "main", VERSION) and read_version(con, VERSION) == change.version:
            con.execute("ROLLBACK")  # (applied before a stop)
        else:
            for name in TABLES:
                other = change.folder / f"other_{name}.parquet"
                if other.is_file():
                    merge_from(con, name, f"read_parquet({sql_literal(str(other))})")
            con.executemany("INSERT OR REPLACE INTO log_reads VALUES (?, ?, ?, timezone('UTC', now()))",
                            [(log, records, change.build_id) for log, records in change.reads.items()])
            built = f"read_parquet({sql_literal(str(change.folder / 'exported_samples.parquet'))})"
            if change.forget_history:
                con.execute("DELETE FROM exported_samples")
            elif change.restamps:  # (a row this build stamped anew; a join over the whole history)
                con.execute(f"DELETE FROM exported_samples AS t USING {built} AS b "
                            f"WHERE t.format = b.format AND t.sample_id = b.sample_id")
            con.execute(f"INSERT INTO exported_samples BY NAME SELECT * FROM {built}")
            stamp_version(con, change.version)
            con.execute("COMMIT")
    shutil.rmtree(spill_directory(path), ignore_errors=True)
    shutil.rmtree(change.folder, ignore_errors=True)


def open_waiting(path: Path) -> duckdb.DuckDBPyConnection:
    import duckdb

    return while_held(lambda: duckdb.connect(str(path)))


def attach_waiting(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    """The state file attached read-only to con (waiting while a build's commit changes it)."""
    while_held(lambda: con.execute(f"ATTACH {sql_literal(str(path))} AS {alias} (READ_ONLY)"))


def while_held(attempt: Callable[[], T], seconds: float = 10.0) -> T:
    """attempt() (an open of the state file), tried again for a few seconds while another process
    holds the file (DuckDB's lock: a build's commit changes it in place, a reader reads it)."""
    import time

    import duckdb

    deadline = time.monotonic() + seconds
    while True:
        try:
            return attempt()
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def select_ids(written: list[tuple[str, str, str, str]], new_only: bool) -> str:
    """The query of (format, sample_id) for every row written, from each model's table (with
    new_only, of the rows that may be new to the history: the condition written gives)."""
    return " UNION ALL ".join(
        f"SELECT {sql_literal(fmt)} AS format, {quote_identifier(key)}::VARCHAR AS sample_id "
        f"FROM {quote_identifier(model)} WHERE {quote_identifier(key)} IS NOT NULL"
        + (f" AND {unwritten}" if new_only and unwritten else "")
        for fmt, model, key, unwritten in written) \
        or "SELECT NULL::VARCHAR AS format, NULL::VARCHAR AS sample_id WHERE false"
