"""Ad-hoc queries: read-only SQL on the build's database that can write nothing and read no file
beyond the project's sources, with rows streamed as DuckDB makes them.

Two guards. DuckDB's own: enable_external_access=false (no COPY TO, EXPORT, ATTACH, INSTALL, file
or URL read; checked with DuckDB 2.0), autoload off, and lock_configuration=true so that no SET or
PRAGMA can undo them. But the files a view may read (allowed_paths) stay writable to DuckDB (COPY
... (USE_TMP_FILE false) overwrites one), so each statement must also be one that reads: its type
as DuckDB's parser says (extract_statements)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import QueryError, UsageError
from .project import Project
from .runner import duckdb_errors
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb

READING = {"SELECT", "EXPLAIN", "PRAGMA", "CALL", "MULTI"}  # SELECT covers FROM, DESCRIBE, SHOW,
# SUMMARIZE, VALUES; MULTI is a PIVOT; EXPLAIN is checked for what it explains (ANALYZE runs it)
BATCH = 1000  # rows fetched, and printed, at a time; the table's widths are the first batch's
GLOB = re.compile(r"[*?\[]")


@dataclass
class Answer:
    """A query's columns and its rows in batches, read as they are printed; left_out (the rows
    beyond the limit, counted without keeping them) is known once the batches are read."""

    columns: list[str]
    batches: Iterator[list[tuple]] = field(default_factory=lambda: iter(()))
    left_out: int = 0


def check_statements(sql: str) -> None:
    """A UsageError for SQL with no statement, a QueryError for one that does not only read."""
    import duckdb

    with duckdb_errors("query", QueryError):
        statements = duckdb.connect().extract_statements(sql)
    if not statements:
        raise UsageError('query needs SQL, e.g. python cli.py query "select count(*) from '
                         'stg_feedback"')
    for number, statement in enumerate(statements, 1):
        if not reads_only(statement):
            text = " ".join(statement.query.split())
            text = text if len(text) <= 60 else text[:59] + "…"
            raise QueryError(f"query is read-only: statement {number} ({text}) is "
                             f"{statement.type.name}, which can write or reach outside the "
                             f"database. Run SELECT (or DESCRIBE, SHOW, EXPLAIN, PRAGMA); to keep "
                             f"a result, redirect it (> result.txt)")


def reads_only(statement) -> bool:
    """Is the statement one that only reads (an EXPLAIN: is what it explains)?"""
    import duckdb

    kind = statement.type.name
    if kind != "EXPLAIN":
        return kind in READING
    try:
        return all(reads_only(s) for s in duckdb.connect().extract_statements(explained(statement)))
    except duckdb.Error:
        return False


def explained(statement) -> str:
    """The SQL an EXPLAIN statement explains: after EXPLAIN and its ANALYZE or (options), found
    with DuckDB's tokenizer, which also skips comments."""
    import duckdb

    text = statement.query
    starts = [pos for pos, kind in duckdb.tokenize(text) if kind != duckdb.token_type.comment][1:]
    if starts and text[starts[0]:].lower().startswith("analy"):
        starts = starts[1:]
    elif starts and text[starts[0]] == "(":
        closing = next((i for i, pos in enumerate(starts) if text[pos] == ")"), len(starts))
        starts = starts[closing + 1:]
    return text[starts[0]:] if starts else ""


def readable_files(project: Project) -> tuple[list[str], list[str]]:
    """The files the project's sources name (allowed_paths) and, for a glob, the folder it
    matches in (allowed_directories): what a model built as a view may read."""
    paths, folders = [], []
    for var in project.sources.values():
        value = project.vars.get(var)
        if not isinstance(value, str) or not value:
            continue
        path = project.path(value)
        if path.is_file():
            paths.append(str(path))
        elif GLOB.search(value):
            fixed = next(p for p in [path, *path.parents] if not GLOB.search(str(p)))
            folders.append(str(fixed))
    return paths, folders


def confine(con: duckdb.DuckDBPyConnection, project: Project) -> None:
    """Let the connection read its database and the sources' files only, for good."""
    paths, folders = readable_files(project)
    settings = {"allowed_paths": paths, "allowed_directories": folders,
                "enable_external_access": False, "autoinstall_known_extensions": False,
                "autoload_known_extensions": False, "lock_configuration": True}
    for name, value in settings.items():
        if value != []:
            con.execute(f"SET {name} = {sql_literal(value)}")


def stream(con: duckdb.DuckDBPyConnection, limit: int, answer: Answer) -> Iterator[list[tuple]]:
    """The first limit rows (all with 0) in batches, then the rest counted into answer.left_out;
    the connection is closed at the end."""
    try:
        with query_errors():
            shown = 0
            while not limit or shown < limit:
                batch = con.fetchmany(BATCH if not limit else min(BATCH, limit - shown))
                if not batch:
                    return
                shown += len(batch)
                yield batch
            while rows := len(con.fetchmany(10 * BATCH)):
                answer.left_out += rows
    finally:
        con.close()


@contextmanager
def query_errors() -> Iterator[None]:
    """DuckDB's errors as QueryErrors; a file it was kept from says what query may read."""
    import duckdb

    try:
        with duckdb_errors("query", QueryError):
            yield
    except QueryError as e:
        if isinstance(e.__cause__, duckdb.PermissionException):
            raise QueryError(f"{e}: query reads only the database and the files the project's "
                             f"sources name") from e.__cause__
        raise
