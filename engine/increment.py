"""The increment: a build that reads only the log's new records (engine/tail.py) changes the last
build's database in place, in one transaction, where any other build writes a new database beside
it (and would copy every row it keeps into it).

In place, the log model's table gets the new records' rows, and so does each table model that
declares config(incremental=true) and may take them (appendable): its rows of the new records are
computed from those records alone (the views between it and the log rendered to read only the new
rows: Renderer.parts) and added to its table. Every other model is made anew, as in any build, and
whatever the database holds that is no model is dropped: the database ends as a full build would
leave it (tests/test_tail.py compares every table). A table model may take the new rows when

- it, and every model between it and the log, makes each row from one row of what it reads
  (materialization.row_wise: no window, grouping, aggregate, DISTINCT or LIMIT), reading the log
  side once;
- nothing else it reads changed since the last build: its key (the SQL of every model it reads,
  the log's rows key, the contents of the state tables and the files it reads) is the one the last
  build recorded (table fbt.increments).

Rows are told apart by the log's `position` (its record number: a log read in part is one file),
which such a model keeps. Nothing is visible to other readers until the transaction commits, after
the build's files are in place (engine/pipeline.py, commit_build); a build that fails or is killed
before that leaves the database as it was. While the build runs, the database is locked: fbt's
own commands wait for it (runner.connect_read_only), other clients are told it is locked. When
another process holds the database open, the build makes a new one beside it instead."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DatabaseError
from .graph import upstream
from .materialization import any_node, row_wise, tables_read, unsafe_functions
from .render import quote_identifier
from .runner import duckdb_errors, has_table
from .state import SCHEMA
from .tail import SCHEMA as FBT

if TYPE_CHECKING:
    import duckdb

    from .render import Rendered

TABLE = f"{FBT}.increments"


def open_in_place(path: Path, configure: Callable[[duckdb.DuckDBPyConnection], object]
                  ) -> tuple[duckdb.DuckDBPyConnection | None, str]:
    """The database at path, configured, in a transaction that the build's commit commits; (None,
    why) when it cannot be opened (another process has it open, or this DuckDB cannot read it)."""
    import duckdb

    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as e:
        held = "lock" in str(e).lower()
        return None, "another process has it open" if held else str(e).splitlines()[0]
    configure(con)
    con.execute("BEGIN TRANSACTION")
    return con, ""


def drop_strays(con: duckdb.DuckDBPyConnection, kinds: dict[str, str]) -> None:
    """Every table and view of the main schema that is no model (one removed or renamed since the
    last build, or one an analyst made), or not of the kind its model is now (kinds: model ->
    'table' or 'view'; a view becomes a table when a file reads it): a full build's database has
    none."""
    for name, kind in con.execute("SELECT table_name, table_type FROM information_schema.tables "
                                  "WHERE table_schema = 'main'").fetchall():
        was = "view" if kind == "VIEW" else "table"
        if kinds.get(name) != was:
            con.execute(f"DROP {was.upper()} {quote_identifier(name)}")


def last_keys(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """model -> the key of its rows, as the last build recorded them (none in a database without)."""
    found = has_table(con, FBT, "increments")
    return dict(con.execute(f"SELECT model, rows_key FROM {TABLE}").fetchall()) if found else {}


def record_keys(con: duckdb.DuckDBPyConnection, keys: dict[str, str]) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {FBT}")
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} (model VARCHAR, rows_key VARCHAR)")
    if keys:
        con.executemany(f"INSERT INTO {TABLE} VALUES (?, ?)", list(keys.items()))


def rows_keys(con: duckdb.DuckDBPyConnection, models: dict[str, Rendered], log_model: str, log_key: str,
              file_marks: dict[str, str]) -> dict[str, str]:
    """The key of each incremental table model's rows (log_key: that of the log model's rows;
    file_marks: each source's file, as size and time), from the build's database once its state
    is in; '' (never the last build's) when a model it reads reads a file not declared as a source."""
    deps = {n: m.refs for n, m in models.items()}
    log_inputs = upstream(deps, [log_model])  # (what made the log's rows: log_key)
    incremental = [n for n, m in models.items() if m.config.get("incremental") and n != log_model]
    reads = {name: [n for n in models if n in upstream(deps, [name]) and n not in log_inputs]
             for name in incremental}
    return {name: key_of(con, models, reads[name], log_key, file_marks) for name in incremental}


def key_of(con: duckdb.DuckDBPyConnection, models: dict[str, Rendered], reads: list[str], log_key: str,
           file_marks: dict[str, str]) -> str:
    """The key of rows made from the log's rows (log_key) by the models reads (see rows_keys)."""
    h = hashlib.sha256(log_key.encode())
    for read in reads:
        h.update(b"\0" + read.encode() + b"\0" + models[read].sql.encode())
        for hook in models[read].post_hooks:
            h.update(b"\0" + hook.encode())
        for source in models[read].sources:
            h.update(b"\0" + file_marks.get(source, "").encode())
        tables, files = inputs_of(con, models[read].sql)
        if files and not models[read].sources:
            return ""
        for table in sorted(tables):
            h.update(b"\0" + state_digest(con, table).encode())
    return h.hexdigest()


def inputs_of(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[set[str], bool]:
    """The state tables a SELECT reads (schema state), and whether it reads a file (a table
    function), as DuckDB's parser reads it."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    tables = {name for schema, name in tables_read(tree, schemas=True) if schema == SCHEMA}
    return tables, any_node(tree, lambda node: node.get("type") == "TABLE_FUNCTION")


def state_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The contents of a state table, as one hash (its rows in order)."""
    name = f"{SCHEMA}.{quote_identifier(table)}"
    with duckdb_errors(f"the state table {name}", DatabaseError):
        return con.execute(f"SELECT md5(coalesce(string_agg(t::VARCHAR, chr(10) ORDER BY t::VARCHAR), '')) "
                           f"FROM {name} AS t").fetchone()[0]


def appendable(con: duckdb.DuckDBPyConnection, models: dict[str, Rendered], kinds: dict[str, str],
               log_model: str, keys: dict[str, str], last: dict[str, str]) -> list[str]:
    """The incremental table models that may take the new records' rows (see above), in build order."""
    deps = {n: m.refs for n, m in models.items()}
    reading_log = {n for n in models if log_model in upstream(deps, [n])}
    taking, unsafe = {log_model}, unsafe_functions(con)
    for name in models:
        if not keys.get(name) or kinds[name] != "table" or keys[name] != last.get(name) \
                or "position" not in columns(con, name):
            continue
        chain = [n for n in models if n in upstream(deps, [name]) and n in reading_log and n != log_model]
        if all((n == name or kinds[n] == "view" or n in taking)
               and row_wise(con, models[n].sql, {r for r in models[n].refs if r in reading_log}, unsafe)
               for n in chain):
            taking.add(name)
    return [n for n in models if n in taking and n != log_model]


def columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' "
                                      "AND table_name = ?", [table]).fetchall()}


def new_rows(table: str, records_before: int) -> str:
    """The query of a table's rows of the log's new records."""
    return f"SELECT * FROM {quote_identifier(table)} WHERE position > {int(records_before)}"
