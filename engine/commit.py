"""The commit: a build's new files go into place together, or not at all.

Everything is written aside first (the database as .<name>.building, the training files in a staging
folder, run_results.json as a .tmp). Then a journal listing every move is written, whole, with one
os.replace: that is the moment the build commits. The moves follow, the database last, and the
journal is removed. What an earlier build left in a file's way (its one file where this build
writes shards, its shards where this build writes one file or another count: engine/shards.py) is
listed in the journal too, and removed before the moves. A build killed before the journal exists
changed nothing; one killed after it is rolled forward, under the build lock, by the next fbt
command (build, run, test or query), so what anyone reads through fbt is the old build or the new
one, never a mix. A build that changes its database in place (engine/increment.py) moves no
database: its journal names the database and the build, and the transaction's commit, right
after the journal is written, is the commit point; a journal whose build the database does not
hold is dropped, with the files it lists. A folder of shards that the build writes again is swapped
whole with the staged one, where the system can (swap_folders): a reader that opens it finds the old
shards or the new ones, never some of each. Last, the build's change to fbt's state file (this
build's rows of the export history, and how much of each log it read: engine/state.py, StateChange)
is applied to the file in place, in one transaction of the file's own; the file's version stamp
says whether a stop came before or after it, so a roll-forward applies it once."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from .errors import CommitError, DatabaseError, LockError
from .interrupts import uninterrupted
from .lock import build_lock
from .runner import has_table
from .shards import Removal, is_shard_of, listing, only_shards, remove_stale
from .state import StateChange, apply_state

Move = tuple[Path, Path]
ROOM = 1 << 20  # bytes the journal and the folders' entries may need, beyond the files copied


def prepare_moves(moves: list[Move], show, removed: frozenset[Path] = frozenset()) -> list[Move]:
    """Each move checked before the commit point, so that none can fail after it: its place is not a
    folder (unless the commit removes it: an earlier build's shards, in removed) and can be
    written; an output that is a symlink is written through to the file it points to (a move onto
    the target; from a copy beside the target when that is on another disk, checked for room
    first). CommitError, naming the place and the fix, when one cannot be."""
    prepared = []
    for src, dst in moves:
        place = Path(os.path.realpath(dst)) if dst.is_symlink() else dst
        via = f" (the symlink {show(dst)} points to it)" if place != dst else ""
        if place.is_dir() and place not in removed:
            raise CommitError(f"{show(place)}: is a folder, where the build writes a file{via}; "
                              f"remove or rename it and build again (nothing changed)")
        if not place.parent.is_dir():
            raise CommitError(f"{show(place.parent)}: no such folder{via}; create it, or point the "
                              f"symlink elsewhere, and build again (nothing changed)")
        if not os.access(place.parent, os.W_OK | os.X_OK):
            raise CommitError(f"{show(place.parent)}: this user cannot write in it{via}; make it "
                              f"writable or choose another folder, and build again (nothing changed)")
        if place != dst and os.stat(src).st_dev != os.stat(place.parent).st_dev:
            src = copy_beside(src, place, show)
        prepared.append((src, place))
    return prepared


def copy_beside(src: Path, place: Path, show) -> Path:
    """A copy of src in place's folder (another disk than src's), ready to be renamed over place."""
    copy = place.with_name(f".{place.name}.fbt-{os.getpid()}.tmp")
    for stale in place.parent.glob(f".{place.name}.fbt-*.tmp"):  # a killed build's (under the lock)
        stale.unlink()
    free = shutil.disk_usage(place.parent).free
    if free < src.stat().st_size + ROOM:
        raise CommitError(f"{show(place.parent)}: {free:,} bytes free, {src.stat().st_size:,} needed to "
                          f"write {place.name}; free some space and build again (nothing changed)")
    shutil.copyfile(src, copy)
    return copy


def journal_path(database: Path) -> Path:
    return database.with_name(f".{database.name}.commit")


@dataclass(frozen=True)
class InPlace:
    """A database changed in place by the build (engine/increment.py): its transaction, which holds
    the build's id in table fbt.build, is committed by commit()."""

    database: Path
    build: str
    commit: Callable[[], None]


def commit(journal: Path, moves: list[Move], removals: list[Removal] | None = None,
           in_place: InPlace | None = None, swaps: list[Move] | None = None,
           state: StateChange | None = None) -> None:
    """Write the journal (the commit point), then swap each folder of shards it lists with its
    staged one (swap_folders), remove what it lists as in the way, and make every move it lists.
    With a database changed in place, the journal names it and the build, and the commit point is
    its transaction's commit, right after the journal is written: a journal whose build the
    database does not hold is of a build that never committed, and roll_forward drops it with the
    files it lists. A change to fbt's state (state) is applied after the moves."""
    partial = journal.with_name(journal.name + ".tmp")
    document: dict[str, object] = {
        "moves": [[str(src), str(dst)] for src, dst in moves],
        "removals": [[kind, str(path)] for kind, path in removals or []],
        "swaps": [[str(src), str(dst), src.stat().st_ino] for src, dst in swaps or []]}
    if in_place:
        document["in_place"] = {"database": str(in_place.database), "build": in_place.build}
    if state:
        document["state"] = state.document()
    try:
        with partial.open("w", encoding="utf-8") as f:
            json.dump(document, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:  # e.g. the disk is full: the build has not committed
        partial.unlink(missing_ok=True)
        raise
    with uninterrupted():  # committed: Ctrl-C now waits for the moves
        os.replace(partial, journal)
        sync_folder(journal.parent)
        pause_point("journal-written")
        if in_place:
            try:
                in_place.commit()
            except BaseException:
                drop_uncommitted(journal, moves)
                raise
            pause_point("database-committed")
        roll_forward(journal, committed=True)


def roll_forward(journal: Path, committed: bool = False) -> bool:
    """Remove what a journal lists as in the way, make the moves it lists (those already made are
    skipped), then drop it; a journal of a database changed in place whose transaction never
    committed (unless the caller knows it did: committed) is dropped with its files instead.
    Returns whether there was a journal. Call it only while holding the build lock."""
    journal.with_name(journal.name + ".tmp").unlink(missing_ok=True)  # the commit never happened
    if not journal.exists():
        return False
    try:
        document = json.loads(journal.read_text(encoding="utf-8"))
        moves = [(Path(s), Path(d)) for s, d in document["moves"]]
        removals = [(str(kind), Path(path)) for kind, path in document.get("removals", [])]
        swaps = [(Path(src), Path(dst), int(inode)) for src, dst, inode in document.get("swaps", [])]
        in_place = document.get("in_place")
        state = StateChange.of(document["state"]) if document.get("state") else None
        if in_place and not committed and not holds_build(Path(in_place["database"]), str(in_place["build"])):
            drop_uncommitted(journal, moves + ([(state.folder, state.state)] if state else []))  # (its staged rows)
            return True
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CommitError(f"{journal}: the commit journal of a stopped build is damaged ({e}); delete "
                          f"it and build again: the build makes every file anew") from e
    try:
        swapped = swap_folders(swaps)
        remove_stale([(kind, path) for kind, path in removals if path.parent not in swapped])
    except OSError as e:
        raise CommitError(f"{e.filename}: an earlier build's file in the way of a finished build's could "
                          f"not be removed ({e.strerror}); remove it and run any fbt command to "
                          f"complete the build") from e
    for number, (src, dst) in enumerate(moves, 1):
        pause_point(f"move-{number}")
        try:
            if src.exists() and dst.parent not in swapped:  # else made before a stop, or swapped whole
                os.replace(src, dst)
        except OSError as e:
            raise CommitError(f"{dst}: a finished build's file could not be moved into place "
                              f"({e.strerror}); fix that and run any fbt command to complete the "
                              f"build") from e
    for folder in {dst.parent for _, dst in moves} | {path.parent for _, path in removals} | \
            {dst.parent for _, dst, _ in swaps}:
        sync_folder(folder)
    if state:
        pause_point("state")
        try:
            apply_state(state)
        except DatabaseError as e:
            raise CommitError(f"{e}; it holds the export history, which the finished build's files are not "
                              f"in yet: fix that and run any fbt command to complete the build") from e
    journal.unlink()
    return True


def swap_folders(swaps: list[tuple[Path, Path, int]]) -> set[Path]:
    """Each folder of shards (dst) swapped whole with the build's staged one (src, whose inode the
    journal noted), in one step, where the system can (Linux's renameat2): a reader that opens it
    finds the old shards or the new, never some of each; the old ones, left in the staged
    folder's place, are removed. A folder that holds anything but shards of its name (or is no
    longer a folder) is not swapped. Returns the folders swapped (before a stop, too); the
    journal's moves put the shards of any other in one by one."""
    swapped = set()
    for src, dst, inode in swaps:
        done = dst.is_dir() and dst.stat().st_ino == inode  # (swapped before the build was stopped)
        if not done and not (src.is_dir() and src.stat().st_ino == inode and only_shards(dst)
                             and exchange(src, dst)):
            continue
        if src.is_dir():  # (the old shards: nothing else, as only_shards said before the swap)
            for entry in listing(src):
                if is_shard_of(entry, dst.name):
                    (src / entry).unlink()
            with suppress(OSError):  # (not empty: what was put there meanwhile is left to the user)
                src.rmdir()
        swapped.add(dst)
    return swapped


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (renameat2's RENAME_EXCHANGE); False where the system, or the file
    system, cannot (or the call fails: the moves then do it one by one, saying what fails)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # (not Linux)
        return False
    at_cwd, rename_exchange = -100, 2
    return renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), rename_exchange) == 0


def holds_build(database: Path, build: str) -> bool:
    """Did the transaction of a build that changed database in place commit (fbt.build holds its id)?"""
    import duckdb

    if not database.is_file():
        return False
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            if not has_table(con, "fbt", "build"):
                return False  # (the last build's database was made anew: no build committed in it)
            return con.execute("SELECT count(*) FROM fbt.build WHERE build_id = ?", [build]).fetchone()[0] > 0
    except duckdb.Error as e:
        raise CommitError(f"{database}: cannot tell whether a stopped build committed its changes to it "
                          f"({str(e).splitlines()[0]}); close what holds it open and run again") from e


def drop_uncommitted(journal: Path, moves: list[Move]) -> None:
    """A journal of a build that never committed, and the files it staged: nothing of it is kept."""
    for src, _ in moves:
        if src.is_dir():
            shutil.rmtree(src, ignore_errors=True)
        else:
            src.unlink(missing_ok=True)
    journal.unlink(missing_ok=True)


def settle(database: Path, shown: str) -> None:
    """Before reading the database: complete a commit a killed build left, unless a build is
    running now (it completes it itself, before anything else)."""
    journal = journal_path(database)
    if journal.exists():
        try:
            with build_lock(database, shown):
                roll_forward(journal)
        except LockError:
            pass


def sync_folder(folder: Path) -> None:
    """Make renames in folder survive a power cut (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def pause_point(name: str) -> None:
    """A test hook: with FBT_PAUSE_AT=name the process stops itself (SIGSTOP) here, so a test can
    look at the files mid-build and then kill it, at a known point and without timing."""
    if os.environ.get("FBT_PAUSE_AT") == name and hasattr(signal, "SIGSTOP"):
        os.kill(os.getpid(), signal.SIGSTOP)
