"""Files past the target's max_shard_size are written as shards: each a whole file of its format, at
most that size, their rows together the one file's rows; registered for LLaMA-Factory and in the
dataset card; and no build, switching between one file and shards or killed while it commits,
leaves a stale or half-moved file."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import Project, record
from faults import fbt, kill, leftovers, spawn, wait_stopped

import engine.commit

FORMATS = ("json", "jsonl", "alpaca", "sharegpt", "openai", "kto", "kto_sharegpt")
BUILD = ("build", "--format", *FORMATS, "--var", "val_ratio=0.3")
LIMIT = 2000  # "2KB"
TAG = re.compile(r'"(\w)问题')  # a row's tag (generated_log), in any format's text of its prompt
SHARD = re.compile(r"(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})(?P<ext>\.jsonl?)")


def generated_log(n: int = 120, tag: str = "") -> list[dict]:
    """n records over several sessions and ratings (some rejected), Chinese and English, and one
    sample whose reply alone is larger than LIMIT."""
    records = [record(i, session_id=f"1721300{i % 9}.5", rating=None if i % 11 == 0 else i % 5 + 1,
                      model_name=f"model-{i % 2}", user_input=f"{tag}问题 {i}: what is {i} squared?",
                      model_response=f"{tag}回答 {i}: {i * i} " + "好" * (i % 13))
               for i in range(1, n + 1)]
    if n > 40:
        records[40]["model_response"], records[40]["rating"] = "很长的回答。" * 400, 5  # ~7 KB in UTF-8
    return records


def set_max_shard_size(project: Project, value: str | None) -> None:
    """The duckdb target's max_shard_size in the project's pyproject.toml (None: unset)."""
    path = project.root / "pyproject.toml"
    text = re.sub(r"\nmax_shard_size = .*", "", path.read_text(encoding="utf-8"))
    if value is not None:
        text = text.replace('[tool.fbt.targets.duckdb]\ntype = "duckdb"\n',
                            f'[tool.fbt.targets.duckdb]\ntype = "duckdb"\nmax_shard_size = {value}\n')
        assert f"max_shard_size = {value}" in text
    path.write_text(text, encoding="utf-8")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under folder (in its sub-folders too) by its path there, with its bytes; what a
    build writes aside (hidden: a killed build's staging folder) is checked apart (leftovers)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.relative_to(folder).as_posix().startswith(".")}


def rows_of(name: str, data: bytes) -> list:
    text = data.decode("utf-8")
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.split("\n")[:-1]]
    return json.loads(text)


def training_files(files: dict[str, bytes]) -> list[str]:
    return [n for n in files if n not in ("README.md", "dataset_info.json")]


def test_a_file_past_max_shard_size_is_written_as_shards_holding_its_rows_in_order(project, tmp_path):
    project.write_log(generated_log())
    project.invoke(*BUILD)
    one = tree(project.out)
    shutil.copytree(project.out, tmp_path / "one")
    set_max_shard_size(project, '"2KB"')
    result = project.invoke(*BUILD)

    sharded, counts, oversized = tree(project.out), {}, 0
    for name in training_files(one):
        place = project.out / name
        if place.is_file():  # it fits: one file, as without the setting
            assert len(one[name]) <= LIMIT and place.read_bytes() == one[name], name
            continue
        shards = sorted(p.name for p in place.iterdir())
        count = len(shards)
        stem, ext = name.rsplit(".", 1)
        assert shards == [f"{stem}-{i:05d}-of-{count:05d}.{ext}" for i in range(count)], name
        rows = []
        for shard in shards:
            data = (place / shard).read_bytes()
            part = rows_of(name, data)  # each shard is a whole file of its format
            assert part, shard
            assert len(data) <= LIMIT or len(part) == 1, shard  # a larger row alone makes a shard
            oversized += len(data) > LIMIT
            rows += part
        assert rows == rows_of(name, one[name]), name
        assert f"{name}/ in {count} shards ({shards[0]} ... {shards[-1]})" in result.stdout
        counts[name] = count
    assert max(counts.values()) > 2 and oversized >= 1, counts
    assert "high_quality_samples_val.json" in counts or "high_quality_samples_train.json" in counts

    # dataset_info.json names the folder: LLaMA-Factory loads every file in it
    info = json.loads(sharded["dataset_info.json"])
    assert info == json.loads(one["dataset_info.json"])
    assert {e["file_name"] for e in info.values()} & set(counts)
    # the card registers the shards by split, and datasets loads the same rows as from the one file
    import datasets

    datasets.disable_progress_bars()
    card = sharded["README.md"].decode("utf-8")
    paths = re.findall(r'    path: "([^"]+)"', card)
    for name in counts:
        registered = [p for p in paths if p.startswith(name + "/")]
        assert len(registered) == 1, name
        assert sorted(fnmatch.filter([f"{name}/{s.name}" for s in (project.out / name).iterdir()],
                                     registered[0])) == [f"{name}/{s}" for s in sorted(
                                         p.name for p in (project.out / name).iterdir())]
    for config in re.findall(r'- config_name: "(\w+)"', card):
        cache = tmp_path / "cache"
        loaded = datasets.load_dataset(str(project.out), config, cache_dir=str(cache / "shards"))
        expected = datasets.load_dataset(str(tmp_path / "one"), config, cache_dir=str(cache / "one"))
        assert set(loaded) == set(expected), config
        for split in expected:
            assert loaded[split].to_list() == expected[split].to_list(), (config, split)
    # run_results.json lists each file's shards
    run_results = (project.root / "target" / "run_results.json").read_text(encoding="utf-8")
    exports = json.loads(run_results)["exports"]
    for export in exports:
        name = Path(export["path"]).name
        listed = sorted(p.name for p in (project.out / name).iterdir()) if name in counts else []
        assert [Path(s).name for s in export["shards"]] == listed, name
    assert leftovers(project) == []


def test_switching_between_one_file_and_shards_leaves_nothing_stale(project):
    project.write_log(generated_log())
    project.invoke(*BUILD)
    one = tree(project.out)
    set_max_shard_size(project, '"2KB"')
    project.invoke(*BUILD)
    small = tree(project.out)
    set_max_shard_size(project, "4000")  # fewer shards, of other names
    project.invoke(*BUILD)
    large = tree(project.out)
    assert len(large) < len(small)
    for files in (small, large):  # each folder holds its build's shards, and nothing else
        folders: dict[str, list[str]] = {}
        for name in training_files(files):
            if "/" in name:
                folders.setdefault(name.split("/")[0], []).append(name.split("/")[1])
        for folder, shards in folders.items():
            found = [SHARD.fullmatch(s) for s in shards]
            assert all(found) and {int(m["count"]) for m in found} == {len(shards)}, folder
            assert sorted(int(m["index"]) for m in found) == list(range(len(shards))), folder
    set_max_shard_size(project, None)
    project.invoke(*BUILD)
    assert tree(project.out) == one  # one file, byte for byte, and nothing of the shards
    set_max_shard_size(project, '"2KB"')
    project.invoke(*BUILD)
    assert tree(project.out) == small
    assert leftovers(project) == []


@pytest.mark.parametrize("value", ['"lots"', '"0MB"', "0", '"5XB"'])
def test_an_invalid_max_shard_size_is_one_line_naming_the_key(project, value):
    project.write_log(generated_log(10))
    set_max_shard_size(project, value)
    result = project.invoke("build", ok=False)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: pyproject.toml [tool.fbt.targets.duckdb] max_shard_size = {value}: "
                             f'expected a size such as "500MB", "1GiB" or a number of bytes (at least 1)\n')
    assert not project.out.exists()


def test_new_only_writes_only_the_new_rows_as_shards_of_new_names(project):
    set_max_shard_size(project, '"2KB"')
    project.write_log(generated_log(60))
    first = project.invoke("build", "--new-only", "--format", "jsonl")
    project.write_log(generated_log(60) + generated_log(140, tag="新")[60:])
    second = project.invoke("build", "--new-only", "--format", "jsonl")
    # in build order: a second build within the same second is named with a -2
    folders = sorted((p for p in project.out.iterdir() if p.is_dir()), key=lambda p: (len(p.name), p.name))
    assert len(folders) == 2 and all(re.fullmatch(r"high_quality_samples_\d{8}T\d{6}Z(-\d+)?\.jsonl", p.name)
                                     for p in folders), folders
    rows = [[row for shard in sorted(folder.iterdir()) for row in rows_of(shard.name, shard.read_bytes())]
            for folder in folders]
    assert rows[0] and rows[1]
    assert not {r["feedback_id"] for r in rows[0]} & {r["feedback_id"] for r in rows[1]}
    assert all(r["instruction"].startswith("新") for r in rows[1])
    assert "shards" in first.stdout and "shards" in second.stdout


# ---- killed while it commits ---------------------------------------------------------------------

# (the log is the same each time: each build after the first changes the database in place, so
# its commit point is the database's commit, right after the journal is written: engine/commit.py)
@pytest.mark.parametrize(("before", "after", "point", "leaves"), [
    ('"2KB"', None, "journal-written", "old"),   # shards -> one file: the database not yet committed
    ('"2KB"', None, "database-committed", "new"),
    ('"2KB"', None, "move-1", "new"),            # the shards removed, no file moved yet
    (None, '"2KB"', "move-1", "new"),            # one file -> shards
    ('"2KB"', "4000", "move-2", "new"),          # fewer shards, of other names
    ('"2KB"', None, "staged", "old"),            # before the commit point
])
def test_a_build_killed_while_it_commits_leaves_the_old_files_or_the_new(project, before, after, point,
                                                                         leaves):
    project.write_log(generated_log())
    expected = {}
    for tag, value in (("new", after), ("old", before)):  # each undisturbed, the old one last
        set_max_shard_size(project, value)
        assert fbt(project, *BUILD, "-q").returncode == 0
        expected[tag] = tree(project.out)
    assert expected["old"] != expected["new"]
    set_max_shard_size(project, after)
    build = spawn(project, *BUILD, "-q", pause_at=point)
    try:
        wait_stopped(build)
    finally:
        kill(build)
    assert fbt(project, "query", "select 1").returncode == 0  # any fbt command completes a commit
    assert tree(project.out) == expected[leaves]
    assert fbt(project, *BUILD, "-q").returncode == 0
    assert tree(project.out) == expected["new"]
    assert leftovers(project) == []


def tags(folder: Path) -> set[str]:
    """The tags (generated_log) of the rows in a folder of shards: one build's rows have one."""
    return {tag for shard in folder.iterdir() for tag in TAG.findall(shard.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("point", ["move-1", "move-3"])
def test_a_reader_during_the_commit_finds_the_old_shards_or_the_new_never_some_of_each(project, point):
    """A folder of shards written again is swapped whole with the new one (engine/commit.py,
    swap_folders), before the moves of the other files: stopped among them, every folder holds
    the new build's shards alone."""
    set_max_shard_size(project, '"2KB"')
    project.write_log(generated_log(tag="a"))
    assert fbt(project, *BUILD, "-q").returncode == 0
    folders = [p for p in project.out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    names = {f.name: sorted(p.name for p in f.iterdir()) for f in folders}
    assert folders and all(len(n) > 1 for n in names.values()) and all(tags(f) == {"a"} for f in folders)
    project.write_log(generated_log(tag="b"))  # as many bytes: the same shards, other rows
    build = spawn(project, *BUILD, "-q", pause_at=point)
    try:
        wait_stopped(build)
        assert {f.name: sorted(p.name for p in f.iterdir()) for f in folders} == names
        assert all(tags(f) == {"b"} for f in folders)
    finally:
        kill(build)
    assert fbt(project, "query", "select 1").returncode == 0  # the commit completed
    assert all(tags(f) == {"b"} for f in folders)
    assert fbt(project, *BUILD, "-q").returncode == 0 and leftovers(project) == []  # (it clears staging)


def test_a_file_put_in_a_folder_of_shards_before_a_stopped_commit_completes_is_kept(project):
    """A build killed at its commit point is completed by the next fbt command, maybe days later: a
    folder that holds more than its shards by then is not swapped (the old folder would go, and the
    file with it), its shards are moved in one by one."""
    set_max_shard_size(project, '"2KB"')
    project.write_log(generated_log(tag="a"))
    assert fbt(project, *BUILD, "-q").returncode == 0
    project.write_log(generated_log(tag="b"))
    build = spawn(project, *BUILD, "-q", pause_at="journal-written")
    try:
        wait_stopped(build)
    finally:
        kill(build)
    folder = project.out / "high_quality_samples_train.jsonl"
    (folder / "my_notes.txt").write_text("mine", encoding="utf-8")
    assert fbt(project, "query", "select 1").returncode == 0  # the commit completed
    assert (folder / "my_notes.txt").read_text(encoding="utf-8") == "mine" and tags(folder) == {"b"}


def test_where_folders_cannot_be_swapped_the_shards_are_moved_in_one_by_one(project, monkeypatch):
    set_max_shard_size(project, '"2KB"')
    files = {}
    for side in ("swapped", "moved"):
        if side == "moved":
            monkeypatch.setattr(engine.commit, "exchange", lambda a, b: False)
        for tag in ("a", "b"):
            project.write_log(generated_log(tag=tag))
            project.invoke(*BUILD)
        files[side] = tree(project.out)
        shutil.rmtree(project.out)
    assert files["swapped"] == files["moved"] and leftovers(project) == []
    assert set(TAG.findall("".join(data.decode("utf-8") for data in files["moved"].values()))) == {"b"}


def test_a_folder_of_shards_holding_a_file_fbt_did_not_write_stops_the_build_before_it_builds(project):
    set_max_shard_size(project, '"2KB"')
    project.write_log(generated_log(60))
    project.invoke("build", "--format", "jsonl")
    folder = project.out / "high_quality_samples.jsonl"
    before = sorted(p.name for p in folder.iterdir())
    (folder / ".DS_Store").write_bytes(b"\0")
    # a model that fails when it runs: the folder is said first, before any model runs
    project.write("models/broken.sql", "select no_such_column from {{ ref('stg_feedback') }}")
    result = project.invoke("build", "--format", "jsonl", ok=False)
    assert result.exit_code == 1
    assert result.stderr == ("Error: data/training_samples/high_quality_samples.jsonl: a folder for shards "
                             "holding files fbt did not write (.DS_Store); move them away and build again "
                             "(nothing changed)\n")
    assert sorted(p.name for p in folder.iterdir()) == sorted([*before, ".DS_Store"])
