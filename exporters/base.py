"""What an export format is, and the two layouts our formats share (an indented JSON array, JSON lines).

An exporter never sees DuckDB: it gets rows whose values are already JSON text (DuckDB's to_json renders
them in parallel), one value per field in `fields` order, and shapes, joins and writes them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

Rows = Iterable[tuple[str, ...]]
Writer = Callable[[Rows, TextIO], int]

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
    write: Writer              # rows of JSON-text values -> the file; returns rows written
    help: str
    optional: tuple[str, ...] = ()     # fields left out of an object when NULL (e.g. system)
    dataset_info: Mapping[str, Any] | None = None  # its LLaMA-Factory dataset_info.json entry

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


def json_array_writer(fields: tuple[str, ...], optional: tuple[str, ...] = ()) -> Writer:
    """A writer of an array with each object indented as Python's json.dump(indent=2) does (values
    that are lists or objects stay on one line); a field in optional is left out where it is NULL."""
    template = "  {\n" + ",\n".join(f'    "{key}": %s' for key in fields) + "\n  }"
    shape = object_shaper(fields, optional, '    "{}": ', ",\n", "  {\n", "\n  }")

    def write(rows: Rows, out: TextIO) -> int:
        count = 0
        for row in rows:
            out.write(("[\n" if count == 0 else ",\n") + (shape(row) if shape else template % row))
            count += 1
        out.write("\n]\n" if count else "[]\n")
        return count

    return write


def json_lines_writer(fields: tuple[str, ...], optional: tuple[str, ...] = ()) -> Writer:
    """A writer of one JSON object per line (JSONL), keys in fields order; a field in optional is
    left out where it is NULL."""
    template = "{" + ", ".join(f'"{key}": %s' for key in fields) + "}\n"
    shape = object_shaper(fields, optional, '"{}": ', ", ", "{", "}\n")

    def write(rows: Rows, out: TextIO) -> int:
        count = 0
        for row in rows:
            out.write(shape(row) if shape else template % row)
            count += 1
        return count

    return write


def object_shaper(fields: tuple[str, ...], optional: tuple[str, ...], key: str, sep: str, start: str,
                  end: str) -> Callable[[tuple], str] | None:
    """One object's text from a row, leaving out each optional field whose value is NULL; None when
    no field is optional (the writers then use a fixed template, which is faster).

    >>> shape = object_shaper(("q", "system"), ("system",), '"{}": ', ", ", "{", "}")
    >>> shape(('"hi"', None)), shape(('"hi"', '"be brief"'))
    ('{"q": "hi"}', '{"q": "hi", "system": "be brief"}')
    """
    unknown = set(optional) - set(fields)
    if unknown:
        raise ValueError(f"optional fields {sorted(unknown)} are not among the fields {fields}")
    if not optional:
        return None
    keys = [(key.format(name), name in optional) for name in fields]

    def shape(row: tuple) -> str:
        return start + sep.join(k + v for (k, may_omit), v in zip(keys, row, strict=True)
                                if not (may_omit and v in (None, "null"))) + end

    return shape
