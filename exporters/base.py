"""What an export format is, and the two layouts our formats share (an indented JSON array, JSON lines).

An exporter never sees DuckDB: it gets rows whose values are already JSON text (DuckDB's to_json renders
them in parallel), one value per field in `fields` order, and shapes, joins and writes them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

Rows = Iterable[tuple[str, ...]]
Writer = Callable[[Rows, TextIO], int]

WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}
UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
EDGE_DOTS = re.compile(r"^[. ]+|[. ]+$")
MAX_NAME = 100  # bytes of UTF-8


@dataclass(frozen=True)
class Exporter:
    name: str                  # the --format value: "alpaca"
    filename: str              # the file for all models: "alpaca_format_samples.json"
    model_filename: str        # with --model-name M: "{model}_alpaca_format.json"
    fields: tuple[str, ...]    # output keys, in order; each is a column of the exported model
    write: Writer              # rows of JSON-text values -> the file; returns rows written
    help: str

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
    if len(safe.encode("utf-8")) > MAX_NAME:
        head = safe.encode("utf-8")[:91].decode("utf-8", errors="ignore")
        safe = head + "_" + hashlib.md5(name.encode("utf-8")).hexdigest()[:8]
    return safe


def json_array_writer(fields: tuple[str, ...]) -> Writer:
    """A writer of an array with each object indented as Python's json.dump(indent=2) does."""
    template = "  {\n" + ",\n".join(f'    "{key}": %s' for key in fields) + "\n  }"

    def write(rows: Rows, out: TextIO) -> int:
        count = 0
        for row in rows:
            out.write(("[\n" if count == 0 else ",\n") + template % row)
            count += 1
        out.write("\n]\n" if count else "[]\n")
        return count

    return write


def json_lines_writer(fields: tuple[str, ...]) -> Writer:
    """A writer of one JSON object per line (JSONL), keys in fields order."""
    template = "{" + ", ".join(f'"{key}": %s' for key in fields) + "}\n"

    def write(rows: Rows, out: TextIO) -> int:
        count = 0
        for row in rows:
            out.write(template % row)
            count += 1
        return count

    return write
