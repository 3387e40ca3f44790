"""fbt's engine: load a project, then compile, run, test, build or query it."""

from .build import BuildResult, build, compile_models, run, run_query, test
from .errors import EngineError, UsageError
from .project import Project, load_project
from .vars import GivenVar

__all__ = ["BuildResult", "EngineError", "GivenVar", "Project", "UsageError", "build",
           "compile_models", "load_project", "run", "run_query", "test"]
