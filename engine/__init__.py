"""fbt's engine: load a project, then compile, run, test, build or query it."""

from .build import BuildResult, build, compile_models, run, run_query, test
from .errors import EngineError, UsageError
from .project import Project, load_project
from .review import ReviewExport, ReviewImport, export_review, import_review
from .vars import GivenVar

__all__ = ["BuildResult", "EngineError", "GivenVar", "Project", "ReviewExport", "ReviewImport",
           "UsageError", "build", "compile_models", "export_review", "import_review", "load_project",
           "run", "run_query", "test"]
