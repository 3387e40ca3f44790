"""The log as one snapshot: a log the app rewrites while a build reads it is read again (once), and
a log with fewer records than the last build read never replaces the files (issue: a hostile world).

The rewrites are made deterministic with FBT_PAUSE_AT: the build stops itself at a named point, the
test rewrites the log the way the app does, and lets the build go on."""

from __future__ import annotations

import json
import os
import signal

from faults import big_log, fbt, leftovers, spawn, state, wait_stopped

RECORDS = 2_000


def go_on(proc) -> None:
    os.kill(proc.pid, signal.SIGCONT)


def rewrite_in_place(path, old: str, new: str) -> None:
    """What an app writing with open('r+b') does: the same length, other bytes."""
    data = path.read_bytes()
    assert len(old.encode()) == len(new.encode()) and old.encode() in data
    with path.open("r+b") as f:
        f.write(data.replace(old.encode(), new.encode()))


def test_a_log_emptied_after_the_check_keeps_every_file(project):
    project.write_log(big_log(RECORDS, "old"))
    assert fbt(project, "build", "-q").returncode == 0
    before = state(project)
    build = spawn(project, "build", "-q", pause_at="logs-checked")
    wait_stopped(build)
    project.log.write_bytes(b"")  # the app's open('w'), before it writes
    go_on(build)
    _, err = build.communicate()
    assert build.returncode == 1
    assert err == (f"Error: {project.log}: line 1, column 1: the file holds no JSON value (it is empty "
                   f"or only white space); the app writes [] when there is no feedback; fix the log and "
                   f"build again (an empty log is written as [])\n")  # as the second reading found it
    assert state(project) == before
    assert leftovers(project) == []


def test_a_log_cut_short_after_the_check_keeps_every_file(project):
    records = big_log(RECORDS, "old")
    project.write_log(records)
    assert fbt(project, "build", "-q").returncode == 0
    before = state(project)
    build = spawn(project, "build", "-q", pause_at="logs-checked")
    wait_stopped(build)
    project.log.write_text(json.dumps(records[:10], ensure_ascii=False, indent=2)[:-1])  # no ] yet
    go_on(build)
    _, err = build.communicate()
    assert build.returncode == 1, err
    assert err.startswith(f"Error: {project.log}: ") and "cut short" in err and err.count("\n") == 1
    assert state(project) == before


def test_a_log_rewritten_in_place_during_the_build_is_read_again_whole(project):
    project.write_log(big_log(RECORDS, "old"))
    build = spawn(project, "build", "-q", pause_at="models-built")
    wait_stopped(build)
    rewrite_in_place(project.log, "old 问题", "new 问题")  # every record: the second version
    go_on(build)
    wait_stopped(build)  # the second reading stops at the same point
    go_on(build)
    out, err = build.communicate()
    assert build.returncode == 0, err
    assert "rewritten in place" in out + err and "read it again" in out + err
    samples = project.read_json("high_quality_samples.json")
    assert samples and all(s["instruction"].startswith("new 问题") for s in samples)
    assert project.query("select count(*) from feedback_log where user_input like 'old%'") == [(0,)]
    assert leftovers(project) == []


def test_a_log_rewritten_during_both_readings_stops_the_build(project):
    project.write_log(big_log(RECORDS, "old"))
    assert fbt(project, "build", "-q").returncode == 0
    before = state(project)
    build = spawn(project, "build", "-q", pause_at="models-built")
    for old, new in (("old 问题", "mid 问题"), ("mid 问题", "new 问题")):
        wait_stopped(build)
        rewrite_in_place(project.log, old, new)
        go_on(build)
    _, err = build.communicate()
    assert build.returncode == 1
    assert err.splitlines()[-1].startswith(f"Error: {project.log}: changed while the build read it "
                                           f"(rewritten in place, at ")
    assert err.splitlines()[-1].endswith("), twice; nothing changed. Build again when the app is not "
                                         "rewriting the log")
    assert state(project) == before
    assert leftovers(project) == []


def test_a_log_with_fewer_records_than_the_last_build_read_stops_the_build(project):
    project.write_log(big_log(RECORDS, "old"))
    assert fbt(project, "build", "-q").returncode == 0
    before = state(project)
    for shrunk in ([], big_log(RECORDS - 1, "old")):
        project.write_log(shrunk)
        result = fbt(project, "build", "-q")
        assert result.returncode == 1
        line = result.stderr.splitlines()[-1]
        assert line.startswith(f"Error: data/user_feedback.json: {len(shrunk):,} records, fewer than the "
                               f"{RECORDS:,} the last build read (build ")
        assert line.endswith("); nothing changed, the earlier files are kept. If the log was cut on "
                             "purpose, build again with --allow-shrink")
        assert state(project) == before
    result = fbt(project, "build", "-q", "--allow-shrink")
    assert result.returncode == 0, result.stderr
    assert project.read_json("high_quality_samples.json") != []
    assert project.query("select count(*) from feedback_log") == [(RECORDS - 1,)]
    project.write_log(big_log(RECORDS - 1, "new"))  # the smaller log is now the one to grow from
    assert fbt(project, "build", "-q").returncode == 0


def test_a_log_that_grows_builds_and_another_log_is_not_compared(project):
    project.write_log(big_log(RECORDS, "old"))
    assert fbt(project, "build", "-q").returncode == 0
    project.write_log(big_log(RECORDS + 5, "old"))
    assert fbt(project, "build", "-q").returncode == 0
    other = project.write("data/other.json", json.dumps(big_log(3, "x")))
    result = fbt(project, "build", "-q", "--feedback-file", str(other))
    assert result.returncode == 0, result.stderr
