"""The spark target: the models run on Apache Spark, one session per process (started on first use:
7-15 s; or a client of a Spark Connect server, spark.remote), and each model's rows land in the
build's DuckDB database, so that the accounting, the data tests, the files, the report and `query`
read them as on the duckdb target, and the files are the same bytes. A target that names a `schema`
also keeps every model as a table of that database of the session's catalog (written by the
executors; the models after it read it there), in place of the last build's tables once the build
has committed (publish), and fbt's state too (merged with the state file's at the start). What this
does not do yet (README, Past one machine): write the files from Spark (they are laid out by the
same DuckDB writer, and each model's rows pass through the driver, so a model must fit there)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clock import utc_stamp
from .errors import DatabaseError, EngineError, LockError, ModelRunError, QueryError, SourceError
from .interrupts import defer_as_fbt, interrupted, on_signal, uninterrupted
from .logcheck import LOG, describe
from .query import BATCH, Answer
from .render import Rendered, quote_identifier
from .runner import duckdb_errors, system_errors
from .sparklog import UNREADABLE, read_log
from .state import TABLES as STATE_TABLES
from .state import merge_rows
from .target import Target

if TYPE_CHECKING:
    import duckdb
    import pyarrow
    from pyspark.sql import DataFrame, SparkSession

SESSIONS: dict[tuple, SparkSession] = {}
# Tables of a schema (a spark target's `schema`): <model>, fbt_state__<table>, and while a build runs
BUILDING = "__fbt_building_"  # <model>__fbt_building_<run>_<step>: a table of a build not yet committed
REPLACED = "__fbt_replaced_"  # <model>__fbt_replaced_<run>: the last build's, aside as the new moves in
STATE = "fbt_state__"         # fbt's state: fbt_state__review_decisions, ...
LOCK = "fbt_lock"             # a view, while a build writes the schema, naming it in its properties (lock)
# pyspark 4.3 warns that pandas 3 is newer than it knows
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)


def spark_session(target: Target) -> SparkSession:
    """The target's Spark session: the one this process started for the same settings, else a new
    one; a Spark Connect session when the target has a spark.remote (an sc:// URL, or local[N] for a
    Connect server started in this process)."""
    conf = target.spark_conf()
    key = tuple(sorted(conf.items()))
    handled = (signal.getsignal(signal.SIGINT) is on_signal  # (fbt's: failures_in_one_line, the CLI's)
               and threading.current_thread() is threading.main_thread())
    try:
        if key not in SESSIONS:
            SESSIONS[key] = start_session(target, dict(conf))
    finally:
        if handled:  # a SparkContext puts its own in place of fbt's: fbt's again, cancelling its jobs
            session = SESSIONS.get(key)
            classic = session is not None and "spark.remote" not in conf
            defer_as_fbt(session.sparkContext.cancelAllJobs if classic else None)
    return SESSIONS[key]


def start_session(target: Target, conf: dict[str, str]) -> SparkSession:
    """A new Spark session of the target's settings (conf): spark_session."""
    remote = conf.pop("spark.remote", None)
    where = f"--target {target.name}"
    starting = f"{where}: starting Spark" + (f" Connect at {remote}" if remote else "")
    require_spark(where, remote)
    from pyspark.sql import SparkSession

    if remote:
        with spark_errors(starting, DatabaseError):
            reach(where, remote)
    refuse_other_mode(where, remote)
    for logger in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):  # fbt says it, in one line
        logging.getLogger(logger).setLevel(logging.CRITICAL)
    local = (remote or conf.get("spark.master", "")).startswith("local")
    if not remote or local:  # the driver is this process's: stderr is fbt's progress
        conf.setdefault("spark.ui.showConsoleProgress", "false")
    if local:  # the workers run this Python
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if remote:  # fbt says what failed (a Connect session has no SparkContext to setLogLevel on)
            conf.setdefault("spark.log.level", "FATAL")
    builder = SparkSession.builder.appName("fbt")
    if remote:
        builder = builder.remote(remote)
    for name, value in conf.items():
        builder = builder.config(name, value)
    with spark_errors(starting, DatabaseError), warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", UserWarning)
        session = builder.getOrCreate()
    # Connect sets each setting on the session: a local server was started with them all, a
    # running one refuses those of its start (spark.executor.memory, ...)
    refused = list(dict.fromkeys(m.group(1) for w in said
                                 if (m := re.match(r"Failed to set (\S+) to", str(w.message)))))
    for w in said:
        if not str(w.message).startswith("Failed to set "):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if refused and not local:
        raise DatabaseError(f"{where}: Spark Connect at {remote} keeps its own {', '.join(refused)} "
                            f"(settings of the server's start, not of a session); set them where the "
                            f"server starts and remove them from the target in pyproject.toml")
    if not remote:
        session.sparkContext.setLogLevel("FATAL")
    return session


def require_spark(where: str, remote: str | None) -> None:
    """A DatabaseError saying what to install when this machine lacks what the session needs: Java
    (unless the session is a remote server's), pyspark, and for Spark Connect its client's packages."""
    if (not remote or remote.startswith("local")) and not os.environ.get("JAVA_HOME") \
            and shutil.which("java") is None:
        raise DatabaseError(f"{where}: Spark needs Java 17+ and there is no java on PATH "
                            f"(nor JAVA_HOME); install one (Debian: apt-get install "
                            f"openjdk-17-jre-headless) or build without --target")
    try:
        import pyspark.sql  # noqa: F401
    except ImportError as e:
        raise DatabaseError(f"{where}: pyspark is not installed; pip install -e '.[spark]' "
                            f"(and a Java 17+ runtime)") from e
    if remote:
        from pyspark.errors import PySparkImportError

        try:
            from pyspark.sql.connect.utils import check_dependencies

            check_dependencies()
        except (ImportError, PySparkImportError) as e:
            raise DatabaseError(f"{where}: Spark Connect's client is not installed ({e}); "
                                f"pip install -e '.[spark]'") from e


def refuse_other_mode(where: str, remote: str | None) -> None:
    """A DatabaseError when this process already runs Spark of the other kind: pyspark keeps one
    mode a process (a local Connect server is a classic SparkContext here, and once Connect is on,
    every session and column pyspark makes is a Connect one)."""
    from pyspark.sql.utils import is_remote

    running = [dict(k).get("spark.remote") for k in SESSIONS]
    if any(bool(r) != bool(remote) for r in running) or (not remote and is_remote()):
        kinds = ("classic Spark", "Spark Connect") if remote else ("Spark Connect", "classic Spark")
        raise DatabaseError(f"{where}: this process already runs {kinds[0]}, and pyspark keeps one "
                            f"mode a process; run {kinds[1]} in another process")


def reach(where: str, remote: str, seconds: float = 10) -> None:
    """A DatabaseError when the Spark Connect server of an sc:// URL cannot be reached: the first
    failed connection, or no answer within seconds (pyspark's client would retry for ten minutes
    before saying so)."""
    if remote.startswith("local"):
        return

    import grpc
    from pyspark.sql.connect.client import DefaultChannelBuilder

    channel = DefaultChannelBuilder(remote).toChannel()
    states: list[grpc.ChannelConnectivity] = []
    settled = threading.Event()

    def note(state: grpc.ChannelConnectivity) -> None:
        if state in (grpc.ChannelConnectivity.READY, grpc.ChannelConnectivity.TRANSIENT_FAILURE):
            states.append(state)
            settled.set()

    channel.subscribe(note, try_to_connect=True)
    try:
        settled.wait(seconds)
    finally:
        channel.unsubscribe(note)
        channel.close()
    if not states or states[0] != grpc.ChannelConnectivity.READY:
        said = "refuses the connection" if states else f"does not answer within {seconds:g} s"
        raise DatabaseError(f"{where}: Spark Connect at {remote} {said}; start its server "
                            f"(sbin/start-connect-server.sh) or fix the target's spark.remote "
                            f"in pyproject.toml")


@contextmanager
def spark_errors(where: str, error: type[Exception] = ModelRunError) -> Iterator[None]:
    """A Spark failure (analysis, parse, a task's) as an EngineError naming where, on one line."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as e:
        raise error(f"{where}: Spark: {spark_says(str(e))}") from e


def spark_says(message: str) -> str:
    """The line of a Spark error that says what went wrong: a Python worker's exception, else the first.

    >>> spark_says("An exception was thrown from the Python worker: Traceback\\n  File x\\nValueError: bad")
    'ValueError: bad'
    >>> spark_says('<_InactiveRpcError of RPC that terminated with:\\n\\tstatus = StatusCode.UNIMPLEMENTED\\n'
    ...            '\\tdetails = "Received http2 header with status: 404"\\n>')
    'StatusCode.UNIMPLEMENTED: Received http2 header with status: 404'
    """
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    grpc_said = dict(re.findall(r"^\s*(status|details) = (.*)$", message, re.MULTILINE))
    if lines and lines[0].startswith("<_InactiveRpcError") and grpc_said:  # Connect's transport failed
        return ": ".join(v.strip('"') for v in grpc_said.values())
    raised = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception): ", line)]
    return raised[-1] if raised and "Python worker" in lines[0] else (lines[0] if lines else "no message")


CALLS_JAVA = {"reflect", "java_method", "try_reflect"}  # Spark SQL functions that call any Java method
GENERATORS = {"explode", "explode_outer", "posexplode", "posexplode_outer", "inline", "inline_outer",
              "stack", "range"}  # the functions query may read rows from (DuckDB's range(), unnest)


def query_tables(target: Target, sql: str, limit: int = 0) -> Answer:
    """`query --target`: one read-only statement of DuckDB SQL (check_statements has read it),
    transpiled as the models are, on the tables of the target's schema; rows streamed to the
    driver (at most limit; 0: all), the rest counted on the cluster."""
    from .dialect import translate

    where = f"query --target {target.name}"
    schema = target.settings.get("schema")
    if not schema:
        raise QueryError(f"{where}: the target keeps no tables (its models are views of the build's "
                         f"session); set schema = \"fbt\" in [tool.fbt.targets.{target.name}] and build, or "
                         f"query the last build's database without --target")
    spark_sql = translate(sql, "spark", where)
    spark = spark_session(target)
    with spark_errors(where, QueryError):
        views = {r.viewName.lower() for r in spark.sql(f"SHOW VIEWS IN {spark_name(schema)}").collect()
                 if not r.isTemporary}  # (a view runs whatever SQL its owner wrote)
        tables = listed_tables(spark, schema) - views
        functions = {r.function.lower() for r in spark.sql("SHOW SYSTEM FUNCTIONS").collect()}
        frame = spark.sql(confine_to_schema(spark_sql, schema, where, tables, functions, views))
        columns = frame.columns
    answer = Answer(columns)

    def batches() -> Iterator[list[tuple]]:
        with spark_errors(where, QueryError):
            rows, shown = (frame.limit(limit) if limit else frame).toLocalIterator(), 0
            while batch := [tuple(row) for row in islice(rows, BATCH)]:
                shown += len(batch)
                yield batch
            if limit and shown == limit:  # (there may be more)
                answer.left_out = max(frame.count() - limit, 0)

    answer.batches = batches()
    return answer


def confine_to_schema(spark_sql: str, schema: str, where: str, tables: set[str], functions: set[str],
                      views: set[str]) -> str:
    """The statement as Spark is to run it, each table named in schema (not a temporary view of the
    session), without comments; a QueryError unless it is one query, or DESCRIBE of a table, that
    reads only tables (of schema; not its views, which run whatever SQL their owners wrote, this
    check's refusals included) and rows of generators, and calls only Spark's built-in functions
    (functions, lower case) and none that runs Java code. Spark has no setting that confines a
    session as DuckDB's do (engine/query.py), and it substitutes ${...} in the text before it
    parses it (in comments too): a statement holding one is refused."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.qualify_tables import qualify_tables

    def refuse(what: str) -> QueryError:
        return QueryError(f"{where}: {what}; on Spark, query reads only the tables of schema {schema}")

    try:
        trees = sqlglot.parse(spark_sql, read="spark")
    except SqlglotError as e:
        raise QueryError(f"{where}: SQLGlot cannot read its Spark SQL ({str(e).splitlines()[0]})") from e
    if len(trees) != 1:
        raise QueryError(f"{where}: on Spark, query runs one statement at a time; got {len(trees)}")
    tree = trees[0]
    described = isinstance(tree, exp.Describe) and isinstance(tree.this, exp.Table)
    if not (isinstance(tree, exp.Query) or described):
        raise QueryError(f"{where}: on Spark, query runs one SELECT (or DESCRIBE of a table)")
    named = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            function = table.this.name if isinstance(table.this, exp.Anonymous) else table.this.sql_name()
            if function.lower() not in GENERATORS:
                raise refuse(f"reads {table.this.sql('spark')}")
            continue
        qualifier = ".".join(part for part in (table.catalog, table.db) if part).lower()
        if not qualifier and table.name.lower() in named:
            continue  # (a CTE)
        if qualifier not in ("", schema.lower(), f"spark_catalog.{schema.lower()}"):
            raise refuse(f"reads {table.sql('spark')} (a file, as format.`path`, is not read)")
        if table.name.lower() in views:
            raise refuse(f"reads {table.name}, a view (it runs whatever SQL its owner wrote)")
        if table.name.lower() not in tables:
            raise refuse(f"reads {table.name}, which schema {schema} does not have")
    for call in tree.find_all(exp.Func):
        name = (call.name if isinstance(call, exp.Anonymous) else call.sql_name()).lower()
        if name in CALLS_JAVA:
            raise QueryError(f"{where}: calls {name}(), which runs Java code; query only reads")
        if isinstance(call, exp.Anonymous) and name not in functions or isinstance(call.parent, exp.Dot):
            raise refuse(f"calls {call.sql('spark')}, which is not one of Spark's built-in functions")
    text = qualify_tables(tree, db=exp.to_identifier(schema, quoted=True)).sql("spark", comments=False)
    if "${" in text:
        raise QueryError(f"{where}: holds ${{...}}, which Spark would replace before it reads the "
                         f"statement; write it another way")
    return text


class SparkRun:
    """One build's models on Spark: the logs and fbt's state registered as temporary views, then each
    model computed there, kept (a temporary view of its rows, or with a schema a table of it) for
    the models after it, and copied into the build's DuckDB database."""

    def __init__(self, target: Target, con: duckdb.DuckDBPyConnection, sources: dict[str, Path],
                 forget: Iterable[str] = (), models: bool = True):
        self.spark = spark_session(target)
        self.con = con
        self.schema = target.settings.get("schema")  # where the models' tables are kept; None: nowhere
        self.tables: dict[str, str] = {}  # model -> its table of this build, when kept in the schema
        self.pending: set[str] = set()    # this build's tables in the schema, not yet in place (discard)
        self.steps = 0  # tables written (a model with post hooks writes one a step)
        self.run = uuid.uuid4().hex[:8]  # in the names of this build's tables
        self.state: dict[str, pyarrow.Table] = {}  # the catalog's copy of fbt's state, merged in
        self.locked = False  # this build holds the schema's lock (lock)
        self.views: set[str] = set()  # the temporary views the build made (view)
        try:
            self.register(target, sources, forget, models)
        except BaseException:  # (the build has no SparkRun to release it: clean_up)
            with suppress(EngineError):
                self.release()
            with suppress(EngineError):
                self.forget_views()
            raise

    def register(self, target: Target, sources: dict[str, Path], forget: Iterable[str], models: bool) -> None:
        """The schema locked, a killed build's tables mended and the catalog's state merged in (with
        a schema); the logs and fbt's state as temporary views, for the models (unless models is
        False: a run that only merges and publishes the state, share_state)."""
        con = self.con
        if self.schema:
            with spark_errors(f"--target {target.name}: schema {self.schema}", DatabaseError):
                self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {spark_name(self.schema)}")
                self.lock()
                self.restore()  # a killed build's
                self.discard(every_build=True)
                self.state = self.read_state([name for name in STATE_TABLES if name not in forget])
            for name, rows in self.state.items():
                with duckdb_errors(f"schema {self.schema}: table {STATE}{name}", DatabaseError):
                    merge_rows(con, f"state.{name}", rows)
        if not models:
            return
        for name, files in group_sources(sources).items():
            with unreadable_files(), spark_errors(f"source '{name}' ({files[0]})"):
                self.view(read_log(self.spark, files), f"fbt_source__{name}")
        for table in [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() "
                                                "WHERE schema_name = 'state'").fetchall()]:
            rows = con.sql(f"SELECT * FROM state.{quote_identifier(table)}").to_arrow_table()
            with spark_errors(f"state table {table}"):
                self.view(arrow_frame(self.spark, rows), f"fbt_state__{table}")

    def run_model(self, model: Rendered, duckdb_sql: str, where: str) -> int:
        """Compute the model on Spark (then its post hooks, each a SELECT of its new rows), and copy
        its rows into the DuckDB database as a table, in the columns and types DuckDB gives the
        model's DuckDB SQL (duckdb_sql: its tables are there), so that a table is the same on both
        targets (a Spark DECIMAL that is DuckDB's DOUBLE, a JSON text that is DuckDB's JSON); its
        row count."""
        with spark_errors(where):
            rows = self.keep(model.name, self.spark.sql(expand_union_by_name(self.spark, model.sql)))
            for i, hook in enumerate(model.post_hooks, 1):
                with spark_errors(f"{where}: post_hook {i}"):
                    rows = self.keep(model.name, self.spark.sql(expand_union_by_name(self.spark, hook))
                                     .select(*[spark_name(c) for c in rows.column_names]))
        with duckdb_errors(where):
            columns = self.con.execute(f"DESCRIBE ({duckdb_sql})").fetchall()
        missing = [c[0] for c in columns if c[0] not in rows.column_names]
        if missing:
            raise ModelRunError(f"{where}: Spark's rows have no column {', '.join(missing)}; DuckDB's have")
        typed = ", ".join(f"CAST({quote_identifier(name)} AS {kind}) AS {quote_identifier(name)}"
                          for name, kind, *_ in columns)
        self.con.register("fbt_spark_rows", rows)
        try:
            with duckdb_errors(where):
                self.con.execute(f"CREATE OR REPLACE TABLE {quote_identifier(model.name)} AS "
                                 f"SELECT {typed} FROM fbt_spark_rows")
        finally:
            self.con.unregister("fbt_spark_rows")
        return rows.num_rows

    def keep(self, name: str, frame: DataFrame) -> pyarrow.Table:
        """The frame's rows, computed once, and kept under the model's name for the models after it:
        as a table of the target's schema, written by the executors (then read for DuckDB), else as
        Arrow on the driver, where they are copied into DuckDB anyway (one Spark job a model)."""
        if not self.schema:
            rows = frame.toArrow()
            self.view(self.spark.createDataFrame(rows, schema=frame.schema), name)
            return rows
        self.steps += 1
        table = self.qualified(f"{name}{BUILDING}{self.run}_{self.steps}")
        self.pending.add(table)
        voids = [f.name for f in frame.schema.fields if f.dataType.typeName() == "void"]
        if voids:  # (Parquet keeps no column of NULL's own type: a text one, NULL in every row)
            frame = frame.withColumns({c: frame[spark_name(c)].cast("string") for c in voids})
        frame.write.format("parquet").saveAsTable(table)
        self.tables[name] = table
        kept = self.spark.table(table)
        self.view(kept, name)
        return kept.toArrow()

    def view(self, frame: DataFrame, name: str) -> None:
        """The frame as a temporary view of the session, for the models after it (forget_views)."""
        frame.createOrReplaceTempView(name)
        self.views.add(name)

    def forget_views(self) -> None:
        """The build's temporary views dropped: they would shadow the schema's tables of the same
        names (a view of a table renamed since) for what runs next in the session (query)."""
        with spark_errors("the build's temporary views", DatabaseError):
            for name in sorted(self.views):
                self.spark.catalog.dropTempView(name)
        self.views.clear()

    def qualified(self, name: str) -> str:
        return f"{spark_name(self.schema)}.{spark_name(name)}"

    def listed(self) -> set[str]:
        return listed_tables(self.spark, self.schema)

    def publish(self) -> list[str]:
        """This build's tables in place of the last build's, each under its model's name (the step
        after the commit: a failed build leaves the last build's tables as they were); the names."""
        with spark_errors(f"schema {self.schema}: listing its tables", DatabaseError):
            published, present = [], self.listed()
        with uninterrupted():
            for name, table in self.tables.items():
                self.swap(table, name, present)
                self.pending.discard(table)
                published.append(f"{self.schema}.{name}")
        self.tables.clear()
        self.discard()
        return published

    def swap(self, table: str, name: str, present: set[str]) -> None:
        """A table in the place of the schema's table called name: that one renamed aside, the new
        one renamed in, the old one dropped (a build killed in between leaves the old one aside: the
        next one puts it back, restore)."""
        aside = self.qualified(f"{name}{REPLACED}{self.run}")
        with spark_errors(f"schema {self.schema}: table {name}", DatabaseError):
            if name.lower() in present:
                self.spark.sql(f"ALTER TABLE {self.qualified(name)} RENAME TO {aside}")
            self.spark.sql(f"ALTER TABLE {table} RENAME TO {self.qualified(name)}")
        with suppress(DatabaseError), spark_errors(aside, DatabaseError):  # (else the next build's restore)
            self.spark.sql(f"DROP TABLE IF EXISTS {aside}")

    def restore(self) -> None:
        """After a build killed while it put its tables in place: each table it had set aside back
        in its place when nothing took it, else dropped."""
        present = self.listed()
        for aside in sorted(n for n in present if REPLACED in n):
            name = aside.split(REPLACED)[0]
            if name in present:
                self.spark.sql(f"DROP TABLE {self.qualified(aside)}")
            else:
                self.spark.sql(f"ALTER TABLE {self.qualified(aside)} RENAME TO {self.qualified(name)}")

    def lock(self) -> None:
        """One build at a time writes the schema, on whichever machine it runs: the build creates the
        schema's view fbt_lock (the metastore refuses, in one step, a view that exists), naming
        itself in the view's properties, and drops it when it ends (release). A view left by a
        process of this machine that is gone (a killed build: the same host, boot and pid namespace,
        no process of its pid started when it did) is taken over; LockError, naming the holder, when
        another build holds it. (Taking over is a read, then a drop of the view only if it is still
        the dead build's: two builds taking over at that very moment could both drop it.)"""
        from pyspark.errors import PySparkException

        me = {**this_process(), "fbt.run": self.run, "fbt.since": utc_stamp()}
        properties = ", ".join(f"'{key}' = '{value}'" for key, value in me.items())
        other: dict[str, str] = {}
        for _ in range(3):
            try:
                self.spark.sql(f"CREATE VIEW {self.qualified(LOCK)} TBLPROPERTIES ({properties}) AS SELECT 1")
                self.locked = True
                return
            except PySparkException as e:
                if "ALREADY_EXISTS" not in str(e) and "already exists" not in str(e).lower():
                    raise
            try:
                other = self.lock_holder()
            except PySparkException:  # (dropped meanwhile: try again)
                continue
            if not gone(other):
                break
            with suppress(PySparkException):
                if self.lock_holder().get("fbt.run") == other.get("fbt.run"):  # (still the dead one's)
                    self.spark.sql(f"DROP VIEW IF EXISTS {self.qualified(LOCK)}")
        held = f"host {other.get('fbt.host')}, pid {other.get('fbt.pid')}, since {other.get('fbt.since')}"
        raise LockError(f"schema {self.schema}: another build writes it ({held}); wait for it to end, "
                        f"or, if it no longer runs, drop view {self.schema}.{LOCK} and build again")

    def lock_holder(self) -> dict[str, str]:
        """The properties of the schema's lock: who holds it."""
        return {r[0]: r[1] for r in self.spark.sql(f"SHOW TBLPROPERTIES {self.qualified(LOCK)}").collect()}

    def release(self) -> None:
        """The schema's lock dropped, when this build holds it."""
        if not self.locked:
            return
        with spark_errors(f"schema {self.schema}: its lock", DatabaseError):
            if self.lock_holder().get("fbt.run") == self.run:
                self.spark.sql(f"DROP VIEW IF EXISTS {self.qualified(LOCK)}")
        self.locked = False

    def read_state(self, names: Iterable[str]) -> dict[str, pyarrow.Table]:
        """The state tables named that the schema holds (fbt_state__<table>), as Arrow, times as they
        were written."""
        present = self.listed()
        return {name: self.spark.table(self.qualified(STATE + name)).toArrow()
                for name in names if STATE + name in present}

    def publish_state(self, tables: dict[str, pyarrow.Table]) -> None:
        """fbt's state, as the build committed it (the file's, with the catalog's merged in), in
        place of the schema's copy: each table written whole aside, then swapped in; times without
        a time zone (as the file keeps them, whatever the session's)."""
        from pyspark.sql.types import TimestampType

        with spark_errors(f"schema {self.schema}: listing its tables", DatabaseError):
            present = self.listed()
        for name, rows in tables.items():
            written = self.qualified(f"{STATE}{name}{BUILDING}{self.run}_0")
            self.pending.add(written)
            with spark_errors(f"schema {self.schema}: table {STATE}{name}", DatabaseError):
                frame = arrow_frame(self.spark, rows)
                times = [f.name for f in frame.schema.fields if isinstance(f.dataType, TimestampType)]
                frame = frame.withColumns({c: frame[c].cast("timestamp_ntz") for c in times})
                frame.write.format("parquet").saveAsTable(written)
            with uninterrupted():
                self.swap(written, STATE + name, present)
            self.pending.discard(written)

    def close(self) -> None:
        """However the run ended: the tables it did not publish dropped (else the next build on the
        schema drops them), its lock released (else the next build on this machine takes over a
        dead one's) and its temporary views dropped."""
        for step in (self.discard, self.release, self.forget_views):
            with suppress(EngineError):
                step()

    def discard(self, every_build: bool = False) -> None:
        """Drop the tables this build made and did not publish (all of them when it failed; the
        intermediate steps of a model with post hooks), or, found in the schema's listing, those of
        every build (a killed one's: one build at a time writes a schema: lock)."""
        if not self.schema:
            return
        with spark_errors(f"schema {self.schema}: dropping the tables of a build", DatabaseError):
            if every_build:
                self.pending |= {self.qualified(table) for table in self.listed() if BUILDING in table}
            for table in sorted(self.pending):
                self.spark.sql(f"DROP TABLE IF EXISTS {table}")
                self.pending.discard(table)


def share_state(target: Target, tables: dict[str, pyarrow.Table]) -> dict[str, pyarrow.Table]:
    """Tables of fbt's state (the state file's, after `review import`) merged into the schema's copy,
    a key's newer row kept, and put in its place, under the schema's lock, as a build leaves them: a
    build on another driver then honours what was decided here before this driver builds. The
    merged tables."""
    import duckdb

    from .state import SCHEMA

    with duckdb.connect() as con:
        with system_errors("the state's tables, merged in memory"):
            con.execute(f"CREATE SCHEMA {SCHEMA}")
            for name, rows in tables.items():
                con.execute(f"CREATE TABLE {SCHEMA}.{name} ({STATE_TABLES[name]})")
                merge_rows(con, f"{SCHEMA}.{name}", rows)
        run = SparkRun(target, con, {}, [name for name in STATE_TABLES if name not in tables], models=False)
        try:
            with system_errors("the state's tables, merged in memory"):
                merged = {name: con.sql(f"SELECT * FROM {SCHEMA}.{name}").to_arrow_table() for name in tables}
            run.publish_state(merged)
        except BaseException:
            run.close()
            raise
        try:
            run.close()
        except KeyboardInterrupt:  # (Ctrl-C, SIGTERM) published: only the lock's release was cut short
            schema = target.settings["schema"]
            raise interrupted(f"the decisions are in the state file and in the catalog's {schema}; its lock "
                              f"is taken over by the next build on this machine") from None
        return merged


def read_shared_state(target: Target, name: str, tries: int = 3) -> pyarrow.Table | None:
    """The schema's copy of a table of fbt's state; None when the schema has none. Read without
    the schema's lock, which a build holds for as long as it runs: while a build puts its copy in
    place (swap), the last one is aside for a moment, and read there; a read that the swap cuts
    short (the table, or its files, gone under it) is tried again, the catalog's listing of the
    table's files refreshed."""
    spark, schema = spark_session(target), target.settings["schema"]
    table = STATE + name
    for attempt in range(1, tries + 1):
        read = ""
        try:
            with spark_errors(f"--target {target.name}: schema {schema}: table {table}", DatabaseError):
                if not spark.catalog.databaseExists(schema):
                    return None
                copies = sorted(t for t in listed_tables(spark, schema)
                                if t == table or t.startswith(table + REPLACED))  # (the table first)
                if not copies:
                    return None
                read = f"{spark_name(schema)}.{spark_name(copies[0])}"
                return spark.table(read).toArrow()
        except DatabaseError as e:
            if attempt == tries or not any(gone in f"{e} {e.__cause__}" for gone in GONE):
                raise
            time.sleep(0.5)
            if read:  # (gone for good: the next listing says)
                with suppress(DatabaseError), spark_errors(read, DatabaseError):
                    spark.catalog.refreshTable(read)
    return None


# what Spark says of a table, or a file of it, that a build's swap removed during a read
GONE = ("TABLE_OR_VIEW_NOT_FOUND", "FILE_NOT_EXIST", "PATH_NOT_FOUND", "FileNotFoundException")


def listed_tables(spark: SparkSession, schema: str) -> set[str]:
    """The names of the schema's tables (lower case, as the catalog keeps them)."""
    return {r.tableName.lower() for r in spark.sql(f"SHOW TABLES IN {spark_name(schema)}").collect()
            if not r.isTemporary}


def this_process() -> dict[str, str]:
    """This process, as a lock names it: the host, its boot, the pid namespace (containers share the
    host's boot), the pid and when the process started (pids are reused); '' where /proc does not
    say."""
    return {"fbt.host": socket.gethostname(), "fbt.boot": read_proc("sys/kernel/random/boot_id"),
            "fbt.pidns": str(proc_inode("self/ns/pid")), "fbt.pid": str(os.getpid()),
            "fbt.started": started(os.getpid())}


def gone(holder: dict[str, str]) -> bool:
    """Is the process a lock names one of this machine (host, boot, pid namespace) that no longer
    runs (no process of its pid started when it did)? False where that cannot be told."""
    me = this_process()
    here = all(holder.get(key) == me[key] and me[key] not in ("", "0")
               for key in ("fbt.host", "fbt.boot", "fbt.pidns"))
    since = holder.get("fbt.started", "")
    return here and bool(since) and started(holder.get("fbt.pid", "")) != since


def started(pid: int | str) -> str:
    """When process pid started (clock ticks since boot, /proc/<pid>/stat's 22nd field); '' when
    there is no such process."""
    stat = read_proc(f"{pid}/stat") if str(pid).isdigit() else ""
    return stat[stat.rindex(")") + 2:].split()[19] if ")" in stat else ""


def read_proc(name: str) -> str:
    try:
        return Path("/proc", name).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def proc_inode(name: str) -> int:
    try:
        return os.stat(Path("/proc", name)).st_ino
    except OSError:
        return 0


def spark_name(name: str) -> str:
    """A name as a Spark SQL identifier.

    >>> spark_name("fbt"), spark_name("a`b")
    ('`fbt`', '`a``b`')
    """
    return "`" + name.replace("`", "``") + "`"


def arrow_frame(spark: SparkSession, rows: pyarrow.Table) -> DataFrame:
    """A DataFrame of Arrow rows, given their schema (Spark Connect infers none from no rows), times
    with a time zone as createDataFrame infers them."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return spark.createDataFrame(rows, schema=from_arrow_schema(rows.schema, prefer_timestamp_ntz=False))


@contextmanager
def unreadable_files() -> Iterator[None]:
    """A file a worker could not read (engine/sparklog.py) as the SourceError DuckDB's target gives:
    where in the file, what, and what to do (logcheck.describe, which scans it again here)."""
    try:
        yield
    except ModelRunError as e:
        found = re.search(re.escape(UNREADABLE) + r"(.+)$", str(e))
        if not found:
            raise
        path = Path(found.group(1))
        raise SourceError(describe(path, str(e), LOG)) from e


def group_sources(sources: dict[str, Path]) -> dict[str, list[Path]]:
    """check_sources' files ('feedback', 'feedback:1', ...) by source, in order.

    >>> group_sources({"feedback": Path("a"), "feedback:1": Path("b")})
    {'feedback': [PosixPath('a'), PosixPath('b')]}
    """
    grouped: dict[str, list[Path]] = {}
    for key, path in sources.items():
        grouped.setdefault(key.split(":")[0], []).append(path)
    return grouped


def expand_union_by_name(spark: SparkSession, sql: str) -> str:
    """Spark SQL has no UNION ALL BY NAME: each one written out, a column list on each side (the
    first side's columns, then the second's new ones; NULL where a side has none), the columns
    found by asking Spark to analyse each side with the query's CTEs."""
    import sqlglot
    from sqlglot import exp

    if "BY NAME" not in sql.upper():
        return sql
    tree = sqlglot.parse_one(sql, read="spark")
    for union in list(tree.find_all(exp.Union)):
        if not union.args.get("by_name"):
            continue
        sides = [union.this, union.expression]
        columns = [side_columns(spark, tree, side) for side in sides]
        names = list(dict.fromkeys(columns[0] + columns[1]))
        selects = []
        for side, have in zip(sides, columns, strict=True):
            listed = ", ".join(f"`{n}`" if n in have else f"NULL AS `{n}`" for n in names)
            selects.append(f"SELECT {listed} FROM ({side.sql('spark')}) AS fbt_side")
        written = sqlglot.parse_one(" UNION ALL ".join(selects), read="spark")
        if union is tree:
            written.set("with_", tree.args.get("with_"))
            tree = written
        else:
            union.replace(written)
    return tree.sql("spark")


def side_columns(spark: SparkSession, tree: Any, side: Any) -> list[str]:
    """The columns of one side of a union, with the CTEs defined before the one it is in."""
    from sqlglot import exp

    with_ = tree.args.get("with_")
    query = side.copy()
    if with_ is not None:
        inside = side.find_ancestor(exp.CTE)
        ctes = with_.expressions
        earlier = ctes[:ctes.index(inside)] if inside in ctes else ctes
        if earlier:
            query.set("with_", exp.With(expressions=[cte.copy() for cte in earlier]))
    return spark.sql(query.sql("spark")).columns
