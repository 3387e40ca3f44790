"""What the world does to a command nobody watches, each said in one line with nothing half-done:
Ctrl-C and SIGTERM (exit 130 and 143), a full disk, a folder this user may not write, a folder where
the lock goes. The disk is a real, small tmpfs; the permissions are real (as root, without the
capability that lets root write anywhere)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from csv import DictReader, DictWriter
from pathlib import Path

import pytest
from conftest import ROOT, Project, copy_project
from faults import big_log, fbt, leftovers, spawn, state, wait_stopped

INTERRUPTED = "Error: interrupted (Ctrl-C); stopped and cleaned up, nothing changed\n"
TERMINATED = "Error: terminated (SIGTERM); stopped and cleaned up, nothing changed\n"


def built(project: Project, records: int = 2_000) -> Project:
    project.write_log(big_log(records, "old"))
    assert fbt(project, "build", "-q").returncode == 0
    project.write_log(big_log(records + 100, "new"))
    return project


@pytest.mark.parametrize("signum, exit_code, said", [(signal.SIGINT, 130, INTERRUPTED),
                                                     (signal.SIGTERM, 143, TERMINATED)])
def test_a_signal_while_duckdb_reads_the_log_stops_the_build_cleanly(project, signum, exit_code, said):
    built(project, 150_000)  # a log DuckDB takes a while to read
    before = state(project)
    build = spawn(project, "build", "-q")
    building = project.db.with_name(".feedback.duckdb.building")
    while not building.exists() and build.poll() is None:
        time.sleep(0.01)
    time.sleep(0.3)  # inside the models
    build.send_signal(signum)
    _, err = build.communicate()
    assert (build.returncode, err) == (exit_code, said)
    assert state(project) == before
    assert leftovers(project) == []
    assert fbt(project, "build", "-q").returncode == 0  # the lock was released


def test_ctrl_c_between_steps_stops_the_build_cleanly(project):
    built(project)
    before = state(project)
    build = spawn(project, "build", "-q", pause_at="staged")  # every file written aside
    wait_stopped(build)
    build.send_signal(signal.SIGINT)
    build.send_signal(signal.SIGCONT)
    _, err = build.communicate()
    assert (build.returncode, err) == (130, INTERRUPTED)
    assert state(project) == before
    assert leftovers(project) == []


def test_a_folder_where_the_lock_goes_is_named(project):
    built(project)
    project.db.with_name("feedback.duckdb.lock").unlink()
    project.db.with_name("feedback.duckdb.lock").mkdir()
    for command in (["build", "-q"], ["run", "-q"]):
        result = fbt(project, *command)
        assert (result.returncode, result.stderr) == (1, (
            "Error: data/feedback.duckdb.lock: is a folder, where fbt keeps its build lock (a file); "
            "remove it (when no fbt command is running) and run again\n"))


# ---- a full disk -----------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A project on a tmpfs of its own (mounting needs root; skipped where it cannot be done)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False) if os.geteuid() == 0 else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("a full disk is made with a small tmpfs, which needs root and mount: "
                    + (mounted.stderr.strip() if mounted else "not root"))
    try:
        yield copy_project(disk / "proj")
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(folder: Path) -> Path:
    """Take every free byte of folder's disk."""
    filler = folder / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass
    return filler


def one_line_about_space(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("Error: ") and "space" in err.lower()


@pytest.mark.parametrize("point", ["models-built", "staged"])
def test_a_disk_full_before_the_commit_changes_nothing(small_disk, point):
    project = built(small_disk)
    before = state(project)
    build = spawn(project, "build", "-q", pause_at=point)
    wait_stopped(build)
    filler = fill(project.root)
    os.kill(build.pid, signal.SIGCONT)
    _, err = build.communicate()
    assert build.returncode == 1 and one_line_about_space(err), err
    filler.unlink()
    assert state(project) == before
    assert leftovers(project) == []
    assert fbt(project, "build", "-q").returncode == 0


def test_a_disk_full_while_the_state_is_copied_for_a_review_changes_nothing(small_disk):
    project = built(small_disk)
    csv = project.root / "today.csv"
    assert fbt(project, "review", "export", "-o", str(csv)).returncode == 0
    rows = list(DictReader(csv.open(encoding="utf-8-sig", newline="")))
    rows[0]["decision"] = "keep"
    with csv.open("w", encoding="utf-8-sig", newline="") as f:
        DictWriter(f, fieldnames=list(rows[0])).writerows([dict(zip(rows[0], rows[0], strict=True)), rows[0]])
    state_file = project.root / "data" / "fbt_state.duckdb"
    before = state_file.read_bytes()
    filler = fill(project.root)
    result = fbt(project, "review", "import", str(csv))
    assert result.returncode == 1 and one_line_about_space(result.stderr), result.stderr
    filler.unlink()
    assert state_file.read_bytes() == before
    assert sorted(p.name for p in state_file.parent.glob(".*")) == []
    assert fbt(project, "review", "import", str(csv)).returncode == 0


# ---- a folder this user may not write --------------------------------------------------------------

def as_unprivileged(*command: str) -> list[str]:
    """command as a user who may not write where the permissions say no: as root, root without
    CAP_DAC_OVERRIDE (setpriv); else the user as they are."""
    if os.geteuid() != 0:
        return list(command)
    if not shutil.which("setpriv"):
        pytest.skip("as root, permissions bind only without CAP_DAC_OVERRIDE, dropped with setpriv "
                    "(util-linux), which is not installed")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *command]


def fbt_unprivileged(project: Project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(as_unprivileged(sys.executable, str(ROOT / "cli.py"), "--project-dir",
                                          str(project.root), *args),
                          capture_output=True, text=True, check=False,
                          env={k: v for k, v in os.environ.items() if not k.startswith("FBT_")})


def test_a_read_only_data_folder_stops_build_and_review_export_in_one_line(project):
    built(project)
    before = state(project)
    data = project.root / "data"
    data.chmod(0o555)
    try:
        result = fbt_unprivileged(project, "build", "-q")
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "data" in result.stderr and \
            "permission denied" in result.stderr.lower(), result.stderr
        result = fbt_unprivileged(project, "review", "export")
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "permission denied" in result.stderr.lower(), result.stderr
    finally:
        data.chmod(0o755)
    assert state(project) == before
    assert leftovers(project) == []


def test_a_disk_full_while_the_review_csv_is_written_leaves_no_part_of_it(small_disk):
    project = built(small_disk)
    filler = fill(project.root)
    result = fbt(project, "review", "export", "-o", str(project.root / "today.csv"))
    assert result.returncode == 1 and one_line_about_space(result.stderr), result.stderr
    filler.unlink()
    assert sorted(p.name for p in project.root.iterdir()) == ["data", "macros", "models", "pyproject.toml",
                                                                "target"]
