"""The commands' work: compile, run, test and build, each a pipeline of plain steps."""

from __future__ import annotations

import glob
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .accounting import Accounting, count_records
from .dataset_info import stage_dataset_info
from .datatest import TestResult, collect_tests, describe_failure, run_test
from .errors import DataTestError, SourceError
from .commit import commit, journal_path, pause_point, roll_forward, settle
from .export import (STAGING_PREFIX, ExportResult, clear_stale_staging, discard_staging,
                     exports_in_background, plan_exports)
from . import materialization
from .graph import topo_order, upstream
from .lock import build_lock
from .logcheck import describe, first_byte, last_byte
from .loop import Figures, collect_figures, split_exports, stamp_exports, utc_stamp
from .project import Project
from .render import Rendered, Renderer
from .runner import (connect_new, connect_read_only, query, remove_build_files, run_model,
                     seal)
from .state import load_state, stage_state, state_path

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    pass


@dataclass
class ModelResult:
    name: str
    rows: int | None  # None for a view
    seconds: float


@dataclass
class BuildResult:
    command: str
    database: Path
    models: list[ModelResult] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    tests_left: int = 0  # data tests of models no file reads: `python cli.py test` runs them
    accounting: Accounting | None = None
    exports: list[ExportResult] = field(default_factory=list)
    figures: Figures = field(default_factory=dict)
    build_id: str | None = None
    seconds: float = 0.0
    run_results: Path | None = None


def compile_models(project: Project, renderer: Renderer | None = None) -> dict[str, Rendered]:
    """Every model rendered, in build order (each after the models it ref()s)."""
    renderer = renderer or Renderer(project)
    rendered = {name: renderer.render(model) for name, model in project.models.items()}
    order = topo_order({n: r.refs for n, r in rendered.items()},
                       label=lambda n: project.show(project.models[n].path))
    return {name: rendered[name] for name in order}


def check_sources(project: Project, models: dict[str, Rendered]) -> dict[str, Path]:
    """The files the models read, each present and not empty (a glob: each file it matches)."""
    paths = {}
    for name in sorted({s for m in models.values() for s in m.sources}):
        path = project.path(project.vars[project.sources[name]])
        flag = "--" + project.sources[name].replace("_", "-")
        files = [path]
        if glob.has_magic(str(path)):
            files = sorted(Path(p) for p in glob.glob(str(path)))
            if not files:
                raise SourceError(f"{path}: no file matches (source '{name}'); pass the logs' path with "
                                  f"{flag} PATH")
        for i, file in enumerate(files):
            if not file.is_file():
                raise SourceError(f"{file}: no such file (source '{name}'); pass the log's path with "
                                  f"{flag} PATH")
            check_whole(file)
            paths[name if i == 0 else f"{name}:{i}"] = file
    return paths


def check_whole(path: Path) -> None:
    """DuckDB reads an empty or blank file as zero records, and `[{...},` as complete: refuse both.
    (An empty JSON-lines file is a day without feedback, and fine.)"""
    try:
        first = first_byte(path)
        lines = path.name.lower().endswith((".jsonl", ".ndjson"))
        cut_short = first == b"[" and last_byte(path) != b"]" or first is None and not lines
    except OSError as e:
        raise SourceError(f"{path}: cannot read it ({e.strerror}); check its permissions") from e
    if cut_short:
        raise SourceError(describe(path, "the file is empty or does not end with ]"))


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
    renderer = Renderer(project)  # compiles the macros once, for the models and the data tests
    models = compile_models(project, renderer)
    output_dir = project.path(project.vars.get("output_dir", ""))
    plan = split_exports(plan_exports(models, formats, output_dir, project.vars.get("model_name", ""),
                                      new_only=bool(project.vars.get("new_only"))))
    full_refresh = bool(project.vars.get("full_refresh"))
    journal = journal_path(database)
    with build_lock(database, project.show(database)):
        roll_forward(journal)  # a build killed while committing is completed first
        for stale in project.target_dir.glob(".run_results.json.*.tmp"):  # killed before it
            stale.unlink()
        if project.vars.get("new_only"):  # files named with the build's time, never overwritten
            plan, result.build_id = stamp_exports(plan)
        sources = check_sources(project, models)
        building = database.with_name(f".{database.name}.building")
        con = connect_new(building, project.settings.get("duckdb", {}))
        staging = output_dir / f"{STAGING_PREFIX}{os.getpid()}"
        made_output_dir = not output_dir.exists()  # by this build: a failed one removes it again
        run_results = project.target_dir / f".run_results.json.{os.getpid()}.tmp"
        try:
            load_state(con, project, forget=["exported_samples"] if full_refresh else [])
            kinds = materialization.decide(con, models, {e.model.name for e in plan})
            # The models the files read first; the files are then written while the other models
            # are built and the data tests run (a failing test discards them).
            read = upstream({n: m.refs for n, m in models.items()}, {e.model.name for e in plan})
            result.models = run_models(con, project, {n: m for n, m in models.items() if n in read},
                                       kinds, sources, progress)
            if plan:
                clear_stale_staging(output_dir)
                progress(f"writing {len(plan)} file(s) to {project.show(output_dir)} ...")
            with exports_in_background(con, plan, staging, project.show, progress) as exporting:
                result.models += run_models(con, project, {n: m for n, m in models.items() if n not in read},
                                            kinds, sources, progress)
                result.accounting = count_records(con, models)
                result.figures = collect_figures(con, models)
                if test:  # the tests of the models the files read (all, when no file is written)
                    tested = {n: m for n, m in models.items() if n in read or not plan}
                    result.tests = require_passing(test_models(renderer, tested, con, progress))
                    result.tests_left = len(collect_tests(renderer, models)) - len(result.tests)
                pause_point("models-built")
            if exporting:
                result.exports = exporting.result()
                result.exports += stage_dataset_info(result.exports, output_dir, staging,
                                                     project.vars.get("dataset_info", "auto"), project.show)
            seal(con)
            moves = [(staging / e.path.name, e.path) for e in result.exports]
            if command == "build" and (plan or full_refresh):  # the export history, committed with the files
                build_id = result.build_id or utc_stamp()
                written = [(e.format, e.model, models[e.model].config["unique_key"]) for e in result.exports
                           if e.model in models and models[e.model].config.get("unique_key")]
                moves.append((stage_state(project, building, written, build_id, forget_history=full_refresh),
                              state_path(project)))
            result.seconds = time.perf_counter() - started
            result.run_results = project.target_dir / "run_results.json"
            write_run_results(project, result, run_results)
            pause_point("staged")
            commit(journal, moves + [(run_results, result.run_results), (building, database)])
        finally:
            con.close()
            if not journal.exists():  # else the files are the journal's, for the next run to move
                remove_build_files(building)
                for leftover in (run_results, state_path(project).with_name(f".{state_path(project).name}.updating")):
                    leftover.unlink(missing_ok=True)
                discard_staging(staging)
                if made_output_dir and output_dir.is_dir() and not any(output_dir.iterdir()):
                    output_dir.rmdir()
    return result


def run_models(con, project: Project, models: dict[str, Rendered], kinds: dict[str, str],
               sources: dict[str, Path], progress: Progress) -> list[ModelResult]:
    """Each model into the new database as a table or a view (kinds), in build order, timed."""
    results = []
    for name, model in models.items():
        progress(f"model {name} ...")
        started = time.perf_counter()
        rows = run_model(con, model, kinds[name], project.show(model.path), sources)
        results.append(ModelResult(name, rows, time.perf_counter() - started))
    return results


def require_passing(tests: list[TestResult]) -> list[TestResult]:
    """The results, when every data test passed; else a DataTestError naming the first failure."""
    failed = [t for t in tests if not t.passed]
    if failed:
        more = f" ({len(failed) - 1} more test(s) failed)" if len(failed) > 1 else ""
        raise DataTestError(describe_failure(failed[0]) + "; nothing was exported" + more)
    return tests


def test_models(renderer: Renderer, models: dict[str, Rendered], con, progress: Progress) -> list[TestResult]:
    results = []
    for data_test in collect_tests(renderer, models):
        progress(f"test {data_test.name} ...")
        results.append(run_test(con, data_test))
    return results


def test(project: Project, progress: Progress | None = None) -> list[TestResult]:
    """Run the data tests against the last built database (read-only)."""
    renderer = Renderer(project)
    models = compile_models(project, renderer)
    settle(project.database, project.show(project.database))
    con = connect_read_only(project.database, project.show(project.database))
    try:
        return test_models(renderer, models, con, progress or quiet)
    finally:
        con.close()


def run_query(project: Project, sql: str) -> tuple[list[str], list[tuple]]:
    """Ad-hoc SQL on the last built database, read-only."""
    settle(project.database, project.show(project.database))
    con = connect_read_only(project.database, project.show(project.database))
    try:
        return query(con, sql)
    finally:
        con.close()


def write_run_results(project: Project, result: BuildResult, path: Path) -> None:
    """run_results.json: the build's figures and timings, for scripts (like dbt's); written aside
    to path and moved into place with the rest of the build."""
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
        "figures": result.figures,
        "build_id": result.build_id,
        "exports": [{"format": e.format, "model": e.model, "path": str(e.path), "rows": e.rows}
                    for e in result.exports],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
