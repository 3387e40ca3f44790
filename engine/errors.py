"""One hierarchy for every problem a user can fix; cli.py turns it into exit codes in one place."""

from __future__ import annotations

from collections.abc import Callable


class EngineError(Exception):
    "A problem the user can fix; the CLI prints it on one line without a traceback (exit 1)"

    exit_code = 1


class UsageError(EngineError):
    "The command line asked for something that cannot be (exit 2)"

    exit_code = 2


class VarError(UsageError):
    "A var is unknown or its value does not fit the type declared in pyproject.toml"


class ProjectError(EngineError):
    "pyproject.toml, models/ or macros/ missing or unreadable"


class CompileError(EngineError):
    "A model's Jinja failed: undefined var(), unknown ref(), bad macro, bad config()"


class CycleError(CompileError):
    "Models depend on each other in a loop"


class SourceError(EngineError):
    "The feedback log is missing, empty or not a JSON array of records"


class RecordShapeError(SourceError):
    """A record of a file is not of the shape a typed reader takes (macros/openwebui.sql): the
    engine reads the file again as JSON. When it does not, this is the file's fault, said as any
    SourceError (describe: the message, made only then: it may scan the file)."""

    def __init__(self, describe: Callable[[], str]):
        super().__init__()
        self.describe = describe

    def __str__(self) -> str:
        return self.describe()


class LogChangedError(SourceError):
    "A log the build read was rewritten while it was being read"


class LogShrankError(SourceError):
    "The log holds fewer records than the last build read from it"


class ModelRunError(EngineError):
    "DuckDB rejected a model's compiled SQL"


class RecordTooLargeError(ModelRunError):
    "A record of a file is larger than the model's reader takes (DuckDB's maximum_object_size)"


class DataTestError(EngineError):
    "A data test found failing rows; nothing was exported"


class AccountingError(EngineError):
    "Records were lost or made up between the models; nothing was exported"


class ExportError(EngineError):
    "Rows could not be shaped into the requested format or written"


class CommitError(EngineError):
    "A build's files cannot be put in place (a folder in the way, no room, no permission, a damaged journal)"


class LockError(EngineError):
    "Another build holds the project's lock"


class QueryError(EngineError):
    "An ad-hoc query would write or reach outside the database, or DuckDB rejected it"


class DatabaseError(EngineError):
    "The database file is missing or cannot be read"


class ReportError(EngineError):
    "The build report cannot be made from what the last build left"


class ReviewError(EngineError):
    "A review CSV cannot be read or has bad rows; nothing was imported"


class FileSystemError(EngineError):
    "A file could not be written or read: no space, no permission, a folder in the way"


class InterruptError(EngineError):
    "Ctrl-C or SIGTERM stopped the command (exit 130 or 143); it cleaned up on its way out"
