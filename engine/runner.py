"""DuckDB: the build database (built beside the real one, then swapped in, or changed in place:
engine/increment.py), models and queries."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import (
    DatabaseError,
    EngineError,
    ModelRunError,
    RecordShapeError,
    RecordTooLargeError,
    SourceError,
)
from .interrupts import fix_for
from .lock import wait_for_build
from .logcheck import RECORDS, describe
from .render import Rendered, quote_identifier
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb

def first_line(error: Exception) -> str:
    """DuckDB's messages span lines; the first one says what and where."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


@contextmanager
def duckdb_errors(where: str, error: type[EngineError] = ModelRunError,
                  sources: dict[str, Path] | None = None, records: str = "log") -> Iterator[None]:
    """Turn a DuckDB exception into an EngineError that says where; a failure to read a source
    file (holding records, engine/logcheck.py) becomes a SourceError naming the file."""
    import duckdb

    try:
        yield
    except (duckdb.Error, UnicodeDecodeError) as e:
        # DuckDB quotes bytes of a bad log in its message; when they are not UTF-8, its Python
        # client raises UnicodeDecodeError instead: that too is the log's fault, when there is one.
        message = first_line(e)
        if "maximum_object_size" in message:  # the engine reads it again with more room
            raise RecordTooLargeError(f"{where}: {message}") from e
        for path in (sources or {}).values():
            if str(path) in message or isinstance(e, UnicodeDecodeError) and len(sources or {}) == 1:
                if "JSON transform error" in message:  # a typed reader's, maybe: read again as JSON
                    raise RecordShapeError(partial(describe, path, message, RECORDS[records])) from e
                raise SourceError(describe(path, message, RECORDS[records])) from e
        if isinstance(e, UnicodeDecodeError):
            raise
        raise error(f"{where}: {message}{fix_for(message)}") from e


@contextmanager
def system_errors(where: str) -> Iterator[None]:
    """What the system under DuckDB refused (a full disk, memory, a conflicting transaction, a
    denied file, a failed write that invalidated the database), where no step said it, as one
    DatabaseError naming where; any other DuckDB error there is fbt's own SQL failing, a bug, and
    stays a traceback."""
    import duckdb

    try:
        yield
    except (duckdb.OperationalError, duckdb.PermissionException, duckdb.FatalException) as e:
        message = first_line(e)
        raise DatabaseError(f"{where}: {message}{fix_for(message)}") from e


def connect_new(path: Path, settings: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """A fresh database file at path (a stale one from a killed build is removed first), with the
    project's DuckDB settings applied by SET: DuckDB 2.0 silently ignores some of them (e.g.
    disabled_compression_methods) when given to connect(). Unless the settings name a
    temp_directory, DuckDB spills beside the new file (see spill_directory)."""
    import duckdb

    remove_build_files(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb_errors("the new database", DatabaseError):
        con = duckdb.connect(str(path))
    return configure(con, settings, path)


def configure(con: duckdb.DuckDBPyConnection, settings: dict[str, Any],
              path: Path) -> duckdb.DuckDBPyConnection:
    """Apply the project's DuckDB settings to a connection to the database file at path."""
    with duckdb_errors("pyproject.toml [tool.fbt.duckdb]", DatabaseError):
        for name, value in {"temp_directory": str(spill_directory(path)), **settings}.items():
            con.execute(f"SET {quote_identifier(name)} = {sql_literal(value)}")
    return con


def spill_directory(path: Path) -> Path:
    """Where a build spills what does not fit in memory_limit: beside the database, on the disk
    that holds the data (not /tmp, which may be memory), and removed with the build's leftovers."""
    return path.with_name(path.name + ".tmp")


def remove_build_files(path: Path) -> None:
    """The database file a build was writing, its WAL and its spill directory."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    shutil.rmtree(spill_directory(path), ignore_errors=True)


def connect_read_only(path: Path, shown: str, wait: bool = True) -> duckdb.DuckDBPyConnection:
    """The database, read-only; when DuckDB says another process holds it, wait for a build that
    changes it in place to finish (unless the caller holds the build lock itself: not wait)."""
    import duckdb

    if not path.is_file():
        raise DatabaseError(f"{shown}: no database yet; run `python cli.py build` (or run) first")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as e:
        if "lock" not in str(e).lower() or not wait:
            with duckdb_errors(shown, DatabaseError):
                raise
        wait_for_build(path)  # a build changing it in place holds it until its commit
    with duckdb_errors(shown, DatabaseError):
        return duckdb.connect(str(path), read_only=True)


def seal(built: duckdb.DuckDBPyConnection) -> None:
    """Finish the new database file: everything checkpointed into it (no .wal beside it), closed,
    ready to be moved over the old one whole (engine/commit.py)."""
    with duckdb_errors("the new database", DatabaseError):  # e.g. the disk is full
        built.execute("CHECKPOINT")
    built.close()


def run_model(con: duckdb.DuckDBPyConnection, model: Rendered, kind: str, where: str,
              sources: dict[str, Path], append: bool = False) -> int | None:
    """Create the model as a table or a view (kind), or append its rows to its table (append), run
    its post hooks, and return its row count (None for a view: counting would compute it)."""
    name = quote_identifier(model.name)
    kind = kind.upper()
    with duckdb_errors(where, sources=sources, records=model.config.get("source_records", "log")):
        con.execute(f"INSERT INTO {name} (\n{model.sql}\n)" if append else
                    f"CREATE OR REPLACE {kind} {name} AS (\n{model.sql}\n)")
    for i, hook in enumerate(model.post_hooks, 1):
        with duckdb_errors(f"{where}: post_hook {i}"):
            con.execute(hook)
    if kind == "VIEW":  # (DuckDB binds a view as it creates it: one that cannot be bound failed above)
        return None
    with duckdb_errors(where):
        return int(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])


UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
         "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def make_room(con: duckdb.DuckDBPyConnection, record_bytes: int) -> None:
    """Raise memory_limit (never lower it) so that DuckDB's JSON reader can take a record of
    record_bytes: measured with DuckDB 2.0, it asks for 2 GiB and several times the record at
    once (a 210 MB reply: 486 MB resident, but refused under a 2.2 GB limit)."""
    value = con.execute("SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'").fetchone()[0]
    number, _, unit = value.partition(" ")
    current = float(number) * UNITS.get(unit.upper() or "B", 1)
    needed = 2**31 + 16 * record_bytes
    if needed > current:
        con.execute(f"SET memory_limit = '{needed}B'")


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, database: str | None = None) -> bool:
    """Is there a table schema.table in the database attached as database (None: the current one)?"""
    return con.execute("SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = coalesce(?, "
                       "current_database()) AND schema_name = ? AND table_name = ?",
                       [database, schema, table]).fetchone()[0]


def tables_of(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The names of the tables and views of the database's main schema."""
    return {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {quote_identifier(table)}").fetchall()]

