"""Review by hand: the samples awaiting review out to a CSV, a reviewer's keep / drop decisions (and
corrected replies) back into fbt's state, where every later build honours them."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .clock import utc_stamp
from .commit import journal_path, roll_forward, settle
from .errors import DatabaseError, ReviewError
from .lock import build_lock
from .render import compile_models, quote_identifier
from .roles import declared
from .runner import connect_read_only, duckdb_errors
from .state import state_path, update_state
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb

    from .project import Project

SHOWN = ("feedback_id", "instruction", "output", "rating", "model_name", "times_rated", "timestamp")
ANSWERS = ("decision", "corrected_output")
DECISIONS = ("keep", "drop")


@dataclass
class ReviewExport:
    path: Path
    rows: int


@dataclass
class ReviewImport:
    kept: int = 0
    dropped: int = 0
    corrected: int = 0
    changed: int = 0     # decided before, decided again (the newest decision counts)
    blank: int = 0       # rows without a decision, left for later


def export_review(project: Project, output: Path | None = None) -> ReviewExport:
    """Write the last build's review_queue, less what was decided since, to a CSV (UTF-8 with a
    BOM, so Excel shows Chinese text) with empty decision and corrected_output columns."""
    path = output or project.path(f"data/review/to_review_{utc_stamp()}.csv")
    queue = declared(compile_models(project), "review_queue")
    settle(project.database, project.show(project.database))
    con = connect_read_only(project.database, project.show(project.database))
    try:
        with duckdb_errors(f"review export ({project.show(project.database)})", DatabaseError):
            tables = {r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
            if queue not in tables:
                raise ReviewError(f"{project.show(project.database)}: no {queue} table; run "
                                  f"`python cli.py build` first")
            decided = ""
            state = state_path(project)
            if state.is_file():
                con.execute(f"ATTACH {sql_literal(str(state))} AS fbt_state_file (READ_ONLY)")
                decided = "WHERE feedback_id NOT IN (SELECT feedback_id FROM fbt_state_file.review_decisions)"
            rows = con.execute(f"SELECT {', '.join(SHOWN)} FROM {quote_identifier(queue)} {decided} "
                               f"ORDER BY source_file, position").fetchall()
    finally:
        con.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with partial.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(SHOWN + ANSWERS)
        writer.writerows(tuple("" if v is None else v for v in row) + ("", "") for row in rows)
    os.replace(partial, path)
    return ReviewExport(path, len(rows))


def import_review(project: Project, file: Path) -> ReviewImport:
    """Read a reviewed CSV and store its decisions; any bad row stops the import before anything
    is stored, with every bad row named."""
    shown = project.show(file)
    rows = read_csv(file, shown)
    with build_lock(project.database, project.show(project.database)):
        roll_forward(journal_path(project.database))  # a killed build's commit first: it moves the state too
        result = ReviewImport()
        decisions = read_decisions(rows, known_feedback_ids(project), shown, result)
        for _, decision, corrected in decisions.values():
            result.kept += decision == "keep"
            result.dropped += decision == "drop"
            result.corrected += decision == "keep" and corrected is not None

        def change(con: duckdb.DuckDBPyConnection) -> None:
            # one statement for all rows: executemany runs one INSERT per row (78 s for 30,000)
            con.execute("CREATE TEMP TABLE imported AS SELECT unnest(?::VARCHAR[]) AS feedback_id, "
                        "unnest(?::VARCHAR[]) AS decision, unnest(?::VARCHAR[]) AS corrected_output",
                        [list(decisions), [d for _, d, _ in decisions.values()],
                         [c for _, _, c in decisions.values()]])
            result.changed = con.execute("SELECT count(*) FROM review_decisions "
                                         "SEMI JOIN imported USING (feedback_id)").fetchone()[0]
            con.execute("INSERT OR REPLACE INTO review_decisions SELECT feedback_id, decision, "
                        "corrected_output, now()::TIMESTAMP, ? FROM imported", [file.name])


        if decisions:
            update_state(project, change)
    return result


def read_decisions(rows: list[tuple[int, dict[str, str]]], known: set[str], shown: str,
                   result: ReviewImport) -> dict[str, tuple[int, str, str | None]]:
    """feedback_id -> (row, decision, corrected output) of every decided row (blank rows counted in
    result); a ReviewError naming every bad row when there is one."""
    decisions: dict[str, tuple[int, str, str | None]] = {}
    problems = []
    for line, row in rows:
        feedback_id = (row.get("feedback_id") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        corrected = (row.get("corrected_output") or "").strip() or None
        if not decision and not corrected:
            result.blank += 1
        elif feedback_id not in known:
            problems.append(f"row {line}: unknown feedback_id {feedback_id!r}")
        elif decision not in DECISIONS:
            problems.append(f"row {line}: decision {decision!r} is not keep or drop" +
                            (" (a corrected output needs keep)" if corrected and not decision else ""))
        elif feedback_id in decisions:
            problems.append(f"row {line}: feedback_id {feedback_id!r} again (row {decisions[feedback_id][0]})")
        else:
            decisions[feedback_id] = (line, decision, corrected)
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ReviewError(f"{shown}: {len(problems)} bad row(s), nothing imported: "
                          + "; ".join(problems[:5]) + more + ". Fix them and import the file again")
    return decisions


def read_csv(file: Path, shown: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a reviewed CSV with their row numbers; a BOM (Excel's "CSV UTF-8") is fine."""
    try:
        with file.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("feedback_id", "decision") if c not in (reader.fieldnames or [])]
            if missing:
                raise ReviewError(f"{shown}: no {', '.join(missing)} column; import the CSV that "
                                  f"`python cli.py review export` wrote, with a decision in each row")
            return list(enumerate(reader, start=2))  # row numbers as a spreadsheet shows them
    except UnicodeDecodeError as e:
        raise ReviewError(f"{shown}: not UTF-8 text (byte {e.start}); in Excel save it as "
                          f"\"CSV UTF-8\"") from e
    except csv.Error as e:
        raise ReviewError(f"{shown}: not a readable CSV ({e})") from e


def known_feedback_ids(project: Project) -> set[str]:
    """The feedback_ids of the valid feedback in the last build's database."""
    valid = quote_identifier(declared(compile_models(project), "valid"))
    con = connect_read_only(project.database, project.show(project.database))
    try:
        with duckdb_errors(f"review import ({project.show(project.database)})", DatabaseError):
            return {r[0] for r in con.execute(f"SELECT feedback_id FROM {valid}").fetchall()}
    finally:
        con.close()

