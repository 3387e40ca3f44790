"""The feedback loop's part of a build: files per split and per incremental build, and the figures
that models declare with config(summary=true) for the build summary."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CompileError
from .render import Rendered, quote_identifier
from .runner import duckdb_errors

if TYPE_CHECKING:
    import duckdb

    from .export import Export

Figures = dict[str, dict[str, int]]


def with_suffix_part(path: Path, part: str) -> Path:
    """
    >>> with_suffix_part(Path("out/alpaca_format_samples.json"), "train").name
    'alpaca_format_samples_train.json'
    """
    return path.with_name(f"{path.stem}_{part}{path.suffix}")


def split_exports(plan: list[Export]) -> list[Export]:
    """One file per split for a model with config(splits=[...]): M_train.json, M_val.json, ..."""
    arranged = []
    for item in plan:
        splits = item.model.config.get("splits") or []
        if not isinstance(splits, (list, tuple)) or not all(isinstance(s, str) and s for s in splits):
            raise CompileError(f"{item.model.path.name}: config(splits=...) expects a list of names, "
                               f"e.g. ['train', 'val']")
        if not splits:
            arranged.append(item)
        for split in splits:
            arranged.append(dataclasses.replace(item, path=with_suffix_part(item.path, split),
                                                split=split))
    return arranged


def utc_stamp(now: datetime | None = None) -> str:
    """The build's time as files and the export history name it, e.g. 20250718T190102Z."""
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def stamp_exports(plan: list[Export], now: datetime | None = None) -> tuple[list[Export], str]:
    """Name every file with the build's time (UTC), so an incremental build never overwrites an
    earlier one's files; a second build in the same second gets -2, -3, ... Returns the build id."""
    base = utc_stamp(now)
    n = 1
    while True:
        stamp = base if n == 1 else f"{base}-{n}"
        stamped = [dataclasses.replace(i, path=with_suffix_part(i.path, stamp)) for i in plan]
        if not any(i.path.exists() for i in stamped):
            return stamped, stamp
        n += 1


def collect_figures(con: duckdb.DuckDBPyConnection, models: dict[str, Rendered]) -> Figures:
    """Rows (topic, figure, value) of every model with config(summary=true), in model order."""
    figures: Figures = {}
    for model in models.values():
        if not model.config.get("summary"):
            continue
        with duckdb_errors(str(model.path)):
            rows = con.execute(f"SELECT topic, figure, value FROM {quote_identifier(model.name)}").fetchall()
        for topic, figure, value in rows:
            figures.setdefault(str(topic), {})[str(figure)] = int(value or 0)
    return figures
