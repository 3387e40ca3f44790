"""fbt's engine: load a project, then compile, run, test, build or query it.

The dbt-shaped core, which knows no model by name: project (pyproject.toml, models/, macros/),
vars, render (Jinja, ref/var/config), graph (build order), materialization (table or view),
runner (DuckDB), target (which engine runs the models: duckdb, or spark: engine/spark.py,
sparklog, and dialect, SQLGlot's transpiling and the check of what it leaves wrong), query (ad-hoc SQL that only reads), datatest, plan (which model feeds which
file), export (the writers), commit (all or nothing), lock, interrupts (signals and file system
errors in one line), pipeline (a build's steps, in order) and build (the commands).
fbt's own steps, found through the roles the models declare (roles): logcheck (the log is whole,
or why not), accounting (every record accounted for), figures (the summary's), state (review
decisions and export history), review (the CSV round trip), dataset_info (LLaMA-Factory's register),
report (the summary as text), report_data (the build report's figures, from the database), charts
(its SVG) and report_page (target/report.html). clock makes the time stamps."""

from .build import BuildResult, build, compile_models, run, run_query, test, write_report
from .errors import EngineError, UsageError
from .interrupts import failures_in_one_line
from .project import Project, load_project
from .review import ReviewExport, ReviewImport, export_review, import_review
from .vars import GivenVar

__all__ = ["BuildResult", "EngineError", "GivenVar", "Project", "ReviewExport", "ReviewImport",
           "UsageError", "build", "compile_models", "export_review", "failures_in_one_line", "import_review",
           "load_project", "run", "run_query", "test", "write_report"]
