"""Exports: each requested format written from its model into a staging folder inside output_dir,
then moved over its target (engine/commit.py) only when every file is complete."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from exporters import Exporter, UnknownExporterError, expand_formats, get_exporter

from .errors import CompileError, ExportError, VarError
from .render import Rendered, quote_identifier
from .runner import columns_of, duckdb_errors, fetch_rows
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb

STAGING_PREFIX = ".fbt-staging-"


@dataclass(frozen=True)
class Export:
    """One file to write: a format, the model that feeds it, and where it goes."""

    exporter: Exporter
    model: Rendered
    path: Path
    split: str | None = None   # only the model's rows whose `split` column has this value


@dataclass(frozen=True)
class ExportResult:
    format: str
    model: str
    path: Path
    rows: int
    fields: tuple[str, ...] = ()  # the keys the file has: an optional field NULL in every row is not one


def plan_exports(models: dict[str, Rendered], formats: list[str], output_dir: Path,
                 model_name: str) -> list[Export]:
    """Match each requested format to the one model whose config(export=...) names it."""
    feeds: dict[str, Rendered] = {}
    for model in models.values():
        for name in expand_formats(model.exports):
            try:
                get_exporter(name)
            except UnknownExporterError as e:
                raise CompileError(f"{model.path.name}: config(export=...): {e}") from e
            if name in feeds:
                raise CompileError(f"Both {feeds[name].path.name} and {model.path.name} export "
                                   f"'{name}'; keep it in one model's config(export=...)")
            feeds[name] = model
    plan = []
    for name in expand_formats(formats):
        try:
            exporter = get_exporter(name)
        except UnknownExporterError as e:
            raise VarError(f"var 'formats': {e}") from e
        if name not in feeds:
            raise CompileError(f"No model exports '{name}'; add it to a model's config(export=[...])")
        path = output_dir / exporter.target(model_name)
        if path.parent != output_dir:
            raise ExportError(f"{path}: would be written outside {output_dir}; choose another model name")
        plan.append(Export(exporter, feeds[name], path))
    return plan


def stage_exports(con: duckdb.DuckDBPyConnection, plan: list[Export], staging: Path,
                  show=str) -> list[ExportResult]:
    """Write every planned file into staging; nothing outside it is touched."""
    try:
        staging.mkdir(parents=True)
    except OSError as e:
        raise ExportError(f"{staging.parent}: cannot create files there ({e.strerror}); choose "
                          f"another --output-dir") from e
    results = []
    for item in plan:
        available = columns_of(con, item.model.name)
        missing = [f for f in item.exporter.fields if f not in available]
        if missing:
            raise ExportError(f"{item.exporter.name} needs columns {', '.join(item.exporter.fields)};"
                              f" model '{item.model.name}' ({show(item.model.path)}) returns "
                              f"{', '.join(available)}: add {', '.join(missing)}")
        rendered = ", ".join(f"coalesce(to_json({quote_identifier(f)}), 'null')"  # NULL: JSON null
                             for f in item.exporter.fields)
        where = f" WHERE split = {sql_literal(item.split)}" if item.split else ""
        order = " ORDER BY position" if "position" in available else ""
        sql = f"SELECT {rendered} FROM {quote_identifier(item.model.name)}{where}{order}"
        staged = staging / item.path.name
        try:
            with staged.open("w", encoding="utf-8", newline="\n") as out:
                rows = item.exporter.write(fetch_rows(con, sql, show(item.model.path)), out)
                out.flush()
                os.fsync(out.fileno())
        except OSError as e:
            raise ExportError(f"{item.path}: cannot write it ({e.strerror}); check the output dir "
                              f"and free space") from e
        results.append(ExportResult(item.exporter.name, item.model.name, item.path, rows,
                                    present_fields(con, item)))
    return results


def present_fields(con: duckdb.DuckDBPyConnection, item: Export) -> tuple[str, ...]:
    """The exporter's fields less the optional ones that are NULL in every row (left out of the file)."""
    optional = item.exporter.optional
    if not optional:
        return item.exporter.fields
    counts = ", ".join(f"count({quote_identifier(f)})" for f in optional)
    with duckdb_errors(item.model.name, ExportError):
        found = con.execute(f"SELECT {counts} FROM {quote_identifier(item.model.name)}").fetchone()
    absent = {f for f, n in zip(optional, found, strict=True) if n == 0}
    return tuple(f for f in item.exporter.fields if f not in absent)


def discard_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def clear_stale_staging(output_dir: Path) -> None:
    """Remove staging folders left by a killed build (called under the build lock)."""
    if output_dir.is_dir():
        for folder in output_dir.glob(STAGING_PREFIX + "*"):
            discard_staging(folder)
