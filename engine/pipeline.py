"""A build, top to bottom: STEPS, each a function of the build's context, run in order. Every way a
build ends (success, failure, interrupt) leaves through one clean-up path, Build.__exit__.

To add a step (a report, a check before the commit), write `def step(b: Build) -> None` with a
one-line docstring and put it in STEPS where it belongs."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import materialization
from .accounting import Accounting, count_records
from .clock import utc_stamp
from .commit import InPlace, Move, commit, journal_path, pause_point, prepare_moves, roll_forward
from .dataset_card import detect_languages, stage_dataset_card
from .dataset_info import stage_dataset_info
from .datatest import (
    TestResult,
    collect_tests,
    over_new_rows,
    passed_tests,
    record_passed,
    require_passing,
    run_tests,
)
from .errors import (
    DatabaseError,
    EngineError,
    LogChangedError,
    LogShrankError,
    RecordShapeError,
    RecordTooLargeError,
)
from .export import (
    STAGING_PREFIX,
    ExportResult,
    clear_stale_staging,
    discard_staging,
    exports_in_background,
    stage_exports,
)
from .figures import Figures, collect_figures
from .graph import upstream
from .increment import appendable, drop_strays, last_keys, new_rows, open_in_place, record_keys, rows_keys
from .interrupts import uninterrupted
from .lock import build_lock
from .logcheck import Fingerprint, check_sources, check_unchanged, find_change
from .plan import ExportPlan, plan_exports
from .project import Project
from .render import LogTail, Rendered, Renderer, compile_models
from .report_page import interrupted, stage_failure_page, stage_page
from .roles import declared
from .runner import (
    configure,
    connect_new,
    duckdb_errors,
    make_room,
    remove_build_files,
    run_model,
    seal,
    spill_directory,
    system_errors,
)
from .shards import Removal, check_folder, in_the_way, place_files
from .state import StateChange, change_folder, last_read, load_state, read_state, record_history, stage_state
from .tail import (
    Hashing,
    Tail,
    copy_rows,
    hash_ahead,
    last_parse,
    plan_tail,
    record_parse,
    rows_key,
    start_hash,
)
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb

    from .spark import SparkRun

Progress = Callable[[str], None]


@dataclass
class ModelResult:
    name: str
    rows: int | None  # None for a view
    seconds: float
    depends_on: list[str] = field(default_factory=list)
    materialized: str = ""   # 'table' or 'view'
    role: str | None = None  # config(role=...), engine/roles.py


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
    report: Path | None = None
    sources: list[tuple[str, Path, int]] = field(default_factory=list)  # each log read: name, path, bytes
    parse: dict[str, Any] = field(default_factory=dict)  # how much of the log was parsed (engine/tail.py)
    steps: dict[str, float] = field(default_factory=dict)  # seconds each step took (up to run_results)
    tables: list[str] = field(default_factory=list)  # on a spark target with a schema, its tables
    warnings: list[str] = field(default_factory=list)  # said in the summary


@dataclass
class Build:
    """One build's context, handed from step to step; a context manager whose exit is the one
    clean-up path."""

    project: Project
    command: str
    formats: list[str]
    test: bool
    progress: Progress
    result: BuildResult
    started: float = field(default_factory=time.perf_counter)
    stack: ExitStack = field(default_factory=ExitStack)  # what each step opened, closed in reverse
    renderer: Renderer | None = None
    models: dict[str, Rendered] = field(default_factory=dict)
    plan: ExportPlan = field(default_factory=lambda: ExportPlan([]))
    sources: dict[str, Path] = field(default_factory=dict)
    fingerprints: dict[Path, Fingerprint] = field(default_factory=dict)  # the logs as the build found them
    con: duckdb.DuckDBPyConnection | None = None
    spark: SparkRun | None = None  # --target spark: the models run there, their rows land in con
    duckdb_sql: dict[str, str] = field(default_factory=dict)  # on spark, each model's DuckDB SQL (its types)
    kinds: dict[str, str] = field(default_factory=dict)   # model -> 'table' or 'view'
    read_by_files: set[str] = field(default_factory=set)  # the models the files read, built first
    exporting: Future | None = None                     # the files being written (start_exports)
    export_stack: ExitStack = field(default_factory=ExitStack)
    moves: list[Move] = field(default_factory=list)       # staged file -> its place, for the commit
    removals: list[Removal] = field(default_factory=list)  # an earlier build's files in the way (shards)
    swaps: list[Move] = field(default_factory=list)       # staged folder of shards <-> the last build's
    copies: list[Path] = field(default_factory=list)      # staged files copied to another disk (check_targets)
    tail: Tail | None = None          # only the log's new records are parsed (plan_parse)
    log_source: str = ""              # the source of the log (when it is one file)
    parsed: Future | None = None      # (end, hash) of the log, for the next build, when parsed whole
    ahead: Hashing | None = None      # the logs' hashes a tail needs, taken while compiling (hash_logs_ahead)
    rows_key: str = ""                # what made the log model's rows (engine/tail.py)
    in_place: bool = False            # the last build's database is changed in place (engine/increment.py)
    keys: dict[str, str] = field(default_factory=dict)  # each incremental model's rows key
    appended: list[str] = field(default_factory=list)   # the models that take the new records' rows
    state_change: StateChange | None = None  # made to fbt's state at the commit (stage_history)
    history_id: str = ""              # the build's stamp in the export history (record_exports)
    state_version: str = ""           # the state file's version the build writes (engine/state.py)
    restamps: bool = True             # its history rows may restamp the state file's (record_history)
    not_in_place: str = ""            # why a build in place had to start again on a new one (NotInPlace)

    @property
    def database(self) -> Path:
        return self.project.database

    @property
    def building(self) -> Path:
        return self.database.with_name(f".{self.database.name}.building")

    @property
    def output_dir(self) -> Path:
        return self.project.path(self.project.vars.get("output_dir", ""))

    @property
    def staging(self) -> Path:
        return self.output_dir / f"{STAGING_PREFIX}{os.getpid()}"

    @property
    def run_results(self) -> Path:
        return self.project.target_dir / f".run_results.json.{os.getpid()}.tmp"

    @property
    def report(self) -> Path:
        return self.project.target_dir / f".report.html.{os.getpid()}.tmp"

    def __enter__(self) -> Build:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.__exit__(*exc)


def execute(project: Project, command: str, test: bool, formats: list[str],
            progress: Progress | None) -> BuildResult:
    """Run the build's steps in order; whatever happens, clean up. A build that fails or finds that
    a log was rewritten while it read it, and the log did change, is made again, once."""
    progress = progress or quiet
    warnings: list[str] = []
    attempt, not_in_place = 1, ""
    while True:
        b = Build(project, command, formats, test, progress, BuildResult(command, project.database))
        b.result.warnings += warnings
        b.not_in_place = not_in_place
        try:
            with b:
                for step in STEPS:
                    started = time.perf_counter()
                    with system_errors(project.show(b.database)):  # (a full disk where a step did not say)
                        step(b)
                    b.result.steps[step.__name__] = time.perf_counter() - started
            return b.result
        except NotInPlace as e:  # (the same attempt, on a new database)
            progress(f"{e}; starting again on a new database")
            not_in_place = f"started again: {e}"
        except EngineError as e:
            change = find_change(b.fingerprints)
            if change is None:
                raise
            if attempt == 2:
                raise LogChangedError(f"{change}, twice; nothing changed. Build again when the app is "
                                      f"not rewriting the log") from e
            warnings.append(f"{change}; read it again")
            progress(warnings[-1])
            attempt += 1


class NotInPlace(Exception):
    """A build changing its database in place met what the normal path retries or lets pass (a
    record larger or of another shape than its reader takes, new records not readable apart, a
    model's rows of them that fail, a report that cannot be written): a failed statement ends
    DuckDB's transaction, so the build starts again on a new database."""


def quiet(_: str) -> None:
    pass


# ---- the steps, in order --------------------------------------------------------------------------

def hash_logs_ahead(b: Build) -> None:
    """The hashes of the logs that a build reading only their new records needs (plan_parse),
    taken on a thread while the project compiles: a log is any declared source that is one file."""
    forced = b.project.vars.get("full_parse") or b.project.vars.get("full_refresh")
    if b.project.target.type != "duckdb" or forced:
        return
    files = [b.project.path(value) for var in b.project.sources.values()
             if isinstance(value := b.project.vars.get(var), str) and value]
    b.ahead = hash_ahead(b.database, {b.project.show(path): path for path in files if path.is_file()})
    b.stack.callback(b.ahead.stop)  # (a build that ends sooner does not wait for it)


def compile_project(b: Build) -> None:
    """Render every model in build order; the macros are compiled once, for the data tests too."""
    b.renderer = Renderer(b.project.on_duckdb())  # the data tests read the build's DuckDB database
    b.models = compile_models(b.project, b.renderer if b.project.target.type == "duckdb" else None)
    if b.project.target.type != "duckdb":
        b.duckdb_sql = {n: m.sql for n, m in compile_models(b.renderer.project, b.renderer).items()}


def take_lock(b: Build) -> None:
    """One build at a time; a killed build's commit is finished first, its leftovers cleared."""
    b.stack.enter_context(build_lock(b.database, b.project.show(b.database)))
    roll_forward(journal_path(b.database))
    for pattern in (".run_results.json.*.tmp", ".report.html.*.tmp"):
        for stale in b.project.target_dir.glob(pattern):
            stale.unlink()
    b.renderer.compiled.clear_stale()
    b.stack.callback(clean_up, b, made_output_dir=not b.output_dir.exists())


def plan_files(b: Build) -> None:
    """Which model feeds which file, split and name (under the lock: --new-only's names must be new)."""
    b.plan = plan_exports(b.models, b.project.vars, b.output_dir, b.formats,
                          shard_bytes=b.project.target.shard_bytes())
    b.result.build_id = b.plan.build_id
    for item in b.plan.files:  # (a folder of shards with others' files would stop it once built)
        check_folder(item.path, bool(item.shard_bytes), b.project.show)


def check_logs(b: Build) -> None:
    """Every log the models read is there and whole (and how it was, to know if it changes)."""
    b.sources, b.fingerprints = check_sources(b.project, b.models)
    b.result.sources = [(name, path, b.fingerprints[path][2]) for name, path in b.sources.items()]
    pause_point("logs-checked")


def decide_tables(b: Build) -> None:
    """Each model's table or view, and which models the files read."""
    import duckdb

    with duckdb.connect() as con:  # (DuckDB's parser says what each SELECT does)
        b.kinds = materialization.decide(con, b.models, {e.model.name for e in b.plan.files})
    b.read_by_files = upstream({n: m.refs for n, m in b.models.items()}, {e.model.name for e in b.plan.files})


def open_database(b: Build) -> None:
    """The last build's database changed in place, in one transaction, when only the log's new
    records are read (engine/increment.py); else a new one beside it. fbt's state copied in."""
    settings = b.project.settings.get("duckdb", {})
    if b.tail:
        b.con, why = (None, b.not_in_place) if b.not_in_place else \
            open_in_place(b.database, lambda con: configure(con, settings, b.database))
        b.in_place = b.con is not None
        b.result.parse.update(in_place=b.in_place, in_place_why=why)
    if b.con is None:
        b.con = connect_new(b.building, settings)
    load_state(b.con, b.project, forget_state(b), replace=b.in_place)
    log_model = declared(b.models, "log")
    if b.rows_key:
        marks = {key.split(":")[0]: repr(b.fingerprints.get(path)) for key, path in b.sources.items()}
        b.keys = rows_keys(b.con, b.models, log_model, b.rows_key, marks)
    if b.in_place:
        drop_strays(b.con, b.kinds)
        b.appended = appendable(b.con, b.models, b.kinds, log_model, b.keys, last_keys(b.con))
        b.result.parse["appended"] = b.appended


def open_target(b: Build) -> None:
    """On the spark target, a Spark session with the logs and fbt's state (engine/spark.py); every
    model is then a table of the build database, copied from Spark."""
    if b.project.target.type == "spark":
        from .spark import SparkRun

        b.spark = SparkRun(b.project.target, b.con, b.sources, forget_state(b))
        b.kinds = dict.fromkeys(b.models, "table")


def plan_parse(b: Build) -> None:
    """Only the log's new records, after the last build's rows, when the log only grew since (the
    log model declares config(incremental=true)); else all of it, and why."""
    import duckdb

    log_model = declared(b.models, "log")
    reading = upstream_views(b, log_model)
    names = sorted({s for n in [*reading, log_model] for s in b.models[n].sources})
    files = [path for key, path in b.sources.items() if key.split(":")[0] in names]
    if not b.models[log_model].config.get("incremental") or b.kinds[log_model] != "table" or len(files) != 1 \
            or b.project.target.type != "duckdb":  # (Spark reads the whole log: engine/spark.py)
        return
    b.log_source, b.rows_key = names[0], rows_key(b.models, log_model, reading)
    if b.project.vars.get("full_parse") or b.project.vars.get("full_refresh"):
        why = "asked for (" + ("--full-refresh" if b.project.vars.get("full_refresh") else "full_parse") + ")"
    else:
        aside = b.building.with_name(b.building.name + ".new" + "".join(files[0].suffixes[-1:]))
        b.stack.callback(aside.unlink, missing_ok=True)
        with duckdb.connect() as con:
            before = last_parse(con, b.database, log_name(b))
        ahead = None
        if b.ahead and before and before.key == b.rows_key:
            ahead = next((h for h in b.ahead.result() if h.fingerprint == b.fingerprints[files[0]]), None)
        elif b.ahead:  # (the log is parsed whole: its hashes are of no use)
            b.ahead.stop()
        b.tail, why = plan_tail(files[0], before, b.rows_key, aside, ahead)
    if b.tail is None:
        b.parsed = start_hash(files[0])
        b.result.parse = {"parsed": "all", "why": why}
    else:
        b.result.parse = {"parsed": "new records", "kept": b.tail.records_before}


def build_models_the_files_read(b: Build) -> None:
    """The models the files read, first, so that the files can be written while the rest is built."""
    b.result.models = run_models(b, [n for n in b.models if n in b.read_by_files])


def start_exports(b: Build) -> None:
    """The files, written into staging on a second connection while the next steps go on."""
    if not b.plan.files:
        return
    clear_stale_staging(b.output_dir)
    b.progress(f"writing {len(b.plan.files)} file(s) to {b.project.show(b.output_dir)} ...")
    b.stack.enter_context(b.export_stack)  # a failure in the steps below interrupts the writing
    if b.in_place:  # (another connection would not see this build's rows before its commit)
        b.exporting = Future()
        b.exporting.set_result(stage_exports(b.con, b.plan.files, b.staging, b.project.show, b.progress))
        return
    b.exporting = b.export_stack.enter_context(exports_in_background(b.con, b.plan.files, b.staging,
                                                                     b.project.show, b.progress))


def build_other_models(b: Build) -> None:
    """Every other model."""
    b.result.models += run_models(b, [n for n in b.models if n not in b.read_by_files])


def check_accounting(b: Build) -> None:
    """read = rejected + valid and valid = samples + excluded, by the models' declared roles."""
    b.result.accounting = count_records(b.con, b.models)
    b.result.figures = collect_figures(b.con, b.models)


def check_log_grew(b: Build) -> None:
    """A log holds at least the records the last build read from it (logs only grow), unless
    allow_shrink: a log cut short or emptied under the build never replaces the files."""
    before = last_read(b.con, log_name(b))
    read = b.result.accounting.read if b.result.accounting else 0
    if before and read < before[0] and not b.project.vars.get("allow_shrink"):
        raise LogShrankError(
            f"{log_name(b)}: {read:,} records, fewer than the {before[0]:,} the last build read "
            f"(build {before[1]}); nothing changed, the earlier files are kept. If the log was cut "
            f"on purpose, build again with --allow-shrink")


def run_data_tests(b: Build) -> None:
    """The data tests of the models the files read (all, when no file is written); any failure stops.
    In place, a test the last build's rows passed reads only the rows added (engine/datatest.py)."""
    if not b.test:
        record_passed(b.con, [])
        return
    tested = {n: m for n, m in b.models.items() if n in b.read_by_files or not b.plan.files}
    whole = tests = collect_tests(b.renderer, tested)
    if b.in_place and b.tail:
        b.renderer.adding.update({name: new_rows(name, b.tail.records_before) for name in b.appended
                                  if not b.models[name].post_hooks})
        try:
            tests = over_new_rows(whole, collect_tests(b.renderer, tested), passed_tests(b.con))
        finally:
            b.renderer.adding.clear()
    b.result.tests = require_passing(run_tests(b.con, tests, b.progress))
    record_passed(b.con, whole)
    b.result.tests_left = len(collect_tests(b.renderer, b.models)) - len(b.result.tests)


def check_logs_unchanged(b: Build) -> None:
    """Every log the same file, size and time as when the build began to read it (else it is read again)."""
    check_unchanged(b.fingerprints)


def finish_exports(b: Build) -> None:
    """Wait for the files; dataset_info.json and the dataset card (README.md) beside them."""
    pause_point("models-built")
    if b.exporting is None:
        return
    b.export_stack.close()  # waits for the writer, closes its connection
    b.result.exports = b.exporting.result()
    b.result.exports += stage_dataset_info(b.result.exports, b.output_dir, b.staging,
                                           b.project.vars.get("dataset_info", "auto"), b.project.show)
    card, why_not = stage_dataset_card(
        b.result.exports, b.output_dir, b.staging, b.project.vars, {e.path: e.split for e in b.plan.files},
        lambda: b.project.vars.get("dataset_language") or detect_languages(b.con, declared(b.models, "samples")))
    b.result.exports += card
    b.result.warnings += [why_not] if why_not else []
    for e in b.result.exports:
        b.removals += in_the_way(e.path, e.shards, b.project.show)
        moves, swaps = place_files(b.staging / e.path.name, e.path, e.shards)
        b.moves, b.swaps = b.moves + moves, b.swaps + swaps


def note_parse(b: Build) -> None:
    """Where the log's records end and the hash of the bytes before, in the new database (table
    fbt.log_parse), and each incremental model's key (fbt.increments), for the next build."""
    if not b.rows_key:
        return
    record_keys(b.con, b.keys)
    end, digest = (b.tail.end, b.tail.digest) if b.tail else b.parsed.result()
    rows = next((m.rows for m in b.result.models if m.role == "log"), None) or 0
    record_parse(b.con, log_name(b), end, digest, rows, b.rows_key)
    if b.tail:
        b.result.parse["new"] = rows - b.tail.records_before


def seal_database(b: Build) -> None:
    """Everything checkpointed into the new database file, closed, ready to move into place (a
    database changed in place is committed after the files: commit_build)."""
    if not b.in_place:
        seal(b.con)


def record_exports(b: Build) -> None:
    """What each format wrote, added to the database's copy of the export history (--new-only
    reads it next time)."""
    if not writes_history(b):
        return
    written = [(e.format, e.model, b.models[e.model].config["unique_key"], e.unwritten)
               for e in b.result.exports if e.model in b.models and b.models[e.model].config.get("unique_key")]
    b.history_id, b.state_version = b.result.build_id or utc_stamp(), uuid.uuid4().hex
    b.restamps = record_history(b.con, written, b.history_id, bool(b.project.vars.get("new_only")),
                                b.state_version)


def stage_history(b: Build) -> None:
    """This build's rows of the export history, and what it read of the log, staged for the commit
    to apply to fbt's state in place (engine/state.py, apply_state)."""
    if not writes_history(b):
        return
    read = b.result.accounting.read if b.result.accounting else None
    reads = {log_name(b): read} if read is not None else {}
    b.state_change = stage_state(b.project, b.con if b.in_place else b.building, b.history_id, b.state_version,
                                 bool(b.project.vars.get("full_refresh")), reads, b.restamps,
                                 b.spark.state if b.spark else None)


def writes_history(b: Build) -> bool:
    return b.command == "build" and bool(b.plan.files or b.project.vars.get("full_refresh"))


def stage_run_results(b: Build) -> None:
    """run_results.json, the build's figures and timings for scripts, written aside."""
    b.result.seconds = time.perf_counter() - b.started
    b.result.run_results = b.project.target_dir / "run_results.json"
    write_run_results(b.project, b.result, b.run_results)
    b.moves.append((b.run_results, b.result.run_results))


def stage_report(b: Build) -> None:
    """target/report.html, the build as a page, from the sealed database and run_results.json; if
    it cannot be written the build goes on, with a warning and a page that says why."""
    final = b.project.target_dir / "report.html"
    try:
        stage_page(b.con if b.in_place else b.building, b.run_results, {dst: src for src, dst in b.moves},
                   b.report)
    except Exception as e:  # the report never fails a build; interrupts do stop it
        if interrupted(e):
            raise
        if b.in_place:  # (a failed statement ended the transaction)
            raise NotInPlace(f"the report: {e}") from None
        b.result.warnings.append(f"{b.project.show(final)}: not written ({type(e).__name__}: {e}); "
                                 f"`python cli.py report` writes it again")
        if not stage_failure_page(b.report, f"{type(e).__name__}: {e}"):
            pause_point("staged")
            return
    b.result.report = final
    b.moves.append((b.report, final))
    pause_point("staged")


def check_targets(b: Build) -> None:
    """Every move checked before the commit point: no folder in a file's place, each place writable,
    a symlinked output written through to its target."""
    planned = b.moves + ([] if b.in_place else [(b.building, b.database)])
    removed = frozenset(p for kind, p in b.removals if kind == "folder")
    b.moves = prepare_moves(planned, b.project.show, removed)
    b.copies = [src for (src, _), (planned_src, _) in zip(b.moves, planned, strict=True) if src != planned_src]


def commit_build(b: Build) -> None:
    """The journal of every move written (the commit point), then the moves, the database last (in
    place, its transaction commits right after the journal: then the commit point, engine/commit.py)."""
    if not b.in_place:
        commit(journal_path(b.database), b.moves, b.removals, swaps=b.swaps, state=b.state_change)
        return
    run = uuid.uuid4().hex
    b.con.execute("CREATE SCHEMA IF NOT EXISTS fbt")
    b.con.execute("CREATE OR REPLACE TABLE fbt.build AS SELECT ? AS build_id", [run])
    con, checkpoints = b.con, ThreadPoolExecutor(max_workers=1, thread_name_prefix="fbt-checkpoint")
    checkpoint: list[Future] = []  # DuckDB's checkpoint of the database, written while the commit moves
    # the files and changes the state file (0.1-0.15 s of a 1M daily build)

    def commit_database() -> None:
        try:
            with duckdb_errors(b.project.show(b.database), DatabaseError):  # (the disk is full)
                con.execute("COMMIT")
        except DatabaseError:
            with con.cursor() as cur, suppress(Exception):  # (sees only what is committed)
                if cur.execute("SELECT count(*) FROM fbt.build WHERE build_id = ?", [run]).fetchone()[0]:
                    committed()  # after all
                    return
            raise  # nothing changed
        committed()

    def committed() -> None:
        b.con = None  # (the build's own, from now on)
        checkpoint.append(checkpoints.submit(con.execute, "CHECKPOINT"))

    try:
        commit(journal_path(b.database), b.moves, b.removals, InPlace(b.database, run, commit_database), b.swaps,
               b.state_change)
    finally:
        if checkpoint:
            finish_checkpoint(b, con, checkpoint[0])
        checkpoints.shutdown()


def finish_checkpoint(b: Build, con: duckdb.DuckDBPyConnection, checkpoint: Future) -> None:
    try:
        with uninterrupted(), duckdb_errors(b.project.show(b.database), DatabaseError):
            checkpoint.result()
    except DatabaseError as e:  # committed: DuckDB checkpoints it when it next opens the database
        b.result.warnings.append(f"{e}; the build is committed, DuckDB finishes writing it the next time "
                                 f"the database is opened")
    finally:
        con.close()


def publish_tables(b: Build) -> None:
    """On a spark target with a schema, this build's tables and fbt's state in place of the last
    build's there (after the commit; a failure here is a warning: the next build merges again)."""
    if b.spark is None or not b.spark.schema:
        return
    try:
        b.result.tables = b.spark.publish()
        if b.state_change:
            b.spark.publish_state(read_state(b.project))
    except EngineError as e:
        b.result.warnings.append(f"{e}; the files and {b.project.show(b.database)} are this build's, not "
                                 f"all of the catalog's tables and state: build again to put them there")


STEPS = (hash_logs_ahead, compile_project, take_lock, plan_files, check_logs, decide_tables, plan_parse,
         open_database, open_target, build_models_the_files_read, start_exports, build_other_models,
         check_accounting, run_data_tests, finish_exports, check_logs_unchanged, check_log_grew, note_parse,
         record_exports, seal_database, stage_history, stage_run_results, stage_report, check_targets,
         commit_build, publish_tables)


# ---- what the steps share --------------------------------------------------------------------------

def clean_up(b: Build, made_output_dir: bool) -> None:
    """However the build ended: close the database; unless a commit journal holds them for the next
    run to move, remove what the build wrote aside (and the output dir, when it made it and left it
    empty)."""
    if b.con is not None:
        b.con.close()
    if b.spark is not None:
        b.spark.close()
    if journal_path(b.database).exists():
        return
    remove_build_files(b.building)
    shutil.rmtree(spill_directory(b.database), ignore_errors=True)
    for leftover in (b.run_results, b.report, *b.copies):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(change_folder(b.project), ignore_errors=True)
    discard_staging(b.staging)
    if made_output_dir and b.output_dir.is_dir() and not any(b.output_dir.iterdir()):
        b.output_dir.rmdir()


def log_name(b: Build) -> str:
    """The log, as the files the log model reads (itself or through its staging models) are named
    (the key of its figures in the state)."""
    reading = upstream({n: m.refs for n, m in b.models.items()}, [declared(b.models, "log")])
    sources = {s for name in reading for s in b.models[name].sources}
    return " + ".join(sorted(b.project.show(b.project.path(b.project.vars[b.project.sources[s]]))
                             for s in sources))


def run_models(b: Build, names: list[str]) -> list[ModelResult]:
    """Each named model into the new database as its table or view, in build order, timed."""
    results = []
    for name in names:
        b.progress(f"model {name} ...")
        started = time.perf_counter()
        rows = run_with_room(b, name)
        model = b.models[name]
        results.append(ModelResult(name, rows, time.perf_counter() - started, list(model.refs), b.kinds[name],
                                   model.config.get("role")))
    return results


def run_with_room(b: Build, name: str) -> int | None:
    """Run a model; when a record is larger than its reader takes, render it again with more room
    (up to the largest file it reads) and run it again; when a record is not of the shape its
    typed reader takes (macros/openwebui.sql), render it again reading JSON and run it again."""
    while True:
        model = b.models[name]
        if b.spark is not None:
            return b.spark.run_model(model, b.duckdb_sql[name], b.project.show(model.path))
        try:
            if model.config.get("role") == "log" and b.tail:
                rows = run_on_tail(b, name)
                if rows is not None:
                    return rows
            if name in b.appended and b.tail:
                return run_on_new_rows(b, name)
            return run_model(b.con, model, b.kinds[name], b.project.show(model.path), b.sources)
        except RecordShapeError:
            if b.in_place:
                raise NotInPlace(f"model {name}: a record of another shape than its typed reader's") from None
            limits = b.renderer.limits if b.renderer else None
            if limits is None or not limits.typed:
                raise
            limits.typed = False
            if not render_again(b, name):  # it read nothing typed: the record is at fault
                raise
            b.progress(f"model {name}: a record of another shape than its typed reader's; reading "
                       "the log again as JSON")
        except RecordTooLargeError:
            if b.in_place:
                raise NotInPlace(f"model {name}: a record larger than its reader takes") from None
            largest = max((p.stat().st_size + 1 for p in b.sources.values()), default=0)
            limits = b.renderer.limits if b.renderer else None
            room = limits.record_bytes if limits else 0
            if limits is None or not limits.grow(largest):
                raise
            b.progress(f"model {name}: a record over {room:,} bytes; reading again with room for "
                       f"{limits.record_bytes:,}")
            make_room(b.con, limits.record_bytes)
            render_again(b, name)


def render_again(b: Build, name: str) -> bool:
    """Render a model and the views it reads again, after the readers' limits changed, and make
    the views anew (a view reading the log holds its reader's limits); whether any SQL changed."""
    changed = False
    for view in upstream_views(b, name):
        rendered = b.renderer.render(b.project.models[view])
        changed |= rendered.sql != b.models[view].sql
        b.models[view] = rendered
        run_model(b.con, rendered, "view", b.project.show(rendered.path), b.sources)
    rendered = b.renderer.render(b.project.models[name])
    changed |= rendered.sql != b.models[name].sql
    b.models[name] = rendered
    return changed


def run_on_tail(b: Build, name: str) -> int | None:
    """The log model: the last build's rows, then those of the new records, read through the views
    it reads rendered for them (then rendered again as they are, for the database left behind).
    None when the new records cannot be read apart: the log is then read whole (the same rows, or
    the error said of the log itself)."""
    try:
        b.renderer.tails[b.log_source] = LogTail(sql_literal(str(b.tail.file)), b.tail.records_before)
        with views_in_part(b, name):
            if not b.in_place:  # (in place, the table holds them)
                copy_rows(b.con, b.database, name)
            b.renderer.adding[name] = new_rows(name, b.tail.records_before)  # (is_incremental())
            part = b.renderer.render(b.project.models[name])
            return run_model(b.con, part, "table", b.project.show(part.path), b.sources, append=True)
    except EngineError as e:
        if b.in_place:
            raise NotInPlace(f"model {name}: its new records: {e}") from None
        b.progress(f"model {name}: its new records: {e}; reading the log whole")
        b.tail, b.parsed = None, start_hash(b.sources[b.log_source])
        b.result.parse = {"parsed": "all", "why": "its new records could not be read apart"}
        return None


def run_on_new_rows(b: Build, name: str) -> int | None:
    """A model that takes the new records' rows (engine/increment.py): its rows of them, computed
    through the views it reads rendered to read only the new rows of the tables before it, added
    to its table."""
    taking = [declared(b.models, "log"), *b.appended[:b.appended.index(name)]]
    b.renderer.parts.update({table: new_rows(table, b.tail.records_before) for table in taking})
    b.renderer.adding[name] = new_rows(name, b.tail.records_before)
    try:
        with views_in_part(b, name):
            part = b.renderer.render(b.project.models[name])
            return run_model(b.con, part, "table", b.project.show(part.path), b.sources, append=True)
    except EngineError as e:  # (made whole on a new database, it fails there too if the model is at fault)
        raise NotInPlace(f"model {name}: its rows of the new records: {e}") from None


@contextmanager
def views_in_part(b: Build, name: str) -> Iterator[None]:
    """For the block, the views a model reads made anew as the renderer now renders them (reading
    only the new records: its tails or parts); then made again as they are (unless a failure ended
    the transaction of a build in place: the build is over)."""
    views = upstream_views(b, name)
    done = False
    try:
        for view in views:
            in_part = b.renderer.render(b.project.models[view])
            run_model(b.con, in_part, "view", b.project.show(in_part.path), b.sources)
        yield
        done = True
    finally:
        b.renderer.tails.clear()
        b.renderer.parts.clear()
        b.renderer.adding.clear()
        if done or not b.in_place:
            for view in views:
                run_model(b.con, b.models[view], "view", b.project.show(b.models[view].path), b.sources)


def forget_state(b: Build) -> list[str]:
    """The state tables the build starts without: --full-refresh forgets the export history."""
    return ["exported_samples"] if b.project.vars.get("full_refresh") else []


def upstream_views(b: Build, name: str) -> list[str]:
    """The views a model reads, directly or through other views, in build order."""
    found, todo = set(), list(b.models[name].refs)
    while todo:
        ref = todo.pop()
        if ref not in found and b.kinds.get(ref) == "view":
            found.add(ref)
            todo.extend(b.models[ref].refs)
    return [n for n in b.models if n in found]


def write_run_results(project: Project, result: BuildResult, path: Path) -> None:
    """run_results.json: the build's figures and timings, for scripts (like dbt's); written aside
    to path and moved into place with the rest of the build."""
    document: dict[str, Any] = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": result.command,
        "elapsed_seconds": round(result.seconds, 3),
        "vars": project.vars,
        "database": str(result.database),
        "sources": [{"source": name, "path": project.show(path), "bytes": size}
                    for name, path, size in result.sources],
        "models": [{"name": m.name, "rows": m.rows, "seconds": round(m.seconds, 3),
                    "materialized": m.materialized, "depends_on": m.depends_on, "role": m.role}
                   for m in result.models],
        "tests": [{"name": t.test.name, "status": "pass" if t.passed else "fail", "failures": t.failures,
                   "rows": "added" if t.test.new_rows else "all"} for t in result.tests],
        "accounting": result.accounting.as_dict() if result.accounting else None,
        "log_parse": result.parse or None,
        "steps": {name: round(seconds, 3) for name, seconds in result.steps.items()},
        "figures": result.figures,
        "build_id": result.build_id,
        "exports": [{"format": e.format, "model": e.model, "path": str(e.path), "rows": e.rows,
                     "left_out": e.left_out, "shards": [str(e.path / s) for s in e.shards]}
                    for e in result.exports],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
