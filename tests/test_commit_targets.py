"""Every place a build writes is checked before its commit point, so that no move can fail after it:
a folder where a file goes, a symlinked output (written through to its target), a damaged journal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from faults import big_log, fbt, leftovers, state


@pytest.fixture
def built(project):
    project.write_log(big_log(200, "old"))
    assert fbt(project, "build", "-q").returncode == 0
    project.write_log(big_log(300, "new"))
    return project


@pytest.mark.parametrize("name", ["high_quality_samples.jsonl", "alpaca_format_samples.json"])
def test_a_folder_where_a_file_goes_stops_the_build_before_anything_moves(built, name):
    (built.out / name).unlink()
    (built.out / name).mkdir()
    before = state(built)
    result = fbt(built, "build", "-q")
    assert result.returncode == 1
    assert result.stderr == (f"Error: data/training_samples/{name}: is a folder, where the build writes "
                             f"a file; remove or rename it and build again (nothing changed)\n")
    assert state(built) == before  # the other files, run_results and the database: all the old build's
    assert leftovers(built) == []
    (built.out / name).rmdir()
    assert fbt(built, "build", "-q").returncode == 0
    assert built.query("select count(*) from feedback_log") == [(300,)]


@pytest.mark.parametrize("disk", ["same", "other"])
def test_a_symlinked_output_is_written_through_to_its_target(built, tmp_path, disk):
    shared = (Path("/dev/shm") / f"fbt-{os.getpid()}-{tmp_path.name}") if disk == "other" else tmp_path / "shared"
    if disk == "other" and (not Path("/dev/shm").is_dir() or
                            os.stat("/dev/shm").st_dev == os.stat(built.out).st_dev):
        pytest.skip("needs /dev/shm on another file system than the project")
    shared.mkdir()
    try:
        target = shared / "train.json"
        target.write_text("[]")
        link = built.out / "alpaca_format_samples.json"
        link.unlink()
        link.symlink_to(target)
        result = fbt(built, "build", "-q")
        assert result.returncode == 0, result.stderr
        assert link.is_symlink() and os.readlink(link) == str(target)
        samples = built.read_json("alpaca_format_samples.json")
        assert len(samples) == len(built.read_json("high_quality_samples.json")) > 0
        assert samples[0]["instruction"].startswith("new")
        assert sorted(p.name for p in shared.iterdir()) == ["train.json"]  # no copy left beside it
        assert leftovers(built) == []
    finally:
        for p in shared.iterdir():
            p.unlink()
        shared.rmdir()


def test_a_symlink_into_a_missing_folder_stops_the_build(built, tmp_path):
    link = built.out / "high_quality_samples.json"
    link.unlink()
    link.symlink_to(tmp_path / "gone" / "train.json")
    before = state(built)
    result = fbt(built, "build", "-q")
    assert result.returncode == 1
    assert result.stderr == (f"Error: {tmp_path / 'gone'}: no such folder (the symlink "
                             f"data/training_samples/high_quality_samples.json points to it); create it, "
                             f"or point the symlink elsewhere, and build again (nothing changed)\n")
    assert state(built) == before


def test_a_damaged_journal_says_what_to_do_and_doing_it_works(built):
    journal = built.db.with_name(".feedback.duckdb.commit")
    journal.write_text('{"moves": [["a", ')
    result = fbt(built, "build", "-q")
    assert result.returncode == 1
    line = result.stderr.removeprefix("Error: ")
    assert line.startswith(f"{journal}: the commit journal of a stopped build is damaged (")
    assert line.endswith("); delete it and build again: the build makes every file anew\n")
    journal.unlink()
    assert fbt(built, "build", "-q").returncode == 0
    assert built.query("select count(*) from feedback_log") == [(300,)]
