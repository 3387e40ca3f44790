"""Helpers for the kill and concurrency tests: builds in real processes, stopped at a named point
(FBT_PAUSE_AT, see engine/commit.pause_point) or killed, and the state a user can see."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys

from conftest import ROOT, Project, record

# Every point where a build can pause, in order, and what a kill there must leave (once settled).
POINTS = {
    "models-built": "old",      # tables built into .feedback.duckdb.building
    "staged": "old",            # every file written aside, run_results too; no journal yet
    "journal-written": "new",   # committed: the next fbt command rolls it forward
    "move-1": "new", "move-2": "new", "move-3": "new",   # the training files
    "move-4": "new",            # run_results.json
    "move-5": "new",            # report.html
    "move-6": "new",            # the database, last of the moves
    "state": "new",             # then the build's change to fbt's state (its export history)
}


def big_log(n: int, tag: str) -> list[dict]:
    """n records, every fifth rejected, two models; tag makes two logs' outputs differ."""
    return [record(i, model_name=f"model-{i % 2}", rating=None if i % 5 == 0 else i % 4 + 2,
                   user_input=f" {tag} 问题 {i} " + "q" * 40, model_response=f"{tag} 回答 {i}\n" + "r" * 80)
            for i in range(1, n + 1)]


def spawn(project: Project, *args: str, pause_at: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FBT_")}
    if pause_at:
        env["FBT_PAUSE_AT"] = pause_at
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--project-dir", str(project.root),
                             *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_stopped(proc: subprocess.Popen) -> None:
    """Block until the process has stopped itself at its pause point (or fail if it ended)."""
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    if not os.WIFSTOPPED(status):
        proc.returncode = os.waitstatus_to_exitcode(status)
        raise AssertionError(f"the build ended (exit {proc.returncode}) without reaching its pause "
                             f"point: {proc.stderr.read() if proc.stderr else ''}")


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    os.waitpid(proc.pid, 0)
    proc.returncode = -signal.SIGKILL
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def fbt(project: Project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "--project-dir", str(project.root),
                           *args], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if not k.startswith("FBT_")})


def state(project: Project) -> dict:
    """What a build leaves for users: each training file's digest, run_results' accounting, and the
    database's tables and counts. Hidden leftovers (staging, .building) are checked apart."""
    import duckdb

    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(project.out.iterdir()) if not p.name.startswith(".") and p.is_file()} \
        if project.out.exists() else {}
    run_results = project.root / "target" / "run_results.json"
    accounting = json.loads(run_results.read_text())["accounting"] if run_results.exists() else None
    db = None
    if project.db.exists():
        with duckdb.connect(str(project.db), read_only=True) as con:
            db = con.execute("select (select count(*) from feedback_log), "
                             "(select count(*) from training_samples), "
                             "(select min(instruction) from training_samples)").fetchone()
    return {"files": files, "accounting": accounting, "db": db}


def leftovers(project: Project) -> list[str]:
    """Files a build writes aside and must not leave behind once a build has finished."""
    found = [p.name for p in project.out.glob(".*")] if project.out.exists() else []
    found += [p.name for p in project.db.parent.glob(".*")]
    found += [p.name for p in (project.root / "target").glob(".*")]
    return sorted(found)
