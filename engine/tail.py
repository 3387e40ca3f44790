"""The log's new tail: a build whose log only grew since the last build parses only the records
after the point where that build's log ended, and starts from the rows the last build parsed.

The app rewrites its whole log at each rating, so the file is new each time; what tells that the
earlier records are the same is their bytes. Each build records, in its database (table
fbt.log_parse), where its log's records ended (the byte after the last one), a hash of every byte
before that point (xxHash's XXH3, 128 bits: ~4x faster than BLAKE2 here, and any edit changes it;
of 64 MiB blocks, hashed on both cores), how many records it parsed, and a key of everything that
made the rows (the SQL of the log model and the models it reads, DuckDB's version). The next build
takes the last build's rows when the key is the same and its log starts with the same bytes, and
reads only the rest, as a small JSON file of its own (its records numbered on from the last
build's, its file named as the log); otherwise it parses everything and says why. The log model
declares that this is sound for it with config(incremental=true): each of its rows depends on its
record alone (its post hooks settle what needs the whole log, on the table once the new rows are
in; is_incremental() tells them so, and new_rows(this) reads those rows: engine/render.py)."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from threading import Event
from typing import TYPE_CHECKING, BinaryIO

from .logcheck import Fingerprint, fingerprint
from .render import quote_identifier
from .runner import duckdb_errors, has_table
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb

    from .render import Rendered

SCHEMA = "fbt"
TABLE = f"{SCHEMA}.log_parse"
PREVIOUS = "fbt_previous"  # the last build's database, attached read-only while its rows are copied
CHUNK = 1 << 22
BLOCK = 1 << 26  # the log's bytes are hashed in blocks of 64 MiB, on two threads (hash_prefix)
HASHED_AS = f"xxh3-128/{BLOCK >> 20}MiB"  # how, as the first part of each hash fbt.log_parse keeps
PREAD = hasattr(os, "preadv")  # (threads may share one open file; not on Windows)
WHITE = b" \t\r\n"


@dataclass(frozen=True)
class Parse:
    """What a build parsed of its log: the records before byte end (hashed), and the key of its rows."""

    log: str
    end: int
    digest: str
    records: int
    key: str

    @property
    def hashed_alike(self) -> bool:
        """Was the log hashed as this fbt hashes it (HASHED_AS)?"""
        return self.digest.startswith(f"{HASHED_AS}:")


@dataclass(frozen=True)
class Tail:
    """Only the new records are read (from file), numbered from records_before + 1; the log's
    records now end at byte end, the bytes before it hashed to digest."""

    file: Path
    records_before: int
    end: int
    digest: str


def records_end(path: Path) -> int | None:
    """The byte after the log's last record, where a longer log's new records begin; None when the
    file is not one whose new records can be read apart (compressed, or neither a JSON array nor
    JSON lines ending with a newline)."""
    name = path.name.lower()
    with path.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - (1 << 16)))
        end_part = f.read()
    base = size - len(end_part)
    if name.endswith((".jsonl", ".ndjson")):
        return size if end_part.endswith(b"\n") or size == 0 else None
    if not name.endswith(".json"):
        return None
    stripped = end_part.rstrip(WHITE)
    if not stripped.endswith(b"]"):
        return None
    before = stripped[:-1].rstrip(WHITE)
    if not before:  # white space longer than the part read: not a log the app writes
        return None
    return base + len(before)


def write_new_records(path: Path, start: int, end: int, first: bool, aside: Path) -> bool:
    """The log's bytes start..end (after the last build's records, up to the last record now) as a
    document of their own at aside, copied in blocks: the new lines of JSON lines, or a JSON array
    of the new records (`,{...},{...}` after the last build's records, `{...}` when the array had
    none). False when they do not continue the log as the app appends to it."""
    with path.open("rb") as f, aside.open("wb") as out:
        f.seek(start)
        if path.name.lower().endswith((".jsonl", ".ndjson")):
            copy_range(f, out, end - start)
            return True
        head = f.read(min(1 << 16, end - start))
        body = head.lstrip(WHITE)
        if not body and len(head) < end - start or body and first == body.startswith(b","):
            return False
        f.seek(start + len(head) - len(body) + (1 if body and not first else 0))  # (past the comma)
        out.write(b"[")
        copy_range(f, out, end - f.tell())
        out.write(b"]")
    return True


def copy_range(f, out, n: int) -> None:
    while n > 0 and (block := f.read(min(CHUNK, n))):
        out.write(block)
        n -= len(block)


def hash_prefix(path: Path, *stops: int, halted: Event | None = None, threads: int = 2) -> list[str]:
    """The hash of the bytes before each stop (HASHED_AS: XXH3-128 of the XXH3-128 digests of the
    BLOCK-byte blocks before it, the last cut at the stop), the blocks read and hashed on threads
    (reads and XXH3 release the GIL): 1.16 GB in ~0.1 s on two, ~0.19 s read whole on one. None
    once halted is set. A file shorter than a stop (changed meanwhile) hashes what it has. One
    open file is read at the blocks' offsets (os.preadv); where there is none (Windows), on one
    thread."""
    from xxhash import xxh3_128

    ends = sorted(set(stops))
    with path.open("rb", buffering=0) as f, \
            ThreadPoolExecutor(max_workers=threads if PREAD else 1) as pool:
        blocks = list(pool.map(lambda start: hash_block(f, start, ends, halted),
                               range(0, max(ends, default=0), BLOCK)))
    if halted is not None and halted.is_set():
        return []
    digests = {}
    for stop in ends:
        parts = [whole for whole, _ in blocks[:stop // BLOCK]]  # (the blocks wholly before it)
        if stop % BLOCK:
            parts.append(blocks[stop // BLOCK][1][stop])
        digests[stop] = f"{HASHED_AS}:{xxh3_128(b''.join(parts)).hexdigest()}"
    return [digests[stop] for stop in stops]


def hash_block(f: BinaryIO, start: int, stops: list[int], halted: Event | None) -> tuple[bytes, dict[int, bytes]]:
    """The digest of the block of f's bytes from start, and the digests of its bytes before each of
    stops inside it (the block ends at the last stop)."""
    from xxhash import xxh3_128

    h, at, cuts = xxh3_128(), start, {}
    end = min(start + BLOCK, stops[-1])
    buffer = memoryview(bytearray(CHUNK))
    for stop in [s for s in stops if start < s <= end] + ([end] if end not in stops else []):
        while at < stop and (n := read_at(f, buffer[:min(CHUNK, stop - at)], at)):
            if halted is not None and halted.is_set():
                return b"", {}
            h.update(buffer[:n])
            at += n
        cuts[stop] = h.digest()
    return h.digest(), cuts


def read_at(f: BinaryIO, buffer: memoryview, offset: int) -> int:
    """Read into buffer from offset of f, without moving its position where the system can (pread:
    then threads may share f); else after a seek (one thread)."""
    if PREAD:
        return os.preadv(f.fileno(), [buffer], offset)
    f.seek(offset)
    return f.readinto(buffer) or 0


def rows_key(models: dict[str, Rendered], log_model: str, reading: list[str]) -> str:
    """What made the log model's rows: its SQL and post hooks, those of the models it reads, and
    DuckDB's version (a new version may read JSON differently)."""
    import duckdb

    h = hashlib.sha256(duckdb.__version__.encode())
    for name in [*reading, log_model]:
        h.update(b"\0" + name.encode() + b"\0" + models[name].sql.encode())
        for hook in models[name].post_hooks:
            h.update(b"\0" + hook.encode())
    return h.hexdigest()


def last_parse(con: duckdb.DuckDBPyConnection, database: Path, log: str) -> Parse | None:
    """The last build's parse of log, from its database (None when there is none, or it is of
    another log)."""
    import duckdb

    if not database.is_file():
        return None
    try:
        con.execute(f"ATTACH {sql_literal(str(database))} AS {PREVIOUS} (READ_ONLY)")
    except duckdb.Error:  # not a database fbt can read: this build makes it anew
        return None
    try:
        found = has_table(con, SCHEMA, "log_parse", PREVIOUS)
        row = con.execute(f"SELECT log, end_offset, prefix_hash, records, rows_key FROM "
                          f"{PREVIOUS}.{TABLE} WHERE log = ?", [log]).fetchone() if found else None
    except duckdb.Error:  # a layout of another version: parse it all
        row = None
    finally:
        con.execute(f"DETACH {PREVIOUS}")
    return Parse(*row) if row else None


@dataclass(frozen=True)
class Hashed:
    """A log's hashes taken ahead (hash_ahead), as plan_tail takes them: of the bytes before start
    (where the last build's records ended) and before end (where its records end now), of the file
    as its fingerprint was before and after."""

    fingerprint: Fingerprint
    start: int
    end: int
    digests: list[str]


@dataclass(frozen=True)
class Hashing:
    """Logs being hashed ahead, on a thread (hash_ahead): result() waits for their Hashed, stop()
    ends the hashing sooner (none is needed)."""

    future: Future
    halted: Event

    def result(self) -> list[Hashed]:
        return self.future.result()

    def stop(self) -> None:
        self.halted.set()


def hash_ahead(database: Path, logs: dict[str, Path]) -> Hashing:
    """On a thread, while the project compiles (the other core; XXH3 and reads release the GIL):
    for each of logs (the name fbt.log_parse knows it by -> its file) that the last build read, the
    hashes plan_tail needs; those of a file that changed meanwhile, or cannot be read, are left out
    (plan_tail hashes it then)."""
    halted = Event()
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(hash_logs, database, logs, halted)
    pool.shutdown(wait=False)
    return Hashing(future, halted)


def hash_logs(database: Path, logs: dict[str, Path], halted: Event) -> list[Hashed]:
    import duckdb

    found = []
    with duckdb.connect() as con:
        for name, path in logs.items():
            try:
                before = last_parse(con, database, name)
                then = fingerprint(path)
                end = records_end(path) if before else None
                if before is None or end is None or end < before.end or not before.hashed_alike:
                    continue
                digests = hash_prefix(path, before.end, end, halted=halted)
                if digests and fingerprint(path) == then:
                    found.append(Hashed(then, before.end, end, digests))
            except (OSError, duckdb.Error):  # (plan_tail says what is wrong, if anything is)
                continue
    return found


def plan_tail(path: Path, before: Parse | None, key: str, aside: Path,
              ahead: Hashed | None = None) -> tuple[Tail | None, str]:
    """Read only the new records (a Tail, their document written at aside), or everything: (None,
    why). ahead: the log's hashes taken ahead, when they are of the file as the build found it."""
    if before is None:
        return None, "no earlier build of this log to start from"
    if before.key != key:
        return None, "the log's models (or DuckDB) changed since the last build"
    if not before.hashed_alike:
        return None, "the last build hashed the log another way (an earlier fbt)"
    if ahead and ahead.start == before.end:
        end, (old, new) = ahead.end, ahead.digests
    else:
        end = records_end(path)
        if end is None or end < before.end:
            return None, "the log ends before where the last build's records ended"
        old, new = hash_prefix(path, before.end, end)
    if old != before.digest:
        return None, "the records the last build read changed (edited, removed or written anew)"
    if not write_new_records(path, before.end, end, before.records == 0, aside):
        return None, "the log does not go on after where the last build's records ended"
    return Tail(aside, before.records, end, new), ""


def start_hash(path: Path) -> Future:
    """(where the log's records end, the hash of the bytes before), for the next build, computed on
    a thread beside the build's parse (the other core; XXH3 releases the GIL)."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(end_and_hash, path)
    pool.shutdown(wait=False)
    return future


def end_and_hash(path: Path) -> tuple[int | None, str | None]:
    end = records_end(path)  # (one thread: the parse reads the log on the other core)
    return end, hash_prefix(path, end, threads=1)[0] if end is not None else None


def record_parse(con: duckdb.DuckDBPyConnection, log: str, end: int | None, digest: str | None,
                 records: int, key: str) -> None:
    """fbt.log_parse in the build's database: what the next build may start from."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} (log VARCHAR, end_offset BIGINT, prefix_hash VARCHAR, "
                f"records BIGINT, rows_key VARCHAR)")
    if end is not None and digest is not None:
        con.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?)", [log, end, digest, records, key])


def copy_rows(con: duckdb.DuckDBPyConnection, database: Path, table: str) -> None:
    """The last build's rows of table, as the start of this build's table."""
    name = quote_identifier(table)
    with duckdb_errors(f"{database}: the last build's {table}"):
        con.execute(f"ATTACH {sql_literal(str(database))} AS {PREVIOUS} (READ_ONLY)")
        try:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {PREVIOUS}.main.{name}")
        finally:
            con.execute(f"DETACH {PREVIOUS}")
