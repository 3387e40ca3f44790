"""The files a build reads: each present and whole before DuckDB reads it and, when DuckDB refuses one,
why, said the way an editor shows it: line, column and record.

DuckDB reads the log; only when it refuses does fbt scan the file here, because DuckDB's own message
counts records from 2 (the opening `[` is value 1) and gives bytes relative to the record. A file
whose records must have certain keys (RECORDS, as the model reading it declares with
config(source_records=...): the base set's Alpaca records) is scanned in full before DuckDB reads it."""

from __future__ import annotations

import codecs
import glob
import gzip
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import LogChangedError, SourceError

if TYPE_CHECKING:
    from .project import Project
    from .render import Rendered

WHITESPACE = re.compile(r"[ \t\n\r]*")
KINDS = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
         int: "a number", float: "a number"}


@dataclass(frozen=True)
class Records:
    """What the records of a source file are, and what the messages about that file tell the user."""

    noun: str                   # the file, as messages name it: "the log"
    repair: str                 # what to do, said after what is wrong with the file
    missing: str                # what to do when there is no such file ({flag}: the var's shorthand)
    empty: str = ""             # why an empty JSON file is wrong, said after that it is
    name: str = ""              # one record, as messages name it: "an Alpaca record"
    keys: tuple[str, ...] = ()  # a record with none of these is not such a record: the build stops


ALPACA = '{"instruction": "...", "input": "...", "output": "..."}'
# What a model may declare its source's records to be, with config(source_records=...); "log" when
# it declares nothing.
RECORDS = {
    "log": Records(noun="the log", repair="fix the log and build again (an empty log is written as [])",
                   missing="pass the log's path with {flag} PATH",
                   empty="the app writes [] when there is no feedback"),
    "alpaca": Records(noun="the base set",
                      repair=f"expected Alpaca records {ALPACA}, in a JSON array (.json) or one per "
                             f"line (.jsonl); fix the file or use another",
                      missing="pass the path of an Alpaca JSON or JSONL file with --var {var}=PATH",
                      name="an Alpaca record", keys=("instruction", "output")),
}
LOG = RECORDS["log"]
# Keys that tell what a file that is not of the records expected holds instead.
LOOKALIKES = {"conversations": "ShareGPT", "messages": "OpenAI chat", "user_input": "the feedback log",
              "model_response": "the feedback log"}


class Problem(Exception):
    def __init__(self, pos: int, what: str, record: int | None = None, not_utf8: bool = False):
        super().__init__(what)
        self.pos, self.what, self.record, self.not_utf8 = pos, what, record, not_utf8


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


def describe(path: Path, duckdb_says: str, records: Records = LOG) -> str:
    """One line for a file DuckDB would not read: the file, where, what, and what to do."""
    try:
        where = diagnose(path, records)
    except OSError as e:  # unreadable: say so
        where = e.strerror or str(e)
    if where is None:  # fall back to DuckDB's words, without its file name
        where = duckdb_says.split(": ", 1)[-1].replace(f' in file "{path}"', "").rstrip(". ")
    return f"{path}: {where}; {records.repair}"


def json_lines(path: Path) -> bool:
    """Is the file read as JSON lines (one record per line), by its name? As macros/inputs.sql."""
    return path.name.lower().removesuffix(".gz").endswith((".jsonl", ".ndjson"))


def diagnose(path: Path, records: Records = LOG) -> str | None:
    """'line L, column C (record N): what is wrong', or None when this scan finds nothing wrong."""
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    bom = data.startswith(codecs.BOM_UTF8)
    text = data[3 if bom else 0:].decode("utf-8", errors="surrogateescape")
    lines = json_lines(path) or not path.name.lower().removesuffix(".gz").endswith(".json") \
        and not text.lstrip(" \t\r\n").startswith("[")
    try:
        scan(text, lines, records)
    except RecursionError:  # nested deeper than Python's json can follow: leave it to DuckDB's words
        return None
    except Problem as p:
        line = text.count("\n", 0, p.pos) + 1
        column = p.pos - (text.rfind("\n", 0, p.pos) + 1) + 1 + (bom and line == 1)
        record = f" (record {p.record})" if p.record else ""
        must = f" ({records.noun} must be UTF-8)" if p.not_utf8 else ""
        return f"line {line}, column {column}{record}: {p.what}{must}"
    return None


def scan(text: str, lines: bool = False, records: Records = LOG) -> int:
    """Walk a file as fbt reads it (a JSON array, or JSON lines), raising Problem at the first
    fault; returns the record count.

    >>> scan('[{"a": 1}, {"b": 2}]')
    2
    >>> scan('[{"a": 1}, 7]')
    Traceback (most recent call last):
    engine.logcheck.Problem: record 2 is a number, not an object {...}
    >>> scan('{"output": "a"}\\n\\n{"input": "b"}\\n', lines=True, records=RECORDS["alpaca"])
    Traceback (most recent call last):
    engine.logcheck.Problem: record 2 is not an Alpaca record: it has "input" but neither "instruction" nor "output"
    """
    decoder = json.JSONDecoder(object_pairs_hook=pairs)
    if lines:
        return scan_lines(decoder, text, records)
    pos = skip(text, 0)
    if pos == len(text):
        raise Problem(pos, "the file holds no JSON value (it is empty or only white space)"
                           + (f"; {records.empty}" if records.empty else ""))
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
            pos = skip(text, read_record(decoder, text, start, count, records))
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


def scan_lines(decoder: json.JSONDecoder, text: str, records: Records) -> int:
    """JSON lines: each line that is not blank holds one record. Returns the record count."""
    pos = count = 0
    while (start := skip(text, pos)) < len(text):
        count += 1
        stop = text.find("\n", start)
        stop = len(text) if stop < 0 else stop  # the end of its line
        end = read_record(decoder, text, start, count, records, stop)
        rest = text[end:stop].rstrip(" \t\r")
        if rest:
            raise fault(text, end, end + len(rest) - 1, f"expected the end of the line after record "
                        f"{count} (one record per line), found {rest[:20]!r}", count)
        pos = stop
    return count


def read_record(decoder: json.JSONDecoder, text: str, start: int, count: int, records: Records,
                stop: int | None = None) -> int:
    """Decode record number count, which starts at start (and ends by stop, its line's end, in
    JSON lines); returns where it ends (or raises Problem)."""
    offset = 0 if stop is None else start
    piece = text if stop is None else text[start:stop]
    try:
        value, end = decoder.raw_decode(piece, start - offset)
    except DuplicateKeyError as e:
        raise fault(text, start, start, f"key \"{e}\" appears twice in record {count}", count) from None
    except json.JSONDecodeError as e:
        raise fault(text, start, e.pos + offset,
                    explain(e, piece, file_end=offset + len(piece) == len(text)), count) from None
    end += offset
    check_strings(text, start, end, value, count)
    if not isinstance(value, dict):
        raise Problem(start, f"record {count} is {KINDS.get(type(value), 'a value')}, "
                             f"not an object {{...}}", count)
    if records.keys and not any(key in value for key in records.keys):
        what = describe_record(value, records.keys)
        raise Problem(start, f"record {count} is not {records.name}: {what}", count)
    return end


def describe_record(record: dict[str, Any], keys: tuple[str, ...], shown: int = 5) -> str:
    """What a record has instead of the keys expected, and what it looks like, for a message.

    >>> describe_record({"conversations": []}, ("instruction", "output"))
    'it has "conversations" but neither "instruction" nor "output" (it looks like ShareGPT)'
    >>> describe_record({}, ("instruction", "output"))
    'it is an empty object {}'
    """
    if not record:
        return "it is an empty object {}"
    names = [json.dumps(k, ensure_ascii=False) for k in record]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    like = next((LOOKALIKES[k] for k in record if k in LOOKALIKES), None)
    expected = " nor ".join(json.dumps(k) for k in keys)
    return (f"it has {', '.join(names[:shown])}{more} but neither {expected}"
            + (f" (it looks like {like})" if like else ""))


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


def explain(error: json.JSONDecodeError, text: str, file_end: bool = True) -> str:
    """What a JSON syntax error means; text ends where the file does (or, file_end false, its line)."""
    if error.pos >= len(text) or error.msg.startswith("Unterminated string") and \
            '"' not in text[error.pos + 1:]:
        return "the file ends inside this record; it was probably cut short" if file_end else \
            "the line ends inside this record (one record per line); it was cut short or split"
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
        return Problem(found.start(), f"byte 0x{byte:02x} is not UTF-8", record, not_utf8=True)
    return Problem(pos, what, record)


def check_strings(text: str, start: int, stop: int, value: Any, record: int) -> None:
    """Raise at a byte that is not UTF-8 inside the record, or a lone surrogate escape ("\\ud800"),
    which is valid JSON syntax but no character."""
    problem = fault(text, start, stop - 1, "", record)
    if problem.what:
        raise problem
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
    before they are checked, for check_unchanged once the build has read them; a file whose records
    the model reading it declares (config(source_records=...)), each record."""
    paths, prints = {}, {}
    for name in sorted({s for m in models.values() for s in m.sources}):
        path = project.path(project.vars[project.sources[name]])
        var = project.sources[name]
        flag = "--" + var.replace("_", "-")
        records = RECORDS[next((m.config["source_records"] for m in models.values()
                                if name in m.sources and "source_records" in m.config), "log")]
        files = [path]
        if glob.has_magic(str(path)) and not path.is_file():
            files = sorted(Path(p) for p in glob.glob(str(path)))
            if not files:
                raise SourceError(f"{path}: no file matches (source '{name}'); pass the logs' path with "
                                  f"{flag} PATH")
        for i, file in enumerate(files):
            if not file.is_file():
                raise SourceError(f"{file}: no such file (source '{name}'); "
                                  + records.missing.format(flag=flag, var=var))
            prints[file] = fingerprint(file)
            check_whole(file, records)
            if records.keys:
                check_records(file, records)
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


def check_whole(path: Path, records: Records = LOG) -> None:
    """DuckDB reads an empty or blank file as zero records, and `[{...},` as complete: refuse both.
    (An empty JSON-lines file is a day without feedback, and fine.)"""
    try:
        first = first_byte(path)
        lines = path.name.lower().endswith((".jsonl", ".ndjson"))
        cut_short = first == b"[" and last_byte(path) != b"]" or first is None and not lines
    except OSError as e:
        raise SourceError(f"{path}: cannot read it ({e.strerror}); check its permissions") from e
    if cut_short:
        raise SourceError(describe(path, "the file is empty or does not end with ]", records))


def check_records(path: Path, records: Records) -> None:
    """Every record of the file is one of records (it has one of their keys): scanned in full."""
    try:
        where = diagnose(path, records)
    except OSError as e:
        raise SourceError(f"{path}: cannot read it ({e.strerror or e}); check it") from e
    if where:
        raise SourceError(f"{path}: {where}; {records.repair}")
