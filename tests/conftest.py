"""Shared fixtures: a project in tmp_path built from the real models/, macros/ and pyproject.toml,
a feedback log written from Python records, and a CLI runner. No test reads data/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

ROOT = Path(__file__).resolve().parent.parent


def record(n: int, **fields) -> dict:
    """A clean feedback record like the app writes; fields override."""
    base = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "timestamp": f"2025-07-18T19:{n // 60 % 60:02d}:{n % 60:02d}.000000",
        "session_id": "1721300000.12",
        "model_name": "huanhuan-qwen",
        "user_input": f"问题 {n}",
        "model_response": f"回答 {n}",
        "rating": 5,
        "temperature": 0.7, "top_p": 0.9, "top_k": 40, "max_tokens": 512,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}  # `...` drops a key


class Project:
    """A copy of the shipped project in a temporary folder, with its own log."""

    def __init__(self, root: Path):
        self.root = root
        self.log = root / "data" / "user_feedback.json"
        self.out = root / "data" / "training_samples"
        self.db = root / "data" / "feedback.duckdb"

    def write_log(self, records: list | str | bytes) -> Path:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(records, bytes):
            self.log.write_bytes(records)
        elif isinstance(records, str):
            self.log.write_text(records, encoding="utf-8")
        else:
            self.log.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
        return self.log

    def invoke(self, *args: str, ok: bool = True):
        result = CliRunner().invoke(cli.cli, ["--project-dir", str(self.root), *args],
                                    catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def read_json(self, name: str, folder: Path | None = None):
        return json.loads((folder or self.out).joinpath(name).read_text(encoding="utf-8"))

    def read_jsonl(self, name: str, folder: Path | None = None) -> list:
        text = (folder or self.out).joinpath(name).read_text(encoding="utf-8")
        return [json.loads(line) for line in text.split("\n")[:-1]]  # not splitlines(): texts hold \x85, \u2028

    def query(self, sql: str) -> list[tuple]:
        import duckdb

        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql).fetchall()

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def copy_project(root: Path) -> Project:
    """The shipped project (pyproject.toml, models/, macros/) in a new folder root."""
    root.mkdir()
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copytree(ROOT / "macros", root / "macros")
    return Project(root)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return copy_project(tmp_path / "proj")


GOLDEN = Path(__file__).resolve().parent / "golden"


# The slowest files first: the workers take whole files, in this order (--dist loadfile,
# --no-loadscope-reorder), so that they end together rather than one waiting for Spark's.
SLOWEST = ["test_spark_connect.py", "test_spark_catalog.py", "test_spark_openwebui.py", "test_spark.py"]


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: SLOWEST.index(item.path.name) if item.path.name in SLOWEST else len(SLOWEST))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite the golden files under tests/golden/ from this run's output")


@pytest.fixture
def golden(request):
    """compare(folder, name): the files in folder equal, byte for byte, those in tests/golden/name/
    (the same names, the same bytes); with --update-golden, rewrite tests/golden/name/ instead."""
    update = request.config.getoption("--update-golden")

    def compare(folder: Path, name: str) -> None:
        expected_dir = GOLDEN / name
        actual = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        if update:
            shutil.rmtree(expected_dir, ignore_errors=True)
            expected_dir.mkdir(parents=True)
            for file_name, data in actual.items():
                (expected_dir / file_name).write_bytes(data)
            return
        expected = {p.name: p.read_bytes() for p in sorted(expected_dir.iterdir())} \
            if expected_dir.is_dir() else {}
        assert sorted(actual) == sorted(expected), f"files differ from tests/golden/{name}/ " \
                                                   f"(rerun with --update-golden and review the diff)"
        for file_name, data in actual.items():
            assert data.decode("utf-8") == expected[file_name].decode("utf-8"), \
                f"{file_name} differs from tests/golden/{name}/{file_name}"

    return compare


@pytest.fixture(autouse=True)
def no_fbt_environment(monkeypatch):
    """Tests are hermetic: no FBT_* variable (e.g. FBT_PAUSE_AT, the kill tests' hook) leaks in."""
    import os

    for name in [n for n in os.environ if n.startswith("FBT_")]:
        monkeypatch.delenv(name)
