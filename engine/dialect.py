"""The models are written in DuckDB's SQL; for another target each is transpiled by SQLGlot at render
time, then checked for what SQLGlot transpiles without a word although the target cannot run it, or
runs it differently (README, Past one machine, has the list and how the macros avoid each one)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import CompileError

SQLGLOT_DIALECTS = {"spark": "spark"}


@dataclass(frozen=True)
class Construct:
    """A construct the target runs wrongly: a regular expression over one token of the transpiled
    SQL (its type, then its text), what goes wrong and what to write instead."""

    token: str      # the token's type name in SQLGlot, e.g. STRING, VAR, UPDATE
    pattern: str    # matched against the token's text
    wrong: str
    instead: str


SPARK_WRONG = (
    Construct("STRING", r"\\b", r"\b in a pattern counts CJK letters as word characters in Java, so "
              r"numbers glued to Chinese text are not matched", "write the pattern through regex() "
              "(macros/text.sql)"),
    Construct("VAR", r"(?i)^read_json$", "read_json has no Spark form", "read the log with log_records() "
              "(macros/records.sql)"),
    Construct("UPDATE", r".", "plain Spark tables have no UPDATE", "write the hook as a dispatch macro "
              "whose spark__ version SELECTs the new rows (macros/repeats.sql)"),
    Construct("VAR", r"(?i)^(regexp_full_match|json_type)$", "this DuckDB function is not Spark's",
              "use full_match() or json_kind() (macros/text.sql)"),
    Construct("VAR", r"(?i)^json_object$", "Spark has no JSON type to mix JSON objects in one list",
              "write the object through json_message() (macros/chat.sql), a JSON text on Spark"),
    Construct("VAR", r"(?i)^json_transform$", "DuckDB's json_transform has no Spark form",
              "read JSON through a dispatch macro, as read_openwebui() does (macros/openwebui.sql: a "
              "VARIANT on Spark)"),
    Construct("VAR", r"(?i)^ubigint$", "Spark has no unsigned integers", "use adapter.dispatch('hex_number') "
              "(macros/split.sql)"),
    Construct("VAR", r"(?i)^hash$", "Spark's hash() is 32 bits, DuckDB's 64", "use xxhash64() on Spark, "
              "through a dispatch macro"),
)
CHR = re.compile(r"(?i)\bchr\s*\(\s*(\d+)\s*\)")
NAMED_WINDOW_ORDER = re.compile(r"(?i)\bover\s*\(\s*\w+\s+order\s+by")
ORDERED_AGGREGATE = re.compile(r"(?i)\b(list|array_agg)\s*\(")


def translate(sql: str, target: str, where: str) -> str:
    """DuckDB SQL as the target's, refused when it holds a construct the target runs wrongly."""
    try:
        import sqlglot
        from sqlglot.errors import SqlglotError
    except ImportError as e:
        raise CompileError(f"{where}: the {target} target transpiles the models with SQLGlot, which is "
                           f"not installed; pip install -e '.[spark]'") from e

    check_ordered_lists(sql, target, where)
    try:
        translated = ";\n".join(sqlglot.transpile(sql, read="duckdb", write=SQLGLOT_DIALECTS[target],
                                                   pretty=True))
    except SqlglotError as e:
        raise CompileError(f"{where}: SQLGlot cannot read it as DuckDB SQL ({str(e).splitlines()[0]}); "
                           f"fix the model") from e
    check_constructs(translated, target, where)
    return translated


def check_constructs(sql: str, target: str, where: str) -> None:
    """Refuse the first known-wrong construct, naming the line of the transpiled SQL (as `python cli.py
    compile --target ...` prints it).

    >>> check_constructs("SELECT CHR(12288)", "spark", "models/x.sql")
    Traceback (most recent call last):
    ...
    engine.errors.CompileError: models/x.sql, line 1 of its spark SQL: chr(12288): Spark's chr() wraps above 255 (chr(n % 256)); write the character in a text literal (macros/text.sql, whitespace)
    """
    from sqlglot import Dialect

    def refuse(line: int, what: str, wrong: str, instead: str) -> None:
        raise CompileError(f"{where}, line {line} of its {target} SQL: {what}: {wrong}; {instead}")

    lines = sql.splitlines()
    for number, text in enumerate(lines, 1):
        for match in CHR.finditer(text):
            if int(match.group(1)) > 255:
                refuse(number, match.group(0).lower().replace(" ", ""), "Spark's chr() wraps above 255 "
                       "(chr(n % 256))", "write the character in a text literal "
                       "(macros/text.sql, whitespace)")
        if NAMED_WINDOW_ORDER.search(text):
            refuse(number, "OVER (w ORDER BY ...)", "Spark cannot add an ORDER BY to a named window",
                   "write the window out in full in each OVER (...)")
    for token in Dialect.get_or_raise(SQLGLOT_DIALECTS[target]).tokenize(sql):  # (its own escapes)
        for construct in SPARK_WRONG:
            if token.token_type.name == construct.token and re.search(construct.pattern, token.text):
                refuse(token.line, token.text if construct.token != "STRING" else repr(token.text)[:60],
                       construct.wrong, construct.instead)


def check_ordered_lists(sql: str, target: str, where: str) -> None:
    """DuckDB's list(x ORDER BY y) becomes an unordered collect_list: refuse it, naming its line of
    the DuckDB SQL (as `python cli.py compile` prints it), before it is transpiled.

    >>> check_ordered_lists("select\\n  list(x order by y) from t", "spark", "models/x.sql")
    Traceback (most recent call last):
    ...
    engine.errors.CompileError: models/x.sql, line 2 of its DuckDB SQL: list(... ORDER BY ...): Spark's collect_list keeps no order; use ordered_list() (macros/chat.sql)
    """
    for match in ORDERED_AGGREGATE.finditer(sql):
        depth, i = 1, match.end()
        while i < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            if depth == 1 and re.match(r"(?i)\border\s+by\b", sql[i:i + 12]):
                line = sql.count("\n", 0, match.start()) + 1
                raise CompileError(f"{where}, line {line} of its DuckDB SQL: list(... ORDER BY ...): Spark's "
                                   f"collect_list keeps no order; use ordered_list() (macros/chat.sql)")
            i += 1
