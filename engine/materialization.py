"""Which models are tables and which are views: the engine's decision, from the DAG, the export plan
and each model's SQL as DuckDB parses it, so that models say what their data is, not how to make
it fast. config(materialized=...) in a model overrides it.

- A model with post hooks is a table: the hooks UPDATE it.
- A model the files read (an exported model, or one it reads through views) is a table when its
  SELECT ranks or groups rows (a window function or GROUP BY), or reads a file (source()): the
  files read their model in ranges of positions, and such a view would be computed over all its
  rows, or read the file, again for each range.
- Every other model is a view. A view is computed by whatever reads it: a filter or a projection of
  a table costs about what reading a copy would, without writing the copy (measured: README,
  Performance)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .render import Rendered

if TYPE_CHECKING:
    import duckdb


def decide(con: duckdb.DuckDBPyConnection, models: dict[str, Rendered],
           exported: Iterable[str]) -> dict[str, str]:
    """'table' or 'view' for each model (models in build order)."""
    read_by_files = set(exported)
    kinds: dict[str, str] = {}
    for name in reversed(list(models)):  # readers before the models they read
        model = models[name]
        if "materialized" in model.config:
            kind = model.config["materialized"]
        elif model.post_hooks or name in read_by_files and (model.sources or ranks_or_groups(con, model.sql)):
            kind = "table"
        else:
            kind = "view"
        kinds[name] = kind
        if kind == "view" and name in read_by_files:
            read_by_files.update(model.refs)  # the files read through a view what it reads
    return {name: kinds[name] for name in models}


def ranks_or_groups(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    """Does the SELECT (any part of it) have a window function or a GROUP BY? Asked of DuckDB's
    parser (json_serialize_sql), which reads the SQL as DuckDB will; SQL it cannot parse is left a
    view, and fails with its own message when the model runs."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    return not tree.get("error") and any_node(tree, lambda node: node.get("class") == "WINDOW"
                                              or bool(node.get("group_expressions")))


def any_node(tree: Any, test) -> bool:
    """
    >>> any_node({"a": [{"class": "WINDOW"}]}, lambda n: n.get("class") == "WINDOW")
    True
    """
    if isinstance(tree, dict):
        return test(tree) or any(any_node(v, test) for v in tree.values())
    if isinstance(tree, list):
        return any(any_node(v, test) for v in tree)
    return False


def unsafe_functions(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The functions a row-wise model may not call: aggregates, and those whose value can change
    (random(), now()). ~0.02 s a lookup: asked once for all the models a build checks."""
    return frozenset(row[0] for row in con.execute(
        "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'aggregate' "
        "OR stability <> 'CONSISTENT'").fetchall())


def row_wise(con: duckdb.DuckDBPyConnection, sql: str, reading: set[str],
             unsafe: frozenset[str] | None = None) -> bool:
    """Is each row of the SELECT made from one row of the relation it reads among `reading` (the
    tables whose new rows are read), whatever that relation's other rows are, so that the rows of
    some of its rows can be computed from those rows alone (engine/increment.py)? As DuckDB's
    parser reads it: no window, GROUP BY, aggregate, DISTINCT, LIMIT, sample, set operation (a
    UNION's other side is not of the new rows), subquery expression, table function or function
    whose value can change (random(), now(), current_date); the relation read once (a CTE reading
    it, once), and only where a join keeps its rows as they are (an inner join, or the left side
    of a left, semi or anti join). SQL the parser cannot read is not row-wise."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        return False
    unsafe = unsafe_functions(con) if unsafe is None else unsafe

    def changing(names: list) -> bool:  # current_date, current_timestamp: parsed as columns
        return any(str(c).startswith("current_") or c in ("now", "today") for c in names)

    kinds = ("DISTINCT_MODIFIER", "LIMIT_MODIFIER", "SET_OPERATION_NODE", "TABLE_FUNCTION")
    if any_node(tree, lambda node: node.get("class") in ("WINDOW", "SUBQUERY")
                or bool(node.get("group_expressions")) or node.get("type") in kinds
                or isinstance(node.get("sample"), dict)
                or node.get("class") == "FUNCTION" and node.get("function_name") in unsafe
                or node.get("class") == "COLUMN_REF" and changing(node.get("column_names", []))):
        return False
    ctes = ctes_of(tree)
    reads = dict.fromkeys(reading, True)
    for name in ctes:  # (in the order they are defined: a CTE reads those before it)
        reads[name] = any_node(ctes[name], lambda node: node.get("type") == "BASE_TABLE"
                               and reads.get(node.get("table_name"), False))
    used = tables_read(tree)
    return sum(used.count(name) for name in reading) == 1 and all(used.count(name) <= 1 for name in ctes) \
        and keeps_rows(tree, reads)


def ctes_of(tree: Any) -> dict[str, Any]:
    """Every CTE defined in the tree, by name, in order."""
    found: dict[str, Any] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for entry in (node.get("cte_map") or {}).get("map", []):
                found[entry["key"]] = entry["value"]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(tree)
    return found


def tables_read(tree: Any, schemas: bool = False) -> list:
    """The names of every table (or CTE) the tree reads, once per time it reads it (with schemas:
    (schema, name), the schema '' where none is written)."""
    if isinstance(tree, dict):
        own = [(tree.get("schema_name") or "", tree["table_name"]) if schemas else tree["table_name"]] \
            if tree.get("type") == "BASE_TABLE" else []
        return own + [name for value in tree.values() for name in tables_read(value, schemas)]
    if isinstance(tree, list):
        return [name for value in tree for name in tables_read(value, schemas)]
    return []


def keeps_rows(tree: Any, reads: dict[str, bool]) -> bool:
    """Does every join keep the rows of the side that reads the new rows as they are?"""
    def reading(node: Any) -> bool:
        return any_node(node, lambda n: n.get("type") == "BASE_TABLE"
                        and bool(reads.get(n.get("table_name"))))

    return not any_node(tree, lambda node: node.get("type") == "JOIN" and (
        reading(node.get("right")) and node.get("join_type") != "INNER"
        or reading(node.get("left")) and node.get("join_type") not in ("INNER", "LEFT", "SEMI", "ANTI")))
