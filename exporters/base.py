"""What an export format is, and the two layouts our formats share (an indented JSON array, JSON lines).

An exporter never sees DuckDB: it names its fields and its Layout, the text around the fields' JSON
values. The build has DuckDB lay out every row (engine/export.py: in parallel, into Arrow buffers),
each row with the layout's separator in front, and a Sink puts the head and the tail around them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Output(Protocol):
    """Where an exporter writes: a binary file, or anything with its write()."""

    def write(self, data: bytes, /) -> object: ...

WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}
UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
EDGE_DOTS = re.compile(r"^[. ]+|[. ]+$")
MAX_BYTES = 100  # in UTF-8; file systems allow 255 bytes per name


@dataclass(frozen=True)
class Exporter:
    name: str                  # the --format value: "alpaca"
    filename: str              # the file for all models: "alpaca_format_samples.json"
    model_filename: str        # with --model-name M: "{model}_alpaca_format.json"
    fields: tuple[str, ...]    # output keys, in order; each is a column of the exported model
    layout: Callable[[tuple[str, ...]], Layout]  # json_array or json_lines: the file, given its keys
    help: str
    optional: tuple[str, ...] = ()     # fields left out of the file when NULL in every row (system)
    dataset_info: Mapping[str, Any] | None = None  # its LLaMA-Factory dataset_info.json entry
    min_rows: int = 0          # fewer rows than the service it is for takes: the summary warns
    trainer: str = ""          # what reads it (the build report says so beside each file)

    def open(self, out: Output, fields: tuple[str, ...] | None = None) -> Sink:
        """A sink that writes this format to out, batch by batch, with the given fields (all of them,
        or fewer when optional ones are left out); rows hold one value per field, in that order."""
        return Sink(self.layout(fields or self.fields), out)

    def target(self, model_name: str) -> str:
        """The file name for a build, with the model name made safe to use as a file name."""
        return self.model_filename.format(model=safe_filename(model_name)) if model_name \
            else self.filename


def safe_filename(name: str) -> str:
    """A model name as part of a file name: valid on Linux, macOS and Windows, never a path.

    Each of / \\ : * ? " < > | and control characters becomes _, leading and trailing dots and
    spaces become _, a Windows device name (CON, NUL, COM1 ...) gets a leading _, and a name over
    100 bytes in UTF-8 is cut to its first 91 bytes' whole characters plus _ and 8 hex digits of its
    md5, so long names stay distinct and every file name fits 255 bytes (and 255 UTF-16 units).

    >>> safe_filename("huanhuan-qwen"), safe_filename("../x:y"), safe_filename("CON")
    ('huanhuan-qwen', '___x_y', '_CON')
    """
    safe = EDGE_DOTS.sub(lambda m: "_" * len(m.group()), UNSAFE.sub("_", name))
    if safe.split(".")[0].upper() in WINDOWS_RESERVED:
        safe = "_" + safe
    if len(safe.encode("utf-8")) > MAX_BYTES:
        cut = safe.encode("utf-8")[: MAX_BYTES - 9].decode("utf-8", errors="ignore")
        safe = cut + "_" + hashlib.md5(name.encode("utf-8")).hexdigest()[:8]
    return safe


@dataclass(frozen=True)
class Layout:
    """A file of rows: head, the rows joined by sep, tail; or `empty` when there are no rows."""

    row: bytes     # one row, with a %s for each field's JSON text
    head: bytes
    sep: bytes
    tail: bytes
    empty: bytes

    @property
    def pieces(self) -> list[str]:
        """The text of a row around its values, sep in front: pieces[0], value 1, pieces[1], ...

        >>> json_lines(("a", "b")).pieces
        ['\\n{"a": ', ', "b": ', '}']
        """
        return (self.sep + self.row).decode().split("%s")


class Sink:
    """One export file being written: batches of laid-out rows in, the head and tail around them."""

    def __init__(self, layout: Layout, out: Output):
        self.layout, self.out, self.rows = layout, out, 0

    def write(self, rows: bytes | memoryview, count: int) -> None:
        """Write count rows, laid out and each with the separator in front, as one run of bytes."""
        if count:
            if not self.rows:  # the first row has the head in place of a separator
                self.out.write(self.layout.head)
                rows = memoryview(rows)[len(self.layout.sep):]
            self.out.write(rows)
            self.rows += count

    def close(self) -> int:
        """Finish the file; returns rows written."""
        self.out.write(self.layout.tail if self.rows else self.layout.empty)
        return self.rows


def json_array(fields: tuple[str, ...]) -> Layout:
    """An array with each object indented as Python's json.dump(indent=2) does, and a final newline."""
    row = "  {\n" + ",\n".join(f'    "{key}": %s' for key in fields) + "\n  }"
    return Layout(row.encode(), head=b"[\n", sep=b",\n", tail=b"\n]\n", empty=b"[]\n")


def json_lines(fields: tuple[str, ...]) -> Layout:
    """One JSON object per line (JSONL), keys in fields order, separators as json.dumps's."""
    row = "{" + ", ".join(f'"{key}": %s' for key in fields) + "}"
    return Layout(row.encode(), head=b"", sep=b"\n", tail=b"\n", empty=b"")
