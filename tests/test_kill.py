"""A build killed with SIGKILL at any point leaves the old build or the new one, never a mix, and the
next build works. Readers (query, any DuckDB client) answer from the last finished build meanwhile."""

from __future__ import annotations

import random
import time

import duckdb
import pytest
from faults import POINTS, big_log, fbt, kill, leftovers, spawn, state, wait_stopped

RECORDS = 20_000


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    """The states a build of log A (old) and of log B (new) leave, from builds nobody disturbed."""
    from conftest import ROOT, Project

    import shutil

    states = {}
    for tag in ("old", "new"):
        root = tmp_path_factory.mktemp(tag) / "proj"
        root.mkdir()
        shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
        shutil.copytree(ROOT / "models", root / "models")
        shutil.copytree(ROOT / "macros", root / "macros")
        p = Project(root)
        p.write_log(big_log(RECORDS if tag == "old" else RECORDS + 500, tag))
        started = time.perf_counter()
        assert fbt(p, "build", "-q").returncode == 0
        states[tag] = state(p)
        states[tag + "_seconds"] = time.perf_counter() - started
    assert states["old"] != states["new"]
    return states


@pytest.fixture
def old_built(project, expected):
    """A project whose last build was log A, with log B now waiting to be built."""
    project.write_log(big_log(RECORDS, "old"))
    assert fbt(project, "build", "-q").returncode == 0
    assert state(project) == expected["old"]
    project.write_log(big_log(RECORDS + 500, "new"))
    return project


@pytest.mark.parametrize("point", list(POINTS))
def test_kill_at_each_point_leaves_old_or_new_and_the_next_build_works(old_built, expected, point):
    project = old_built
    build = spawn(project, "build", "-q", pause_at=point)
    try:
        wait_stopped(build)
        # Mid-build, readers answer from the last finished build: the database is the last file
        # moved (then only fbt's state file changes).
        swapped = point == "state"
        answer = fbt(project, "query", "select count(*) as n from feedback_log")
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.split()[-1] == str(RECORDS + 500 if swapped else RECORDS)
        with duckdb.connect(str(project.db), read_only=True) as con:
            assert con.execute("select count(*) from training_samples").fetchone()[0] == \
                expected["new" if swapped else "old"]["db"][1]
    finally:
        kill(build)
    journal = project.db.with_name(f".{project.db.name}.commit")
    assert journal.exists() == (POINTS[point] == "new")  # the journal is the commit point
    if not journal.exists():  # nothing to roll forward: the files themselves are the old build's
        assert state(project) == expected["old"]
    fbt(project, "query", "select 1")  # any fbt command completes a committed build
    assert not journal.exists()
    assert state(project) == expected[POINTS[point]]
    rebuilt = fbt(project, "build", "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert state(project) == expected["new"]
    assert leftovers(project) == []


@pytest.mark.parametrize("seed", range(6))
def test_kill_at_a_random_moment_leaves_old_or_new(old_built, expected, seed):
    """Kills that land anywhere, inside DuckDB's writes and the exporters' too. What is asserted
    does not depend on where the kill lands."""
    project = old_built
    delay = random.Random(seed).uniform(0, expected["new_seconds"] * 1.2)
    build = spawn(project, "build", "-q")
    time.sleep(delay)
    kill(build)
    fbt(project, "query", "select 1")
    assert state(project) in (expected["old"], expected["new"])
    rebuilt = fbt(project, "build", "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert state(project) == expected["new"]
    assert leftovers(project) == []
