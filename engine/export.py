"""The writers: every file of the export plan (engine/plan.py) written from its model into a staging
folder inside output_dir, then moved over its target (engine/commit.py) only when every file is
complete; the bytes laid out by DuckDB and written by a thread."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pyarrow

from exporters.base import Layout, Sink

from .errors import ExportError
from .plan import HISTORY, Export
from .render import quote_identifier
from .runner import columns_of, duckdb_errors
from .shards import ShardedSink, finish_file, text_buffers
from .state import written_through
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb

STAGING_PREFIX = ".fbt-staging-"
PROGRESS_SECONDS = 2.0
RANGE_POSITIONS = 250_000  # positions per sorted read of a table (see write_files)
BATCH_ROWS = 10_000        # rows per Arrow batch: ~30 MB of laid-out text for the three default files
HELD_SHARE = 0.1           # --new-only files holding at most this share of their model's rows read them apart


@dataclass(frozen=True)
class ExportResult:
    format: str
    model: str
    path: Path
    rows: int
    fields: tuple[str, ...] = ()  # the keys the file has: an optional field NULL in every row is not one
    left_out: int = 0             # rows of its split that this format wrote before (--new-only)
    shards: tuple[str, ...] = ()  # written as shards: their names in the folder `path` (engine/shards.py)
    unwritten: str = ""  # a condition that every row of the model this format had not written meets
    #                      (held_rows found it; '': not known), for the export history (record_history)


def stage_exports(con: duckdb.DuckDBPyConnection, plan: list[Export], staging: Path,
                  show=str, progress: Callable[[str], None] | None = None) -> list[ExportResult]:
    """Write every planned file into staging; nothing outside it is touched. Each model is read
    once, its values rendered to JSON once, for all the files it feeds (each file its rows: its
    split, and with --new-only what its format did not write before)."""
    try:
        staging.mkdir(parents=True)
    except OSError as e:
        raise ExportError(f"{staging.parent}: cannot create files there ({e.strerror}); choose "
                          f"another --output-dir") from e
    passes: dict[str, list[Export]] = {}
    for item in plan:
        passes.setdefault(item.model.name, []).append(item)
    results = []
    for items in passes.values():
        try:
            results += write_files(con, items, staging, show, progress)
        except OSError as e:
            raise ExportError(f"{staging.parent}: cannot write the files ({e.strerror}); check the "
                              f"output dir and free space") from e
    return results


@contextmanager
def exports_in_background(con: duckdb.DuckDBPyConnection, plan: list[Export], staging: Path, show=str,
                          progress: Callable[[str], None] | None = None) -> Iterator[Future | None]:
    """Stage the planned files on a second connection while the caller goes on (building the models
    the files do not read, running the data tests), so that the disk writes the files meanwhile.
    The files are only staged, so when either side fails they are discarded. Yields the future of
    stage_exports' results (None when nothing is planned); when the caller's block raises, the
    export is interrupted and the caller's error is the one raised."""
    if not plan:
        yield None
        return
    cursor = con.cursor()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fbt-export") as pool:
            future = pool.submit(stage_exports, cursor, plan, staging, show, progress)
            try:
                yield future
            except BaseException:
                cursor.interrupt()
                wait([future])
                raise
    finally:
        cursor.close()


def write_files(con: duckdb.DuckDBPyConnection, items: list[Export], staging: Path, show,
                progress: Callable[[str], None] | None) -> list[ExportResult]:
    """One pass over a model in log order (by its position column), each batch of rows handed to
    every file's sink."""
    model = items[0].model
    available = columns_of(con, model.name)
    for item in items:
        missing = [f for f in item.exporter.fields if f not in available]
        if missing:
            raise ExportError(f"{item.exporter.name} needs columns {', '.join(item.exporter.fields)};"
                              f" model '{model.name}' ({show(model.path)}) returns "
                              f"{', '.join(available)}: add {', '.join(missing)}")
    held = held_rows(con, model.name, items, available) if all(item.new_only for item in items) else None
    source = held.table if held else model.name
    conditions = held.conditions if held else [item.rows_sql() for item in items]
    try:
        present = [present_fields(con, item, source, condition)
                   for item, condition in zip(items, conditions, strict=True)]
        # log order; rows of one position (several log files; pairs of one reply) by file name, then key
        ties = [c for c in ("source_file", model.config.get("unique_key")) if c and c in available]
        order = ", ".join(quote_identifier(c) for c in ["position", *ties]) if "position" in available else ""
        columns = file_columns(items, present, conditions, flags=held is None)
        queries = range_queries(con, source, columns, order)
        counted = held.left_out if held else None
        results = write_pass(con, items, present, queries, staging, show, progress, counted)
        if held:
            results = [dataclasses.replace(r, unwritten=held.unwritten.get(r.format, "")) for r in results]
        return results
    finally:
        if held:  # (not over the error that ended a transaction)
            import duckdb

            with suppress(duckdb.Error):
                con.execute(f"DROP TABLE IF EXISTS {quote_identifier(held.table)}")


@dataclass
class Held:
    """The rows of a model that a pass of --new-only files holds, apart (held_rows)."""

    table: str             # a temporary table of them
    conditions: list[str]  # each file's rows: a column of the table
    left_out: list[int]    # how many rows each file left out as written before
    unwritten: dict[str, str] = dataclasses.field(default_factory=dict)  # format -> ExportResult.unwritten


def held_rows(con: duckdb.DuckDBPyConnection, model: str, items: list[Export],
              columns: list[str]) -> Held | None:
    """For a pass of --new-only files (of a model with these columns): when the history holds most
    of the model's rows in each format (a daily build), the rows any file holds as a temporary
    table, each row's history looked up once per format, where the pass would look it up for each
    file and range; else None.
    With a position column, in two steps: for each format the first position of a row it has not
    written, from narrow columns (each row looked up once per format), or, when the last build's
    record of the rows it found written still holds (written_through), the position after them;
    then the rows from the first of these on (the new records' rows are last: zonemaps skip the
    rest) and any without a position or key, looked up in the part of the history that holds
    their keys. A daily build then reads the texts of its new rows only, and its export history
    looks up only the rows from each format's first on (Held.unwritten)."""
    # (fetchall, not fetchone: DuckDB 2.0 keeps a result that fetchone left unfinished, and then
    # refuses the pass's con.sql())
    name = quote_identifier(model)
    splits = ", ".join(f"count(*) FILTER (WHERE {item.split_sql()})" if item.split else "count(*)"
                       for item in items)
    formats = sorted({item.exporter.name for item in items})
    with duckdb_errors(model, ExportError):
        total, *in_split = con.execute(f"SELECT count(*), {splits} FROM {name}").fetchall()[0]
        through, written = (written_through(con, model, items[0].model.config["unique_key"], formats)
                            if "position" in columns else None) or (None, 0)  # (rows the last build wrote)
        if written < total * (1 - HELD_SHARE):
            written = con.execute(f"SELECT if(count(*) = {len(formats)}, min(n), 0) FROM (SELECT count(*) AS n "
                                  f"FROM {HISTORY} WHERE list_contains({sql_literal(formats)}, format) "
                                  f"GROUP BY format)").fetchall()[0][0]
        if written < total * (1 - HELD_SHARE):
            return None
        table = f"fbt_held_{model}"
        flags = [f"fbt_in_{i}" for i in range(len(items))]
        per_format = list({item.exporter.name: item for item in items}.values())  # (its files: one a split)
        before = {item.exporter.name: f"fbt_before_{i}" for i, item in enumerate(per_format)}

        def looked_up(history: str) -> str:  # each row's history, once per format
            return ", ".join(f"{item.written_before_sql(history)} AS {before[item.exporter.name]}"
                             for item in per_format)

        def held(columns: str, rows: str, history: str) -> str:
            flagged = ", ".join(f"{item.rows_sql(before[item.exporter.name])} AS {flag}"
                                for item, flag in zip(items, flags, strict=True))
            return (f"SELECT {columns} FROM (SELECT *, {flagged} FROM (SELECT *, {looked_up(history)} "
                    f"FROM {rows})) WHERE {' OR '.join(flags)}")

        rows, history, unwritten = name, HISTORY, {}
        if "position" in columns:
            key = quote_identifier(items[0].model.config["unique_key"])
            if through is not None:  # (every row with a key up to it was written: those after it may not be)
                firsts = dict.fromkeys(before, through + 1)
            else:
                firsts = dict(zip(before, con.execute(
                    f"SELECT {', '.join(f'min(position) FILTER (WHERE NOT {b})' for b in before.values())} FROM "
                    f"(SELECT position, {looked_up(HISTORY)} FROM {name} WHERE {key} IS NOT NULL)").fetchall()[0],
                    strict=True))
            if all(isinstance(first, int | None) for first in firsts.values()):  # (else: read whole)
                unwritten = {fmt: f"(position >= {sql_literal(first)} OR position IS NULL)"
                             for fmt, first in firsts.items()}
                first = min((f for f in firsts.values() if f is not None), default=None)
                rows, history = quote_identifier(f"fbt_from_{model}"), quote_identifier(f"fbt_history_{model}")
                con.execute(f"CREATE OR REPLACE TEMP TABLE {rows} AS {rows_from(name, key, first)}")
                con.execute(f"CREATE OR REPLACE TEMP TABLE {history} AS SELECT format, sample_id FROM {HISTORY} "
                            f"WHERE sample_id IN (SELECT {key}::VARCHAR FROM {rows})")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_identifier(table)} AS "
                    + held(f"* EXCLUDE ({', '.join(before.values())})", rows, history))
        counts = con.execute(f"SELECT {', '.join(f'count(*) FILTER (WHERE {flag})' for flag in flags)} "
                             f"FROM {quote_identifier(table)}").fetchall()[0]
        if rows != name:
            con.execute(f"DROP TABLE {rows}")
            con.execute(f"DROP TABLE {history}")
    return Held(table, flags, [n - h for n, h in zip(in_split, counts, strict=True)], unwritten)


def rows_from(model: str, key: str, first: int | None) -> str:
    """The rows of a model from position first on, and any without a position or key, as a query
    whose every part filters on one column: DuckDB then skips, by their zonemaps, the row groups
    before first (a disjunction it checks row by row, every text read: 0.6 s of a 1M daily build).

    >>> print(rows_from('"m"', '"k"', 7))
    SELECT * FROM "m" WHERE position >= 7 UNION ALL SELECT * FROM "m" WHERE position IS NULL UNION ALL SELECT * FROM "m" WHERE position < 7 AND "k" IS NULL
    """
    after, before = ((f"position >= {sql_literal(first)}", f"position < {sql_literal(first)}")
                     if first is not None else ("false", "position IS NOT NULL"))
    return " UNION ALL ".join(f"SELECT * FROM {model} WHERE {where}"
                              for where in (after, "position IS NULL", f"{before} AND {key} IS NULL"))


def file_columns(items: list[Export], present: list[tuple[str, ...]], conditions: list[str],
                 flags: bool = True) -> str:
    """The SELECT list of a pass: each file's rows laid out by DuckDB (in parallel), NULL where the
    file does not hold the row (its condition: another split; written before), then (flags) for
    each --new-only file whether the row was left out as written before."""
    columns = []
    for item, fields, condition in zip(items, present, conditions, strict=True):
        row = render_sql(item.exporter.layout(fields), fields)
        columns.append(f"CASE WHEN {condition} THEN {row} END" if condition else row)
    columns += [item.left_out_sql() for item in items if item.new_only and flags]
    return ", ".join(columns)


def range_queries(con: duckdb.DuckDBPyConnection, model: str, columns: str, order: str) -> list[str]:
    """The queries of a pass: the model read in consecutive ranges of positions, each sorted on its
    own (by order; none: as it comes). The models keep no order (a join does not keep one, and
    sorting whole wide tables is what DuckDB cannot spill within memory_limit at 10M records), but
    their rows stay near their place, so the zonemaps skip most row groups of each range and each
    sort is small. A view is read the
    same way: DuckDB pushes the range down to the table its position comes from. The columns are
    laid out after the sort, so the sort moves the values, not their texts laid out three times
    over (DuckDB keeps a subquery's order through a projection)."""
    table = quote_identifier(model)

    def query(where: str = "") -> str:
        return (f"SELECT {columns} FROM (SELECT * FROM {table}"
                + (f" WHERE {where}" if where else "") + (f" ORDER BY {order}" if order else "") + ")")

    if not order:
        return [query()]
    with duckdb_errors(model, ExportError):
        first, last = con.execute(f"SELECT min(position), max(position) FROM {table}").fetchall()[0]
    if not (isinstance(first, int) and isinstance(last, int)):  # no rows, or not whole numbers
        return [query()]
    return [query(f"position >= {start} AND position < {start + RANGE_POSITIONS}")
            for start in range(first, last + 1, RANGE_POSITIONS)]


def render_sql(layout: Layout, fields: tuple[str, ...]) -> str:
    """The SQL that lays out one row of a file: its fields' JSON texts in the layout's text, with the
    separator in front (to_json writes a text as Python's json.dumps(ensure_ascii=False) does).

    >>> from exporters.base import json_lines
    >>> print(render_sql(json_lines(("a",)), ("a",)))
    concat('
    {"a": ', coalesce(to_json("a"), 'null'), '}')
    """
    first, *after = [sql_literal(piece) for piece in layout.pieces]
    parts = [first]
    for field, piece in zip(fields, after, strict=True):
        parts += [f"coalesce(to_json({quote_identifier(field)}), 'null')", piece]
    return "concat(" + ", ".join(parts) + ")"


def present_fields(con: duckdb.DuckDBPyConnection, item: Export, source: str,
                   condition: str) -> tuple[str, ...]:
    """The exporter's fields less the optional ones that are NULL in every row of the file (the
    rows of source, its model or the rows of the pass: held_rows, for which condition holds)."""
    optional = item.exporter.optional
    if not optional:
        return item.exporter.fields
    counts = ", ".join(f"count({quote_identifier(f)})" for f in optional)
    rows = f" WHERE {condition}" if condition else ""  # the rows this file holds
    with duckdb_errors(item.model.name, ExportError):
        found = con.execute(f"SELECT {counts} FROM {quote_identifier(source)}{rows}").fetchall()[0]
    absent = {f for f, n in zip(optional, found, strict=True) if n == 0}
    return tuple(f for f in item.exporter.fields if f not in absent)


def write_pass(con: duckdb.DuckDBPyConnection, items: list[Export], present: list[tuple[str, ...]],
               queries: list[str], staging: Path, show, progress: Callable[[str], None] | None,
               counted: list[int] | None = None) -> list[ExportResult]:
    """Write the files from the rows of the queries, one after the other: each query returns a
    column of laid-out rows per file (NULL where the file does not hold the row), then for each
    --new-only file a column saying which rows it left out (unless they were counted: held_rows),
    fetched as Arrow batches whose bytes go to the files as they are (no Python object per row or
    value)."""
    model = items[0].model
    names = ", ".join(item.path.name for item in items)
    with ExitStack() as stack:
        disk = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="fbt-write"))
        files = [open_file(item, fields, staging, disk, stack)
                 for item, fields in zip(items, present, strict=True)]
        written, shown = 0, time.monotonic()
        left_out = list(counted) if counted is not None else [0] * len(items)
        flagged = [i for i, item in enumerate(items) if item.new_only and counted is None]
        for batch in (batch for sql in queries for batch in fetch_arrow(con, sql, show(model.path))):
            for i, file in enumerate(files):
                file.write_column(batch.column(i))
            for column, i in enumerate(flagged, start=len(files)):
                left_out[i] += batch.column(column).true_count  # (pyarrow.compute: 0.04 s to import)
            written += batch.num_rows
            if progress and time.monotonic() - shown >= PROGRESS_SECONDS:
                progress(f"  {written:,} rows written to {names}")
                shown = time.monotonic()
        closed = [file.close() for file in files]
    return [ExportResult(item.exporter.name, model.name, item.path, rows, fields, left, shards)
            for item, (rows, shards), fields, left in zip(items, closed, present, left_out, strict=True)]


def open_file(item: Export, fields: tuple[str, ...], staging: Path, disk: ThreadPoolExecutor,
              stack: ExitStack) -> OneFile | ShardedSink:
    """Where a file's rows go: one file, or shards past the target's max_shard_size."""
    if item.shard_bytes:
        sharded = ShardedSink(item.exporter.layout(fields), staging, item.path.name, item.shard_bytes, disk,
                              BackgroundWriter)
        stack.callback(sharded.abandon)
        return sharded
    out = stack.enter_context((staging / item.path.name).open("wb"))
    return OneFile(item.exporter.open(BackgroundWriter(out, disk), fields), out)


class OneFile:
    """A file written whole: every batch's bytes as they are (the path without max_shard_size)."""

    def __init__(self, sink: Sink, out: BinaryIO):
        self.sink, self.out = sink, out

    def write_column(self, column: pyarrow.Array) -> None:
        self.sink.write(string_bytes(column), len(column) - column.null_count)

    def close(self) -> tuple[int, tuple[str, ...]]:
        """Write the tail, wait for the writes, fsync; returns the rows written (and no shards)."""
        return finish_file(self.sink, self.out), ()


class BackgroundWriter:
    """A binary file written by a thread (file writes release the GIL), so that the disk works while
    the next batch is fetched and laid out. Writes keep their order; at most `ahead` wait in line."""

    def __init__(self, out: BinaryIO, disk: ThreadPoolExecutor, ahead: int = 4):
        self.out, self.disk, self.ahead = out, disk, ahead
        self.pending: deque[Future] = deque()

    def write(self, data: bytes | memoryview) -> None:
        while len(self.pending) >= self.ahead:
            self.pending.popleft().result()
        self.pending.append(self.disk.submit(self._write, data))

    def _write(self, data: bytes | memoryview) -> None:
        self.out.write(data)
        if hasattr(os, "posix_fadvise"):
            # Linux starts writing the file's dirty pages to disk now and drops those already
            # written, so the disk works while the next batches are laid out, the final fsync has
            # little left, and the page cache does not fill up (measured at 1M: export 6.0 -> 4.1 s).
            self.out.flush()
            os.posix_fadvise(self.out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    def wait(self) -> None:
        """Block until every write is done (and raise the first that failed)."""
        while self.pending:
            self.pending.popleft().result()


def fetch_arrow(con: duckdb.DuckDBPyConnection, sql: str, where: str) -> Iterator[pyarrow.RecordBatch]:
    """Stream a query's rows as Arrow batches of at most BATCH_ROWS, so a model never sits in memory whole."""
    with duckdb_errors(where):
        yield from con.sql(sql).to_arrow_reader(BATCH_ROWS)


def string_bytes(column: pyarrow.Array) -> memoryview:
    """The bytes of a column of texts, all rows one after the other, without a copy: the slice of
    its data buffer between its first and last offsets."""
    offsets, data = text_buffers(column)
    return memoryview(data)[offsets[0]:offsets[-1]] if data is not None else memoryview(b"")


def discard_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def clear_stale_staging(output_dir: Path) -> None:
    """Remove staging folders left by a killed build (called under the build lock)."""
    if output_dir.is_dir():
        for folder in output_dir.glob(STAGING_PREFIX + "*"):
            discard_staging(folder)
