"""DuckDB: the build database (built beside the real one, then swapped in), models and queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DatabaseError, EngineError, ModelRunError, SourceError
from .logcheck import describe
from .render import Rendered, quote_identifier

if TYPE_CHECKING:
    import duckdb

FETCH_BATCH = 20_000


def first_line(error: Exception) -> str:
    """DuckDB's messages span lines; the first one says what and where."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


@contextmanager
def duckdb_errors(where: str, error: type[EngineError] = ModelRunError,
                  sources: dict[str, Path] | None = None) -> Iterator[None]:
    """Turn a DuckDB exception into an EngineError that says where; a failure to read a source
    file becomes a SourceError naming the file."""
    import duckdb

    try:
        yield
    except (duckdb.Error, UnicodeDecodeError) as e:
        # DuckDB quotes bytes of a bad log in its message; when they are not UTF-8, its Python
        # client raises UnicodeDecodeError instead: that too is the log's fault, when there is one.
        message = first_line(e)
        for path in (sources or {}).values():
            if str(path) in message or isinstance(e, UnicodeDecodeError) and len(sources or {}) == 1:
                raise SourceError(describe(path, message)) from e
        if isinstance(e, UnicodeDecodeError):
            raise
        raise error(f"{where}: {message}") from e


def connect_new(path: Path, settings: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """A fresh database file at path (a stale one from a killed build is removed first)."""
    import duckdb

    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), config={k: str(v) for k, v in settings.items()})


def connect_read_only(path: Path, shown: str) -> duckdb.DuckDBPyConnection:
    import duckdb

    if not path.is_file():
        raise DatabaseError(f"{shown}: no database yet; run `python cli.py build` (or run) first")
    with duckdb_errors(shown, DatabaseError):
        return duckdb.connect(str(path), read_only=True)


def seal(built: duckdb.DuckDBPyConnection) -> None:
    """Finish the new database file: everything checkpointed into it (no .wal beside it), closed,
    ready to be moved over the old one whole (engine/commit.py)."""
    built.execute("CHECKPOINT")
    built.close()


def run_model(con: duckdb.DuckDBPyConnection, model: Rendered, where: str,
              sources: dict[str, Path]) -> int:
    """Create the model's table (or view) and return its row count."""
    name = quote_identifier(model.name)
    kind = "VIEW" if model.materialized == "view" else "TABLE"
    with duckdb_errors(where, sources=sources):
        con.execute(f"CREATE OR REPLACE {kind} {name} AS (\n{model.sql}\n)")
        return int(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {quote_identifier(table)}").fetchall()]


def fetch_rows(con: duckdb.DuckDBPyConnection, sql: str, where: str) -> Iterator[tuple]:
    """Stream a query's rows in batches, so a large table never sits in memory whole."""
    with duckdb_errors(where):
        cursor = con.execute(sql)
        while batch := cursor.fetchmany(FETCH_BATCH):
            yield from batch


def query(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple]]:
    with duckdb_errors("query"):
        cursor = con.execute(sql)
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()
