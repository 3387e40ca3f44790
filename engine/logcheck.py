"""The logs a build reads: each present and whole before DuckDB reads it and, when DuckDB refuses one,
why, said the way an editor shows it: line, column and record.

DuckDB reads the log; only when it refuses does fbt scan the file here, because DuckDB's own message
counts records from 2 (the opening `[` is value 1) and gives bytes relative to the record."""

from __future__ import annotations

import codecs
import glob
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import LogChangedError, SourceError

if TYPE_CHECKING:
    from .project import Project
    from .render import Rendered

WHITESPACE = re.compile(r"[ \t\n\r]*")
KINDS = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
         int: "a number", float: "a number"}


class Problem(Exception):
    def __init__(self, pos: int, what: str, record: int | None = None):
        super().__init__(what)
        self.pos, self.what, self.record = pos, what, record


def first_byte(path: Path, chunk: int = 1 << 16) -> bytes | None:
    """The first byte that is not a BOM or JSON white space, or None when there is none.

    Cheap (stops at the first such byte), so every build can tell an empty log from a short one."""
    with path.open("rb") as f:
        head = f.read(3)
        data = head[3:] if head == codecs.BOM_UTF8 else head
        while True:
            stripped = data.lstrip(b" \t\r\n")
            if stripped:
                return stripped[:1]
            data = f.read(chunk)
            if not data:
                return None


def last_byte(path: Path, chunk: int = 1 << 16) -> bytes | None:
    """The last byte that is not JSON white space. DuckDB reads a log cut short just after a comma
    (`[{...},`) as complete, so every build checks that the log ends with `]`."""
    with path.open("rb") as f:
        end = f.seek(0, 2)
        while end > 0:
            start = max(0, end - chunk)
            f.seek(start)
            stripped = f.read(end - start).rstrip(b" \t\r\n")
            if stripped:
                return stripped[-1:]
            end = start
    return None


def describe(path: Path, duckdb_says: str) -> str:
    """One line for a log DuckDB would not read: the file, where, what, and what to do."""
    try:
        where = diagnose(path)
    except OSError as e:  # unreadable: say so
        where = e.strerror or str(e)
    if where is None:  # fall back to DuckDB's words, without its file name
        where = duckdb_says.split(": ", 1)[-1].replace(f' in file "{path}"', "").rstrip(". ")
    return f"{path}: {where}; fix the log and build again (an empty log is written as [])"


def diagnose(path: Path) -> str | None:
    """'line L, column C (record N): what is wrong', or None when this scan finds nothing wrong."""
    data = path.read_bytes()
    bom = data.startswith(codecs.BOM_UTF8)
    text = data[3 if bom else 0:].decode("utf-8", errors="surrogateescape")
    try:
        scan(text)
    except RecursionError:  # nested deeper than Python's json can follow: leave it to DuckDB's words
        return None
    except Problem as p:
        line = text.count("\n", 0, p.pos) + 1
        column = p.pos - (text.rfind("\n", 0, p.pos) + 1) + 1 + (bom and line == 1)
        record = f" (record {p.record})" if p.record else ""
        return f"line {line}, column {column}{record}: {p.what}"
    return None


def scan(text: str) -> int:
    """Walk a log as fbt reads it, raising Problem at the first fault; returns the record count.

    >>> scan('[{"a": 1}, {"b": 2}]')
    2
    >>> scan('[{"a": 1}, 7]')
    Traceback (most recent call last):
    engine.logcheck.Problem: record 2 is a number, not an object {...}
    """
    decoder = json.JSONDecoder(object_pairs_hook=pairs)
    pos = skip(text, 0)
    if pos == len(text):
        raise Problem(pos, "the file holds no JSON value (it is empty or only white space); "
                           "the app writes [] when there is no feedback")
    if text[pos] != "[":
        raise fault(text, 0, pos, f"expected a JSON array of records ([...]), found {peek(decoder, text, pos)}")
    pos, count = skip(text, pos + 1), 0
    if not text.startswith("]", pos):
        while True:
            count += 1
            start = pos
            if pos == len(text):
                raise Problem(pos, f"the file ends after record {count - 1} without the closing ]; "
                                   f"it was probably cut short", count - 1 or None)
            pos = skip(text, read_record(decoder, text, start, count))
            if text.startswith("]", pos):
                break
            if not text.startswith(",", pos):
                found = "the end of the file" if pos == len(text) else repr(text[pos])
                cut = "; the file was probably cut short" if pos == len(text) else ""
                raise fault(text, pos, pos, f"expected , or ] after record {count}, found {found}{cut}",
                            count)
            pos = skip(text, pos + 1)
    pos = skip(text, pos + 1)
    if pos < len(text):
        raise fault(text, pos, pos, f"unexpected text after the closing ] of the array: "
                                    f"{text[pos:pos + 20]!r}")
    return count


def read_record(decoder: json.JSONDecoder, text: str, start: int, count: int) -> int:
    """Decode record number count, which starts at start; returns where it ends (or raises Problem)."""
    try:
        value, end = decoder.raw_decode(text, start)
    except DuplicateKeyError as e:
        raise fault(text, start, start, f"key \"{e}\" appears twice in record {count}", count) from None
    except json.JSONDecodeError as e:
        raise fault(text, start, e.pos, explain(e, text), count) from None
    check_strings(text, start, end, value, count)
    if not isinstance(value, dict):
        raise Problem(start, f"record {count} is {KINDS.get(type(value), 'a value')}, "
                             f"not an object {{...}}", count)
    return end


class DuplicateKeyError(ValueError):
    pass


def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in items:
        if key in seen:
            raise DuplicateKeyError(key)
        seen[key] = value
    return seen


def skip(text: str, pos: int) -> int:
    return WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]


def peek(decoder: json.JSONDecoder, text: str, pos: int) -> str:
    try:
        value, _ = decoder.raw_decode(text, pos)
        return KINDS.get(type(value), "a value")
    except ValueError:
        return f"text starting {text[pos:pos + 10]!r}"


def explain(error: json.JSONDecodeError, text: str) -> str:
    if error.pos >= len(text) or error.msg.startswith("Unterminated string") and \
            '"' not in text[error.pos + 1:]:
        return "the file ends inside this record; it was probably cut short"
    char = text[error.pos]
    if error.msg.startswith("Invalid control character"):
        return f"control character U+{ord(char):04X} inside a string; write it as \\u{ord(char):04x}"
    return f"{error.msg[0].lower()}{error.msg[1:]} (found {char!r})"


NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, as surrogateescape decodes them
SURROGATE = re.compile("[\ud800-\udfff]")


def fault(text: str, start: int, pos: int, what: str, record: int | None = None) -> Problem:
    """The Problem at pos, unless a byte that is not UTF-8 comes first in text[start:pos + 1]."""
    found = NOT_UTF8.search(text, start, pos + 1)
    if found:
        byte = ord(found.group()) - 0xDC00
        return Problem(found.start(), f"byte 0x{byte:02x} is not UTF-8 (the log must be UTF-8)", record)
    return Problem(pos, what, record)


def check_strings(text: str, start: int, stop: int, value: Any, record: int) -> None:
    """Raise at a byte that is not UTF-8 inside the record, or a lone surrogate escape ("\\ud800"),
    which is valid JSON syntax but no character."""
    problem = fault(text, start, stop - 1, "")
    if problem.what:
        raise Problem(problem.pos, problem.what, record)
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += list(item.keys()) + list(item.values())
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, str) and (bad := SURROGATE.search(item)):
            escape = f"\\u{ord(bad.group()):04x}"
            at = re.compile(re.escape(escape), re.IGNORECASE).search(text, start, stop)
            raise Problem(at.start() if at else start,
                          f"{escape} is a lone surrogate escape (half of a UTF-16 pair), not a "
                          f"character", record)


def check_sources(project: Project, models: dict[str, Rendered]) -> tuple[dict[str, Path],
                                                                         dict[Path, Fingerprint]]:
    """The files the models read, each present and not empty (a glob: each file it matches; a path
    that names a file is that file, even with [ ] in its name), and their fingerprints, taken
    before they are checked, for check_unchanged once the build has read them."""
    paths, prints = {}, {}
    for name in sorted({s for m in models.values() for s in m.sources}):
        path = project.path(project.vars[project.sources[name]])
        flag = "--" + project.sources[name].replace("_", "-")
        files = [path]
        if glob.has_magic(str(path)) and not path.is_file():
            files = sorted(Path(p) for p in glob.glob(str(path)))
            if not files:
                raise SourceError(f"{path}: no file matches (source '{name}'); pass the logs' path with "
                                  f"{flag} PATH")
        for i, file in enumerate(files):
            if not file.is_file():
                raise SourceError(f"{file}: no such file (source '{name}'); pass the log's path with "
                                  f"{flag} PATH")
            prints[file] = fingerprint(file)
            check_whole(file)
            paths[name if i == 0 else f"{name}:{i}"] = file
    return paths, prints


Fingerprint = tuple[int, int, int, int, int]


def fingerprint(path: Path) -> Fingerprint:
    """What changes when a file is rewritten, in place or replaced: device, inode, size, mtime, ctime."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def check_unchanged(before: dict[Path, Fingerprint]) -> None:
    """Each file as it was when the build began to read it; else LogChangedError, saying what changed."""
    change = find_change(before)
    if change:
        raise LogChangedError(change)


def find_change(before: dict[Path, Fingerprint]) -> str | None:
    """'<file>: changed while the build read it (how, when)' for the first file that changed, else None."""
    for path, then in before.items():
        try:
            now = fingerprint(path)
        except OSError:
            return f"{path}: removed while the build read it"
        if now != then:
            what = ("replaced by another file" if now[:2] != then[:2] else
                    f"{then[2]:,} bytes, then {now[2]:,}" if now[2] != then[2] else "rewritten in place")
            stamp = time.strftime("%H:%M:%S", time.localtime(now[3] / 1e9))
            return f"{path}: changed while the build read it ({what}, at {stamp})"
    return None


def check_whole(path: Path) -> None:
    """DuckDB reads an empty or blank file as zero records, and `[{...},` as complete: refuse both.
    (An empty JSON-lines file is a day without feedback, and fine.)"""
    try:
        first = first_byte(path)
        lines = path.name.lower().endswith((".jsonl", ".ndjson"))
        cut_short = first == b"[" and last_byte(path) != b"]" or first is None and not lines
    except OSError as e:
        raise SourceError(f"{path}: cannot read it ({e.strerror}); check its permissions") from e
    if cut_short:
        raise SourceError(describe(path, "the file is empty or does not end with ]"))
