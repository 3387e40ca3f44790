"""Sharded files: an export file whose bytes would pass the target's max_shard_size is written as
shards, as Hugging Face datasets names them (`<stem>-00000-of-00003.<ext>`), each a whole file of
its format holding at most that many bytes (a single larger row makes a shard of its own), the rows
in the order of the one file. The shards go into a folder with the file's own name
(`high_quality_samples.json/`): LLaMA-Factory's dataset_info.json `file_name` may be a folder (it
loads every file in it), so the dataset keeps its name whether the build wrote one file or shards,
and json and jsonl files of one stem never share a folder.

Switching between one file and shards, or to another number of shards, leaves nothing stale: the
commit journal lists what the earlier build left in the way (engine/commit.py removes it, then makes
the moves)."""

from __future__ import annotations

import json
import os
import re
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from exporters.base import Layout, Sink

from .errors import CommitError, ProjectError

if TYPE_CHECKING:
    import pyarrow

SETTING = "max_shard_size"
UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
         "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")
Removal = tuple[str, Path]  # ("file" | "folder", path): what an earlier build left in a file's way


def text_buffers(column: pyarrow.Array) -> tuple[memoryview, pyarrow.Buffer | None]:
    """A column of texts' offsets into its data (one per row, and one past the last) and its data
    buffer, without a copy."""
    _, offsets, data = column.buffers()
    offsets = memoryview(offsets).cast({"string": "i", "large_string": "q"}[str(column.type)])
    return offsets[column.offset: column.offset + len(column) + 1], data


def finish_file(sink: Sink, out: BinaryIO) -> int:
    """Close a sink (its tail written), wait for its writes and put the file on disk (fsync); the
    rows it wrote."""
    rows = sink.close()
    sink.out.wait()
    out.flush()
    os.fsync(out.fileno())
    return rows


def parse_size(value: object, where: str) -> int | None:
    """A max_shard_size as bytes, as Hugging Face datasets reads it ("500MB" is 500 * 10**6,
    "1GiB" 2**30, a number is bytes); None when unset. ProjectError, naming where, when invalid.

    >>> parse_size("500MB", "x"), parse_size("2KiB", "x"), parse_size(1000, "x"), parse_size(None, "x")
    (500000000, 2048, 1000, None)
    """
    if value is None:
        return None
    found = SIZE.fullmatch(value) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif found and found.group(2).upper() in UNITS:
        size = int(float(found.group(1)) * UNITS[found.group(2).upper()])
    else:
        size = 0
    if size < 1:
        raise ProjectError(f"{where} {SETTING} = {json.dumps(value, ensure_ascii=False)}: expected a size "
                           f"such as \"500MB\", \"1GiB\" or a number of bytes (at least 1)")
    return size


def shard_name(name: str, index: int, count: int) -> str:
    """
    >>> shard_name("dpo_pairs.jsonl", 0, 3)
    'dpo_pairs-00000-of-00003.jsonl'
    """
    stem, ext = os.path.splitext(name)
    return f"{stem}-{index:05d}-of-{count:05d}{ext}"


def shard_glob(name: str, count: int) -> str:
    """The shards of a file, as a path the dataset card's data_files takes.

    >>> shard_glob("kto_samples.jsonl", 12)
    'kto_samples.jsonl/kto_samples-*-of-00012.jsonl'
    """
    stem, ext = os.path.splitext(name)
    return f"{name}/{stem}-*-of-{count:05d}{ext}"


def is_shard_of(entry: str, name: str) -> bool:
    """Whether a file name is one of name's shards (of any build).

    >>> is_shard_of("a-00001-of-00002.json", "a.json"), is_shard_of("a-1.json", "a.json")
    (True, False)
    """
    stem, ext = os.path.splitext(name)
    return re.fullmatch(re.escape(stem) + r"-\d{5,}-of-\d{5,}" + re.escape(ext), entry) is not None


class ShardedSink:
    """One export file written as shards of at most `limit` bytes into staging; laid-out rows in,
    column by column. Each shard is a Sink (head, rows, tail) over its own file. On close, one
    shard is renamed to the file's own name (the same bytes as a build without shards), more go
    into a folder of that name with their final names."""

    def __init__(self, layout: Layout, staging: Path, name: str, limit: int, disk: ThreadPoolExecutor,
                 writer: type):
        self.layout, self.staging, self.name, self.limit = layout, staging, name, limit
        self.disk, self.writer = disk, writer
        self.parts = staging / f".{name}.shards"
        self.parts.mkdir()
        self.count = 0               # shards opened
        self.rows = 0                # rows written, every shard
        self.out: BinaryIO | None = None
        self.sink: Sink | None = None
        self.used = 0                # bytes of the open shard, its tail not counted
        self.first = len(layout.head) - len(layout.sep)  # what a shard's first row costs beyond its text

    def write_column(self, column: pyarrow.Array) -> None:
        """The rows of a column of laid-out rows (each with the separator in front; NULL where the
        file does not hold the row), cut into shards where the next row would pass the limit."""
        offsets, data = text_buffers(column)
        n, at = len(column), 0
        while at < n:
            empty = self.sink is None or not self.sink.rows
            room = self.limit - len(self.layout.tail) - (self.first if empty else self.used)
            end = max(bisect_right(offsets, offsets[at] + room, at, n + 1) - 1, at)  # the rows that fit
            if end == at:
                if not empty:  # the next row does not fit: it starts the next shard
                    self.finish_shard()
                    continue
                end = at + 1   # a row larger than the limit alone: a shard of its own
            count = end - at - (column.slice(at, end - at).null_count if column.null_count else 0)
            if count:
                if self.sink is None:
                    self.open_shard()
                self.used = (self.first if empty else self.used) + offsets[end] - offsets[at]
                self.sink.write(memoryview(data)[offsets[at]:offsets[end]], count)
                self.rows += count
            at = end

    def open_shard(self) -> None:
        self.out = (self.parts / f"part-{self.count}").open("wb")
        self.sink = Sink(self.layout, self.writer(self.out, self.disk))
        self.count += 1

    def finish_shard(self) -> None:
        """Close the open shard: its tail written, the file on disk (fsync)."""
        if self.sink is None:
            return
        finish_file(self.sink, self.out)
        self.out.close()
        self.sink = self.out = None

    def close(self) -> tuple[int, tuple[str, ...]]:
        """Finish the last shard (an empty file when no row came: one file, as without shards) and
        name them; returns the rows written and the shards' names (none when one file)."""
        if self.count == 0:
            self.open_shard()
        self.finish_shard()
        if self.count == 1:
            os.replace(self.parts / "part-0", self.staging / self.name)
            self.parts.rmdir()
            return self.rows, ()
        names = tuple(shard_name(self.name, i, self.count) for i in range(self.count))
        for i, shard in enumerate(names):
            os.replace(self.parts / f"part-{i}", self.parts / shard)
        os.replace(self.parts, self.staging / self.name)
        return self.rows, names

    def abandon(self) -> None:
        """Close the open shard's file after a failure (staging is discarded)."""
        if self.out is not None:
            self.out.close()


def in_the_way(place: Path, shards: tuple[str, ...], show=str) -> list[Removal]:
    """What an earlier build left at a file's place that this build's file does not replace: its
    one file when this build writes shards, its shards (and their folder) when this build writes
    one file, its shards of another count. CommitError when a folder for shards holds what fbt
    did not write (before the commit point: nothing has changed); a folder without shards where
    one file goes is left to the commit's checks (engine/commit.py prepare_moves)."""
    if shards and place.is_symlink():
        raise CommitError(f"{show(place)}: is a symlink, and the build writes shards, as a folder in its "
                          f"place; remove the symlink, or raise {SETTING}, and build again (nothing changed)")
    if not place.is_dir() or place.is_symlink():
        return [("file", place)] if shards and place.exists() else []
    check_folder(place, bool(shards), show)
    entries = listing(place)
    if not shards and not any(is_shard_of(e, place.name) for e in entries):
        return []
    stale: list[Removal] = [("file", place / e) for e in entries if e not in shards]
    return stale + ([] if shards else [("folder", place)])


def listing(place: Path) -> list[str]:
    """The names in a folder at a file's place (none when it is a file, a symlink or nothing)."""
    return sorted(os.listdir(place)) if place.is_dir() and not place.is_symlink() else []


def only_shards(folder: Path) -> bool:
    """Is folder a folder (not a symlink) holding nothing but shards of its name?"""
    return folder.is_dir() and not folder.is_symlink() and all(is_shard_of(e, folder.name)
                                                                for e in listing(folder))


def check_folder(place: Path, sharding: bool, show=str) -> None:
    """CommitError when a folder of shards in a file's place holds files fbt did not write, or a
    folder in the place of a file that may be written as shards (sharding) holds any (said when the
    build plans its files, and again before its commit: nothing has changed)."""
    entries = listing(place)
    foreign = [e for e in entries if not is_shard_of(e, place.name)]
    if foreign and (sharding or len(foreign) < len(entries)):
        raise CommitError(f"{show(place)}: a folder for shards holding files fbt did not write "
                          f"({', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}); move them "
                          f"away and build again (nothing changed)")


def place_files(staged: Path, place: Path, shards: tuple[str, ...]
                ) -> tuple[list[tuple[Path, Path]], list[tuple[Path, Path]]]:
    """The moves that put a staged file in its place (the file, or the folder of shards whole, or,
    the place already a folder of shards, each shard into it), and the folder swap that does the
    last in one step where the system can (engine/commit.py, swap_folders)."""
    if shards and place.is_dir() and not place.is_symlink():
        return [(staged / shard, place / shard) for shard in shards], [(staged, place)]
    return [(staged, place)], []


def remove_stale(removals: list[Removal]) -> None:
    """Remove what a journal lists as in the way, each only if it is still of its kind (a file, a
    folder): made again after a crash, it never touches what the moves put there."""
    for kind, path in removals:
        try:
            if kind == "file" and not path.is_dir():
                path.unlink(missing_ok=True)
            elif kind == "folder" and path.is_dir() and not path.is_symlink():
                path.rmdir()
        except NotADirectoryError:  # its folder is now the new build's file
            pass
