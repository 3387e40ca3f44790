"""Two builds on one project: the second stops at once with a clear message (or, when the first has
finished, runs after it). Queries during a build answer from the last finished build."""

from __future__ import annotations

import os
import signal

import duckdb
from faults import big_log, fbt, leftovers, spawn, state, wait_stopped

RECORDS = 20_000


def test_second_build_stops_at_once_naming_the_first(project):
    project.write_log(big_log(RECORDS, "old"))
    first = spawn(project, "build", "-q", pause_at="models-built")
    try:
        wait_stopped(first)  # holds the lock, mid-build
        second = fbt(project, "build", "-q")
        assert second.returncode == 1
        assert second.stderr == (f"Error: data/feedback.duckdb: another build (pid {first.pid}) is "
                                 f"running on this database; wait for it to finish, then run again\n")
        assert fbt(project, "run", "-q").returncode == 1  # `run` takes the same lock
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate()
    assert first.returncode == 0, err
    assert fbt(project, "build", "-q").returncode == 0  # and once it is done, the next one runs
    assert leftovers(project) == []


def test_builds_started_together_serialize_or_stop(project):
    project.write_log(big_log(RECORDS, "new"))
    builds = [spawn(project, "build", "-q") for _ in range(3)]
    outcomes = [(b.communicate()[1], b.returncode)[::-1] for b in builds]
    assert any(code == 0 for code, _ in outcomes), outcomes
    for code, err in outcomes:
        assert code == 0 or (code == 1 and "another build" in err and err.count("\n") == 1), err
    settled = state(project)
    assert fbt(project, "build", "-q").returncode == 0
    assert state(project) == settled  # whichever build won, the result is the complete new build
    assert leftovers(project) == []


def test_queries_during_a_build_answer_from_the_last_finished_build(project):
    project.write_log(big_log(RECORDS, "old"))
    assert fbt(project, "build", "-q").returncode == 0
    project.write_log(big_log(RECORDS + 500, "new"))
    build = spawn(project, "build", "-q")
    answers = set()
    while build.poll() is None:  # as many queries as fit in one build; each must be old or new
        result = fbt(project, "query", "select count(*) as n from feedback_log")
        assert result.returncode == 0, result.stderr
        answers.add(int(result.stdout.split()[-1]))
        with duckdb.connect(str(project.db), read_only=True) as con:
            answers.add(con.execute("select count(*) from feedback_log").fetchone()[0])
    assert build.returncode == 0, build.communicate()[1]
    assert answers <= {RECORDS, RECORDS + 500}
    assert fbt(project, "query", "select count(*) as n from feedback_log").stdout.split()[-1] == \
        str(RECORDS + 500)
