"""The build summary's figures that models declare with config(summary=true): rows of (topic,
figure, value), e.g. models/loop_figures.sql's review, redaction, dedup, merge and split figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .render import Rendered, quote_identifier
from .runner import duckdb_errors

if TYPE_CHECKING:
    import duckdb

Figures = dict[str, dict[str, int | float]]


def collect_figures(con: duckdb.DuckDBPyConnection, models: dict[str, Rendered]) -> Figures:
    """Rows (topic, figure, value) of every model with config(summary=true), in model order."""
    figures: Figures = {}
    for model in models.values():
        if not model.config.get("summary"):
            continue
        with duckdb_errors(str(model.path)):
            rows = con.execute(f"SELECT topic, figure, value FROM {quote_identifier(model.name)}").fetchall()
        for topic, figure, value in rows:
            number = float(value or 0)
            figures.setdefault(str(topic), {})[str(figure)] = int(number) if number.is_integer() else number
    return figures
