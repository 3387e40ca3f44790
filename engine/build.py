"""The commands' work: compile, run, test and build, each a pipeline of plain steps."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .accounting import Accounting, count_records
from .datatest import TestResult, collect_tests, describe_failure, run_test
from .errors import DataTestError, SourceError
from .export import (STAGING_PREFIX, ExportResult, clear_stale_staging, commit_exports,
                     plan_exports, stage_exports)
from .graph import topo_order
from .lock import build_lock
from .project import Project
from .render import Rendered, Renderer
from .runner import (connect_new, connect_read_only, query, remove_build_files, run_model,
                     swap_in)

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    pass


@dataclass
class ModelResult:
    name: str
    rows: int
    seconds: float


@dataclass
class BuildResult:
    command: str
    database: Path
    models: list[ModelResult] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    accounting: Accounting | None = None
    exports: list[ExportResult] = field(default_factory=list)
    seconds: float = 0.0
    run_results: Path | None = None


def compile_models(project: Project) -> dict[str, Rendered]:
    """Every model rendered, in build order (each after the models it ref()s)."""
    renderer = Renderer(project)
    rendered = {name: renderer.render(model) for name, model in project.models.items()}
    order = topo_order({n: r.refs for n, r in rendered.items()},
                       label=lambda n: project.show(project.models[n].path))
    return {name: rendered[name] for name in order}


def check_sources(project: Project, models: dict[str, Rendered]) -> dict[str, Path]:
    """The files the models read, each present and not empty."""
    paths = {}
    for name in sorted({s for m in models.values() for s in m.sources}):
        path = project.path(project.vars[project.sources[name]])
        flag = "--" + project.sources[name].replace("_", "-")
        if not path.is_file():
            raise SourceError(f"{path}: no such file (source '{name}'); pass the log's path with "
                              f"{flag} PATH")
        if path.stat().st_size == 0:
            raise SourceError(f"{path}: the file is empty (0 bytes), not a JSON array; the app writes "
                              f"[] when there is no feedback, so this log was probably cut short")
        paths[name] = path
    return paths


def run(project: Project, progress: Progress | None = None) -> BuildResult:
    """Run the models into a new database and swap it in; no tests, no exports."""
    return execute(project, "run", test=False, formats=[], progress=progress)


def build(project: Project, progress: Progress | None = None) -> BuildResult:
    """Run the models, check the accounting, run the data tests, write the exports."""
    return execute(project, "build", test=True, formats=project.vars.get("formats", []),
                   progress=progress)


def execute(project: Project, command: str, test: bool, formats: list[str],
            progress: Progress | None) -> BuildResult:
    progress = progress or quiet
    started = time.perf_counter()
    database = project.database
    result = BuildResult(command, database)
    models = compile_models(project)
    output_dir = project.path(project.vars.get("output_dir", ""))
    plan = plan_exports(models, formats, output_dir, project.vars.get("model_name", ""))
    with build_lock(database, project.show(database)):
        sources = check_sources(project, models)
        building = database.with_name(f".{database.name}.building")
        con = connect_new(building, project.settings.get("duckdb", {}))
        staging = output_dir / f"{STAGING_PREFIX}{os.getpid()}"
        try:
            for name, model in models.items():
                progress(f"model {name} ...")
                t0 = time.perf_counter()
                rows = run_model(con, model, project.show(model.path), sources)
                result.models.append(ModelResult(name, rows, time.perf_counter() - t0))
            result.accounting = count_records(con, set(models))
            if test:
                result.tests = test_models(project, models, con, progress)
                failed = [t for t in result.tests if not t.passed]
                if failed:
                    raise DataTestError(describe_failure(failed[0]) + "; nothing was exported" +
                                        (f" ({len(failed) - 1} more test(s) failed)" if len(failed) > 1 else ""))
            if plan:
                output_dir.mkdir(parents=True, exist_ok=True)
                clear_stale_staging(output_dir)
                progress(f"writing {len(plan)} file(s) to {project.show(output_dir)} ...")
                result.exports = stage_exports(con, plan, staging, project.show, progress)
            swap_in(con, building, database)
            commit_exports(staging, result.exports)
        finally:
            con.close()
            remove_build_files(building)
            if staging.exists():
                import shutil

                shutil.rmtree(staging, ignore_errors=True)
        result.seconds = time.perf_counter() - started
        result.run_results = write_run_results(project, result)
    return result


def test_models(project: Project, models: dict[str, Rendered], con, progress: Progress) -> list[TestResult]:
    results = []
    for data_test in collect_tests(Renderer(project), models):
        progress(f"test {data_test.name} ...")
        results.append(run_test(con, data_test))
    return results


def test(project: Project, progress: Progress | None = None) -> list[TestResult]:
    """Run the data tests against the last built database (read-only)."""
    models = compile_models(project)
    con = connect_read_only(project.database, project.show(project.database))
    try:
        return test_models(project, models, con, progress or quiet)
    finally:
        con.close()


def run_query(project: Project, sql: str) -> tuple[list[str], list[tuple]]:
    """Ad-hoc SQL on the last built database, read-only."""
    con = connect_read_only(project.database, project.show(project.database))
    try:
        return query(con, sql)
    finally:
        con.close()


def write_run_results(project: Project, result: BuildResult) -> Path:
    """target/run_results.json: the build's figures and timings, for scripts (like dbt's)."""
    document: dict[str, Any] = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": result.command,
        "elapsed_seconds": round(result.seconds, 3),
        "vars": project.vars,
        "database": str(result.database),
        "models": [{"name": m.name, "rows": m.rows, "seconds": round(m.seconds, 3)}
                   for m in result.models],
        "tests": [{"name": t.test.name, "status": "pass" if t.passed else "fail",
                   "failures": t.failures} for t in result.tests],
        "accounting": result.accounting.as_dict() if result.accounting else None,
        "exports": [{"format": e.format, "model": e.model, "path": str(e.path), "rows": e.rows}
                    for e in result.exports],
    }
    path = project.target_dir / "run_results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path
