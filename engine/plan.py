"""The export plan, made in one place from the vars and the models' declarations: which model feeds
which file (config(export=...)), in which split (config(splits=...)), under which name (the
format's, with --model-name, with the build's time for --new-only), and which rows each file holds.
The writers (engine/export.py) take it as it is."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from exporters import Exporter, UnknownExporterError, expand_formats, get_exporter

from .clock import utc_stamp
from .errors import CompileError, ExportError, VarError
from .render import Rendered, quote_identifier
from .vars import sql_literal

HISTORY = "state.exported_samples"  # format, sample_id: what each format wrote (engine/state.py)


@dataclass(frozen=True)
class Export:
    """One file to write: a format, the model that feeds it, where it goes, and which rows it holds."""

    exporter: Exporter
    model: Rendered
    path: Path
    split: str | None = None   # only the model's rows whose `split` column has this value
    new_only: bool = False     # leave out the rows (by the model's unique_key) this format wrote before
    shard_bytes: int | None = None  # written as shards of at most this many bytes past it (engine/shards.py)

    def rows_sql(self, written_before: str | None = None) -> str:
        """The condition on the model's rows that this file holds ('' for all of them); with
        written_before, the column that holds written_before_sql()'s value (looked up apart)."""
        conditions = [self.split_sql()] if self.split else []
        if self.new_only:
            conditions.append(f"NOT ({written_before or self.written_before_sql()})")
        return " AND ".join(conditions)

    def left_out_sql(self) -> str:
        """The rows of this file's split that --new-only leaves out: written before in its format."""
        return " AND ".join(([self.split_sql()] if self.split else []) + [self.written_before_sql()])

    def split_sql(self) -> str:
        return f"split = {sql_literal(self.split)}"

    def written_before_sql(self, history: str = HISTORY) -> str:
        """Whether a row was written by an earlier build in this format (the export history, or
        the part of it that holds the keys of the rows asked about). The history keeps keys as
        text (engine/state.py, select_ids), whatever their type in the model."""
        key = quote_identifier(self.model.config["unique_key"])
        return (f"coalesce({key}::VARCHAR IN (SELECT sample_id FROM {history} WHERE format = "
                f"{sql_literal(self.exporter.name)}), false)")


@dataclass(frozen=True)
class ExportPlan:
    files: list[Export]
    build_id: str | None = None  # the time in the files' names (--new-only), None otherwise


def plan_exports(models: dict[str, Rendered], vars_: dict[str, Any], output_dir: Path, formats: list[str],
                 now: datetime | None = None, shard_bytes: int | None = None) -> ExportPlan:
    """Every file the build writes: each requested format from the one model whose
    config(export=...) names it, one file per split it declares; with var new_only, named with the
    build's time and holding only the rows its format did not write before; with shard_bytes (the
    target's max_shard_size), as shards past that size."""
    new_only = bool(vars_.get("new_only"))
    files = [Export(exporter, model, output_dir / exporter.target(vars_.get("model_name", "")),
                    new_only=new_only, shard_bytes=shard_bytes)
             for exporter, model in match_formats(models, formats)]
    for item in files:
        if item.path.parent != output_dir:
            raise ExportError(f"{item.path}: would be written outside {output_dir}; choose another model name")
        if new_only and not item.model.config.get("unique_key"):
            raise CompileError(f"{item.model.path.name}: --new-only needs the column that identifies its "
                               f"rows across builds; declare it with config(unique_key='...')")
    files = split_files(files)
    if not new_only:
        return ExportPlan(files)
    return stamp_files(files, now)


def match_formats(models: dict[str, Rendered], formats: list[str]) -> list[tuple[Exporter, Rendered]]:
    """Each requested format with the one model whose config(export=...) names it."""
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
    matched = []
    for name in expand_formats(formats):
        try:
            exporter = get_exporter(name)
        except UnknownExporterError as e:
            raise VarError(f"var 'formats': {e}") from e
        if name not in feeds:
            raise CompileError(f"No model exports '{name}'; add it to a model's config(export=[...])")
        matched.append((exporter, feeds[name]))
    return matched


def with_suffix_part(path: Path, part: str) -> Path:
    """
    >>> with_suffix_part(Path("out/alpaca_format_samples.json"), "train").name
    'alpaca_format_samples_train.json'
    """
    return path.with_name(f"{path.stem}_{part}{path.suffix}")


def split_files(files: list[Export]) -> list[Export]:
    """One file per split for a model with config(splits=[...]): M_train.json, M_val.json, ..."""
    arranged = []
    for item in files:
        splits = item.model.config.get("splits") or []
        if not isinstance(splits, (list, tuple)) or not all(isinstance(s, str) and s for s in splits):
            raise CompileError(f"{item.model.path.name}: config(splits=...) expects a list of names, "
                               f"e.g. ['train', 'val']")
        if not splits:
            arranged.append(item)
        for split in splits:
            arranged.append(dataclasses.replace(item, path=with_suffix_part(item.path, split), split=split))
    return arranged


def stamp_files(files: list[Export], now: datetime | None = None) -> ExportPlan:
    """Every file named with the build's time (UTC), so an incremental build never overwrites an
    earlier one's files; a second build in the same second gets -2, -3, ..."""
    base = utc_stamp(now)
    n = 1
    while True:
        stamp = base if n == 1 else f"{base}-{n}"
        stamped = [dataclasses.replace(i, path=with_suffix_part(i.path, stamp)) for i in files]
        if not any(i.path.exists() for i in stamped):
            return ExportPlan(stamped, stamp)
        n += 1
