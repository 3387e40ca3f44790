"""Data tests, dbt style: generic ones declared in a model's config(tests=...) and rendered by the
test_* macros, singular ones as SQL files in models/tests/. Each is a query for failing rows.

A test may read only the rows the build adds to a table (`new_rows(model)` in its SQL): a build that
adds the log's new records' rows to the last build's table (engine/increment.py) then tests only
those, where the last build's rows passed the same test (its SQL, as it reads the whole table, is
the one recorded in the database as passed: record_passed); any other build reads every row."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .errors import CompileError, DataTestError
from .render import Relation, Rendered, Renderer, quote_identifier
from .runner import duckdb_errors, has_table
from .tail import SCHEMA
from .vars import suggest

if TYPE_CHECKING:
    import duckdb

SAMPLE_ROWS = 5
PASSED = f"{SCHEMA}.data_tests_passed"  # the tests the database's rows passed (record_passed)


@dataclass(frozen=True)
class DataTest:
    name: str          # unique_training_samples_feedback_id
    where: str         # the file that declares it
    sql: str
    new_rows: bool = False  # reads only the rows the build added (over_new_rows)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class TestResult:
    test: DataTest
    failures: int
    columns: list[str]
    sample: list[tuple]

    @property
    def passed(self) -> bool:
        return self.failures == 0


def collect_tests(renderer: Renderer, models: dict[str, Rendered]) -> list[DataTest]:
    """Every data test of the project, generic ones first, in model order."""
    tests = []
    for model in models.values():
        where = renderer.project.show(model.path)
        for column, declared in model.config.get("tests", {}).items():
            for item in declared:
                name, args = (item, {}) if isinstance(item, str) else next(iter(item.items()))
                args = args if isinstance(args, dict) else {"values": args}
                macro = renderer.env.globals.get(f"test_{name}")
                if macro is None:
                    known = [g[5:] for g in renderer.env.globals if g.startswith("test_")]
                    raise CompileError(f"{where}: config(tests=...) names an unknown test '{name}'."
                                       f"{suggest(name, known)} Define macro test_{name} in macros/")
                try:
                    sql = macro(Relation(model.name), quote_identifier(column), **args)
                except TypeError as e:
                    raise CompileError(f"{where}: test '{name}' on {column}: {e}") from e
                tests.append(DataTest(f"{name}_{model.name}_{column}", where, str(sql)))
    for sql_file in renderer.project.data_tests.values():
        rendered = renderer.render(sql_file)
        tests.append(DataTest(sql_file.name, renderer.project.show(sql_file.path), rendered.sql))
    return tests


def over_new_rows(whole: list[DataTest], in_part: list[DataTest], passed: dict[str, str]) -> list[DataTest]:
    """Each test as it reads only the rows the build adds (in_part: rendered with them) where the
    other rows passed it as it is (whole: its digest is the one recorded, passed); else whole."""
    return [replace(part, new_rows=True) if part.sql != test.sql and passed.get(test.name) == test.digest else test
            for test, part in zip(whole, in_part, strict=True)]


def passed_tests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """test -> the digest of its SQL, for the tests the database's rows passed (record_passed)."""
    if not has_table(con, SCHEMA, PASSED.split(".")[1]):
        return {}
    return dict(con.execute(f"SELECT test, sql_digest FROM {PASSED}").fetchall())


def record_passed(con: duckdb.DuckDBPyConnection, whole: list[DataTest]) -> None:
    """The tests (as they read every row) that every row of the database now passes: only those."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {PASSED} (test VARCHAR, sql_digest VARCHAR)")
    if whole:
        con.executemany(f"INSERT INTO {PASSED} VALUES (?, ?)", [(t.name, t.digest) for t in whole])


def run_test(con: duckdb.DuckDBPyConnection, test: DataTest) -> TestResult:
    with duckdb_errors(test.where):
        failures = int(con.execute(f"SELECT count(*) FROM (\n{test.sql}\n)").fetchone()[0])
        if not failures:
            return TestResult(test, 0, [], [])
        cursor = con.execute(f"SELECT * FROM (\n{test.sql}\n) LIMIT {SAMPLE_ROWS}")
        return TestResult(test, failures, [d[0] for d in cursor.description], cursor.fetchall())


def run_tests(con: duckdb.DuckDBPyConnection, tests: list[DataTest],
              progress: Callable[[str], None]) -> list[TestResult]:
    """Every test run, each announced as it is taken."""
    results = []
    for data_test in tests:
        progress(f"test {data_test.name} ...")
        results.append(run_test(con, data_test))
    return results


def require_passing(tests: list[TestResult]) -> list[TestResult]:
    """The results, when every data test passed; else a DataTestError naming the first failure."""
    failed = [t for t in tests if not t.passed]
    if failed:
        more = f" ({len(failed) - 1} more test(s) failed)" if len(failed) > 1 else ""
        raise DataTestError(describe_failure(failed[0]) + "; nothing was exported" + more)
    return tests


def describe_failure(result: TestResult) -> str:
    """One line: the test, how many rows fail, and a sample of them."""
    sample = "; ".join(
        ", ".join(f"{c}={shorten(v)}" for c, v in zip(result.columns, row))
        for row in result.sample[:3])
    return (f"data test {result.test.name} ({result.test.where}) failed: {result.failures} "
            f"failing row(s), e.g. {sample}")




def shorten(value: Any, width: int = 60) -> str:
    """
    >>> shorten("x" * 100, 10)
    "'xxxxxxxx…"
    """
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"
