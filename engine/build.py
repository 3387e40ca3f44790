"""The commands' work: run, build (the pipeline of engine/pipeline.py), test, query and report."""

from __future__ import annotations

import os
from pathlib import Path

from .commit import journal_path, roll_forward, settle
from .datatest import TestResult, collect_tests, run_tests
from .errors import DatabaseError
from .lock import build_lock
from .pipeline import BuildResult, ModelResult, Progress, execute, quiet
from .project import Project
from .query import Answer, check_statements, confine, query_errors, stream
from .render import Renderer, compile_models
from .report_page import stage_page
from .runner import connect_read_only

__all__ = ["Answer", "BuildResult", "ModelResult", "build", "compile_models", "run", "run_query",
           "test", "write_report"]


def run(project: Project, progress: Progress | None = None) -> BuildResult:
    """Run the models into the database (a new one swapped in, or the last changed in place); no
    tests, no exports."""
    return execute(project, "run", test=False, formats=[], progress=progress)


def build(project: Project, progress: Progress | None = None) -> BuildResult:
    """Run the models, check the accounting, run the data tests, write the exports."""
    return execute(project, "build", test=True, formats=project.vars.get("formats", []),
                   progress=progress)


def test(project: Project, progress: Progress | None = None) -> list[TestResult]:
    """Run the data tests against the last built database (read-only; on any target, the build's
    rows are in that DuckDB database)."""
    project = project.on_duckdb()
    renderer = Renderer(project)
    models = compile_models(project, renderer)
    settle(project.database, project.show(project.database))
    con = connect_read_only(project.database, project.show(project.database))
    try:
        return run_tests(con, collect_tests(renderer, models), progress or quiet)
    finally:
        con.close()


def run_query(project: Project, sql: str, limit: int = 0) -> Answer:
    """Ad-hoc SQL on the last built database: read-only, confined to it and the sources' files,
    its rows streamed (at most limit of them; 0: all). On a spark target: on its schema's tables."""
    check_statements(sql)
    if project.target.type == "spark":
        from .spark import query_tables

        return query_tables(project.target, sql, limit)
    settle(project.database, project.show(project.database))
    con = connect_read_only(project.database, project.show(project.database))
    try:
        confine(con, project)
        with query_errors():
            con.execute(sql)
    except BaseException:
        con.close()
        raise
    if con.description is None:
        con.close()
        return Answer([])
    answer = Answer([d[0] for d in con.description])
    answer.batches = stream(con, limit, answer)
    return answer


def write_report(project: Project) -> Path:
    """target/report.html again, from the last build's database and run_results.json."""
    shown = project.show(project.database)
    with build_lock(project.database, shown):  # not while a build commits its own
        roll_forward(journal_path(project.database))
        run_results = project.target_dir / "run_results.json"
        if not run_results.is_file() or not project.database.is_file():
            raise DatabaseError(f"{project.show(run_results)}: no build to report on yet; run "
                                f"`python cli.py build` first")
        target = project.target_dir / "report.html"
        staged = target.with_name(f".report.html.{os.getpid()}.tmp")
        try:
            stage_page(project.database, run_results, {}, staged)
            os.replace(staged, target)
        finally:
            staged.unlink(missing_ok=True)
    return target
