"""What the world does to a running command, said in one line: Ctrl-C and SIGTERM (exit 130 and
143), a full disk, a folder this user may not write. Every step cleans up on its way out (the build's
one clean-up path, the lock released), so a command stopped this way has changed nothing."""

from __future__ import annotations

import errno
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import ClassVar

from .errors import EngineError, FileSystemError, InterruptError

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal's number, as shells say
NAMES = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)"}
FIXES = {errno.ENOSPC: "free some space on that disk (or point fbt's paths at another) and run again",
         errno.EDQUOT: "free some of this user's disk quota and run again",
         errno.EACCES: "give this user write access to it, or point fbt's paths elsewhere, and run again",
         errno.EPERM: "give this user write access to it, or point fbt's paths elsewhere, and run again",
         errno.EROFS: "it is on a read-only file system: point fbt's paths elsewhere and run again",
         errno.EISDIR: "a folder is in the way: remove or rename it and run again"}


class Deferral:
    """Signals received while a commit moves its files wait until the moves are done."""

    depth: ClassVar[int] = 0
    received: ClassVar[list[int]] = []


def on_signal(signum: int, _frame: object) -> None:
    Deferral.received.append(signum)
    if not Deferral.depth:
        raise KeyboardInterrupt


def defer_as_fbt(cancel: Callable[[], None] | None) -> None:
    """SIGINT's handler fbt's again (as on_signal), where a SparkContext of this process has put its
    own (which cancels Spark's jobs and raises, even while a commit moves its files), with cancel
    (the context's cancelAllJobs) called first when the signal is not deferred."""

    def on_sigint(signum: int, frame: object) -> None:
        if cancel is not None and not Deferral.depth:
            with suppress(Exception):  # (Spark's own failure: the command stops all the same)
                cancel()
        on_signal(signum, frame)

    signal.signal(signal.SIGINT, on_sigint)


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Run the block to its end even when Ctrl-C or SIGTERM comes (a commit's few renames): the
    command then ends as it would have."""
    Deferral.depth += 1
    try:
        yield
    finally:
        Deferral.depth -= 1


@contextmanager
def failures_in_one_line() -> Iterator[None]:
    """Ctrl-C, SIGTERM and file system errors as EngineErrors: InterruptError (exit 130 or 143,
    DuckDB's "Query interrupted" included) and FileSystemError (the path, what, and the fix)."""
    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, on_signal) for s in EXIT_CODES} if main else {}
    Deferral.received.clear()
    try:
        yield
    except KeyboardInterrupt:
        raise interrupted() from None
    except RuntimeError as e:
        if not query_interrupted(e):
            raise
        raise interrupted() from None
    except OSError as e:
        raise file_system_error(e) from e
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def query_interrupted(error: BaseException) -> bool:
    """Is error what DuckDB's Python client raises when a signal stops a query?"""
    return isinstance(error, RuntimeError) and str(error) == "Query interrupted"


def interrupted(done: str = "stopped and cleaned up, nothing changed") -> EngineError:
    """The InterruptError of the signal received; done says what the command did before it."""
    signum = Deferral.received[-1] if Deferral.received else signal.SIGINT
    error = InterruptError(f"{NAMES[signum]}; {done}")
    error.exit_code = EXIT_CODES[signum]
    return error


def fix_for(message: str) -> str:
    """'; <the fix>' when message ends with what the system says of a full disk or a denied write
    (as DuckDB's messages do), else ''."""
    for number, fix in FIXES.items():
        if message.rstrip(". ").endswith(os.strerror(number)):
            return f"; {fix}"
    return ""


def file_system_error(e: OSError) -> EngineError:
    """One line for an OSError: the path, what the system said, and what to do.

    >>> import errno
    >>> print(file_system_error(OSError(errno.ENOSPC, "No space left on device", "data/x")))
    data/x: no space left on device; free some space on that disk (or point fbt's paths at another) and run again
    """
    what = (e.strerror or str(e)).lower()
    where = e.filename if e.filename is not None else "a file"
    fix = FIXES.get(e.errno or 0, "fix that and run again")
    return FileSystemError(f"{where}: {what}; {fix}")
