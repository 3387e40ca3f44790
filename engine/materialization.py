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


def row_wise(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    """Is each row of the SELECT made from one row of what it reads, whatever the other rows are:
    no window, GROUP BY, aggregate, DISTINCT, LIMIT or set operation but UNION ALL (DuckDB's
    parser says; SQL it cannot parse is not). Then the rows of some input rows can be computed
    from those rows alone (engine/increment.py)."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        return False
    aggregates = {row[0] for row in con.execute(
        "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'aggregate'").fetchall()}
    return not any_node(tree, lambda node: node.get("class") == "WINDOW" or bool(node.get("group_expressions"))
                        or node.get("type") in ("DISTINCT_MODIFIER", "LIMIT_MODIFIER")
                        or node.get("type") == "SET_OPERATION_NODE" and not node.get("setop_all")
                        or node.get("class") == "FUNCTION" and node.get("function_name") in aggregates)
