"""One build at a time per database: an exclusive, non-blocking lock on a file beside it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LockError


@contextmanager
def build_lock(database: Path, shown: str) -> Iterator[None]:
    """Hold <database>.lock for the whole build; a second build stops at once, naming the first."""
    path = database.with_name(database.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise LockError(f"{shown}.lock: is a folder, where fbt keeps its build lock (a file); remove it "
                        f"(when no fbt command is running) and run again")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not try_lock(fd, patience=0.5):  # (a reader waiting for a build probes it for a moment)
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise LockError(f"{shown}: another build (pid {holder}) is running on this database; "
                            f"wait for it to finish, then run again")
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def try_lock(fd: int, patience: float = 0.0) -> bool:
    """Take the lock, trying again for patience seconds."""
    import time

    deadline = time.monotonic() + patience
    while not take_lock(fd):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def take_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def wait_for_build(database: Path, seconds: float = 120.0) -> None:
    """Wait (at most seconds) until no build holds <database>.lock: a build changing the database
    in place holds DuckDB's lock on it until it commits (engine/increment.py)."""
    import time

    path = database.with_name(database.name + ".lock")
    deadline = time.monotonic() + seconds
    while path.is_file() and time.monotonic() < deadline:
        fd = os.open(path, os.O_RDWR)
        try:
            if try_lock(fd):
                return
        finally:
            os.close(fd)
        time.sleep(0.1)
