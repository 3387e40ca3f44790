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
    Construct("VAR", r"(?i)^ubigint$", "Spark has no unsigned integers", "use adapter.dispatch('hex_number') "
              "(macros/split.sql)"),
    Construct("VAR", r"(?i)^hash$", "Spark's hash() is 32 bits, DuckDB's 64", "use xxhash64() on Spark, "
              "through a dispatch macro"),
    Construct("VAR", r"(?i)^collect_list$", "collect_list keeps no order (DuckDB's list(... order by) "
              "does)", "use ordered_list() (macros/chat.sql)"),
)
CHR = re.compile(r"(?i)\bchr\s*\(\s*(\d+)\s*\)")
NAMED_WINDOW_ORDER = re.compile(r"(?i)\bover\s*\(\s*\w+\s+order\s+by")
UNORDERED = re.compile(r"(?i)\bsort_array\s*\(\s*collect_list\b")  # ordered_list's Spark form


def translate(sql: str, target: str, where: str) -> str:
    """DuckDB SQL as the target's, refused when it holds a construct the target runs wrongly."""
    import sqlglot
    from sqlglot.errors import SqlglotError

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
    from sqlglot.tokens import Tokenizer

    def refuse(line: int, what: str, wrong: str, instead: str) -> None:
        raise CompileError(f"{where}, line {line} of its {target} SQL: {what}: {wrong}; {instead}")

    lines = sql.splitlines()
    for number, text in enumerate(lines, 1):
        for match in CHR.finditer(text):
            if int(match.group(1)) > 255:
                refuse(number, match.group(0).lower().replace(" ", ""), "Spark's chr() wraps above 255 "
                       "(chr(n % 256))", "write the character in a text literal (macros/text.sql, whitespace)")
        if NAMED_WINDOW_ORDER.search(text):
            refuse(number, "OVER (w ORDER BY ...)", "Spark cannot add an ORDER BY to a named window",
                   "write the window out in full in each OVER (...)")
    ordered = {i for i, text in enumerate(lines, 1) if UNORDERED.search(text)}
    for token in Tokenizer(dialect=SQLGLOT_DIALECTS[target]).tokenize(sql):
        for construct in SPARK_WRONG:
            if token.token_type.name == construct.token and re.search(construct.pattern, token.text):
                if construct.pattern.endswith("collect_list$") and token.line in ordered:
                    continue
                refuse(token.line, token.text if construct.token != "STRING" else repr(token.text)[:60],
                       construct.wrong, construct.instead)
