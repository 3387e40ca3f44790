"""A project on disk: pyproject.toml's [tool.fbt], models/*.sql, models/tests/*.sql and macros/*.sql."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ProjectError, VarError
from .target import Target, choose_target
from .vars import GivenVar, VarSpec, declare_vars, resolve_vars


@dataclass(frozen=True)
class SqlFile:
    """A model, a data test or a macro file: its name, where it is, and its Jinja text."""

    name: str
    path: Path
    text: str


@dataclass(frozen=True)
class Project:
    root: Path
    models: dict[str, SqlFile]
    data_tests: dict[str, SqlFile]
    macros: list[SqlFile]
    specs: dict[str, VarSpec]
    vars: dict[str, Any]
    sources: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)
    target: Target = field(default_factory=Target)  # the engine the models run on (--target)

    def path(self, value: str) -> Path:
        """A path from a var or setting; relative ones are taken from the project root."""
        return (self.root / value).resolve() if value else self.root

    @property
    def database(self) -> Path:
        return self.path(self.settings.get("database", "data/feedback.duckdb"))

    @property
    def target_dir(self) -> Path:
        return self.path(self.settings.get("target", "target"))

    def on_duckdb(self) -> Project:
        """The project on the duckdb target (what reads the build's database: the data tests)."""
        return dataclasses.replace(self, target=Target())

    def show(self, path: Path) -> str:
        """A path as the user should read it: relative to the project root when inside it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def find_root(start: Path) -> Path:
    """The nearest folder, from start upwards, whose pyproject.toml has a [tool.fbt] table."""
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "tool" in (table := read_pyproject(candidate)) and \
                "fbt" in table["tool"]:
            return folder
    raise ProjectError(f"No pyproject.toml with a [tool.fbt] table in {start} or above; "
                       f"run fbt from the project folder or pass --project-dir")


def read_pyproject(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ProjectError(f"{path}: cannot read it as TOML ({e}); fix the file") from e


def load_project(start: Path, given: Iterable[GivenVar] = (), target: str | None = None) -> Project:
    """Read the project that contains start, with the command line's vars over the defaults, for
    the target named (--target; None: the default, duckdb)."""
    root = find_root(start.resolve())
    config = read_pyproject(root / "pyproject.toml")["tool"]["fbt"]
    specs = declare_vars(config.get("vars", {}))
    given = list(given)
    for name, value in config.get("sources", {}).items():
        if value not in specs:
            raise ProjectError(f"pyproject.toml [tool.fbt.sources] {name} = '{value}': no var of that "
                               f"name in [tool.fbt.vars]; declare it with the file's default path")
    settings = {k: v for k, v in config.items() if k not in ("vars", "sources", "targets")}
    models_dir = root / settings.get("models", "models")
    macros_dir = root / settings.get("macros", "macros")
    if not models_dir.is_dir():
        raise ProjectError(f"{models_dir}: no models folder; create it with at least one .sql model")
    models = read_sql_files(models_dir)
    if not models:
        raise ProjectError(f"{models_dir}: no .sql models; add one, e.g. models/training_samples.sql")
    return Project(
        root=root,
        models=models,
        data_tests=read_sql_files(models_dir / "tests"),
        macros=list(read_sql_files(macros_dir).values()),
        specs=specs,
        vars=resolve_vars(specs, given),
        sources=dict(config.get("sources", {})),
        settings=settings,
        target=choose_target(config.get("targets", {}), target, root / settings.get("target", "target")),
    )


def read_sql_files(folder: Path) -> dict[str, SqlFile]:
    if not folder.is_dir():
        return {}
    files = {}
    for path in sorted(folder.glob("*.sql")):
        try:
            files[path.stem] = SqlFile(path.stem, path, path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise ProjectError(f"{path}: cannot read it as UTF-8 text ({e})") from e
    return files


__all__ = ["Project", "SqlFile", "find_root", "load_project", "VarError"]
