"""Review by hand: the samples awaiting review out to a CSV, a reviewer's keep / drop decisions (and
corrected replies) back into fbt's state, where every later build honours them."""

from __future__ import annotations

import csv
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .clock import utc_stamp
from .commit import journal_path, roll_forward, settle
from .errors import DatabaseError, EngineError, InterruptError, ReviewError
from .interrupts import Deferral, interrupted, query_interrupted
from .lock import build_lock
from .render import compile_models, quote_identifier
from .roles import declared
from .runner import connect_read_only, duckdb_errors, tables_of
from .state import attach_waiting, read_state, state_path, update_state

if TYPE_CHECKING:
    import duckdb
    import pyarrow

    from .project import Project

SHOWN = ("feedback_id", "instruction", "output", "rating", "model_name", "times_rated", "timestamp")
ANSWERS = ("decision", "corrected_output")
DECISIONS = ("keep", "drop")
# A cell a spreadsheet would run as a formula (OWASP, CSV injection) is written with a leading "'"
FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[0-9]+([.,][0-9]+)?(E[+-]?[0-9]+)?", re.IGNORECASE)  # as Excel writes one
HINTS = {
    "ids": "Excel turned ids into numbers: export again and open the CSV in Excel with Data > From "
           "Text/CSV, setting feedback_id to Text (or edit the CSV in a text editor)",
    "edited": "Put a fixed reply in corrected_output, not in output (leave output as exported, or "
              "empty it); Excel also changes cells it reads as numbers or dates and cuts texts at "
              "32,767 characters",
}


@dataclass
class ReviewExport:
    path: Path
    rows: int
    warning: str = ""  # on a spark target with a schema: why the catalog's decisions were not left out


@dataclass
class ReviewImport:
    kept: int = 0
    dropped: int = 0
    corrected: int = 0
    changed: int = 0     # decided before, decided again (the newest decision counts)
    blank: int = 0       # rows without a decision, left for later
    shared: str = ""     # with a spark target's schema: where else the decisions are kept
    warning: str = ""    # ... or why they are not kept there yet


def export_review(project: Project, output: Path | None = None) -> ReviewExport:
    """Write the last build's review_queue, less what was decided since (in the state file, or, on
    a spark target with a schema, in the catalog's copy: on another driver), to a CSV (UTF-8 with a
    BOM, so Excel shows Chinese text) with empty decision and corrected_output columns."""
    path = output or project.path(f"data/review/to_review_{utc_stamp()}.csv")
    queue = declared(compile_models(project.on_duckdb()), "review_queue")  # (the build's database's)
    settle(project.database, project.show(project.database))
    con = connect_read_only(project.database, project.show(project.database))
    try:
        with duckdb_errors(f"review export ({project.show(project.database)})", DatabaseError):
            if queue not in tables_of(con):
                raise ReviewError(f"{project.show(project.database)}: no {queue} table; run "
                                  f"`python cli.py build` first")
            undecided = ""
            state = state_path(project)
            if state.is_file():
                attach_waiting(con, state, "fbt_state_file")
                undecided = "ANTI JOIN fbt_state_file.review_decisions USING (feedback_id)"
            rows = con.execute(f"SELECT {', '.join(f'q.{c}' for c in SHOWN)} FROM {quote_identifier(queue)} "
                               f"AS q {undecided} ORDER BY q.source_file, q.position").fetchall()
    finally:
        con.close()
    warning = ""
    if shared_schema(project):
        rows, warning = undecided_elsewhere(project, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(SHOWN + ANSWERS)
            writer.writerows(tuple(guard("" if v is None else v) for v in row) + ("", "")
                             for row in rows)
        os.replace(partial, path)
    except BaseException:  # a full disk, Ctrl-C: no half-written CSV left beside the wanted one
        partial.unlink(missing_ok=True)
        raise
    return ReviewExport(path, len(rows), warning)


def undecided_elsewhere(project: Project, rows: list[tuple]) -> tuple[list[tuple], str]:
    """The rows (feedback_id first) less those decided on another driver: in the spark target's
    catalog copy of the decisions; all of them, and a warning why, when it cannot be read."""
    from .spark import read_shared_state

    try:
        shared = read_shared_state(project.target, "review_decisions")
    except EngineError as e:
        return rows, (f"{e}; the CSV leaves out the decisions of {project.show(state_path(project))} only: "
                      f"a sample decided on another driver since this one last built may be in it again")
    decided = set(shared.column("feedback_id").to_pylist()) if shared is not None else set()
    return [row for row in rows if row[0] not in decided], ""


def guard(value: object) -> object:
    """A text a spreadsheet would run as a formula with a "'" before it; unguard undoes it.

    >>> guard('=1+1'), guard("'=1+1"), guard("'Tis"), guard('- a'), guard(5)
    ("'=1+1", "''=1+1", "'Tis", "'- a", 5)
    """
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA):
        return "'" + value
    return value


def unguard(cell: str) -> str:
    """A cell as the text it holds: the "'" that guard() puts before a formula-like text removed.

    >>> unguard("'=1+1"), unguard("''=1+1"), unguard("'Tis"), unguard('=1+1')
    ('=1+1', "'=1+1", "'Tis", '=1+1')
    """
    return cell[1:] if cell.startswith("'") and cell[1:].lstrip("'").startswith(FORMULA) else cell


def import_review(project: Project, file: Path) -> ReviewImport:
    """Read a reviewed CSV and store its decisions; any bad row stops the import before anything
    is stored, with every bad row named."""
    shown = project.show(file)
    rows = read_csv(file, shown)
    with build_lock(project.database, project.show(project.database)):
        roll_forward(journal_path(project.database))  # a killed build's commit first: it moves the state too
        result = ReviewImport()
        known, exported = read_last_build(project)
        decisions = read_decisions(rows, known, exported, shown, result)
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
                        "corrected_output, timezone('UTC', now()), ? FROM imported", [file.name])

        if decisions:
            update_state(project, change)
            share_decisions(project, result, set(decisions))
    return result


def shared_schema(project: Project) -> str:
    """The schema of the catalog that keeps a copy of fbt's state (a spark target's), or ''."""
    return project.target.settings.get("schema", "") if project.target.type == "spark" else ""


def share_decisions(project: Project, result: ReviewImport, imported: set[str]) -> None:
    """On a spark target with a schema, the state file's review decisions merged into the catalog's
    copy, so that a build on another driver honours them. If that fails, or is interrupted, the
    import stands (the file has them, and the next build with this target merges them into the
    catalog): result.warning, or the InterruptError, says so. result.warning also counts the
    imported decisions that the catalog holds a newer one of."""
    schema = shared_schema(project)
    if not schema:
        return
    stored = (f"the decisions are in {project.show(state_path(project))}, not yet in the catalog: the next "
              f"build with --target {project.target.name} puts them there")
    merged = None
    try:
        if Deferral.received:  # a signal during the state file's swap, deferred: the import stands
            raise KeyboardInterrupt
        from .spark import share_state

        mine = read_state(project, ["review_decisions"])
        merged = share_state(project.target, mine)["review_decisions"]
        newer = len(decided_at(merged, imported).items()
                    - decided_at(mine["review_decisions"], imported).items())
    except KeyboardInterrupt:  # (Ctrl-C, SIGTERM: interrupts.on_signal)
        raise interrupted(stored if merged is None else
                          f"the decisions are in {project.show(state_path(project))} and in the catalog's "
                          f"{schema}") from None
    except InterruptError:  # (after the catalog took them: share_state says so)
        raise
    except EngineError as e:
        result.warning = f"{e}; {stored}"
        return
    except RuntimeError as e:  # DuckDB's client, stopped by a signal
        if query_interrupted(e):
            raise interrupted(stored) from None
        raise
    result.shared = f"the Spark catalog's `{schema}`"
    if newer:
        result.warning = (f"{newer} of these samples {'has' if newer == 1 else 'have'} a later decision in "
                          f"the catalog (from another driver, or a clock ahead of this one's): the catalog "
                          f"keeps it, and the next build with --target {project.target.name} takes it")


def decided_at(decisions: pyarrow.Table, ids: set[str]) -> dict[str, object]:
    """When each of the ids was decided, in a table of review decisions."""
    ids_of, times = decisions.column("feedback_id").to_pylist(), decisions.column("decided_at").to_pylist()
    return {feedback_id: at for feedback_id, at in zip(ids_of, times, strict=True) if feedback_id in ids}


def read_decisions(rows: list[tuple[int, dict[str, str]]], known: set[str], exported: dict[str, str],
                   shown: str, result: ReviewImport) -> dict[str, tuple[int, str, str | None]]:
    """feedback_id -> (row, decision, corrected output) of every decided row (blank rows counted in
    result); a ReviewError naming every bad row when there is one. exported holds the output the
    last build put up for review, to tell an edited output cell."""
    decisions: dict[str, tuple[int, str, str | None]] = {}
    problems: list[str] = []
    hints: set[str] = set()
    unpadded = {k.lstrip("0"): k for k in known if k.isdigit() and k.startswith("0")}  # Excel: 001 -> 1
    for line, row in rows:
        feedback_id = unguard((row.get("feedback_id") or "").strip())
        decision = (row.get("decision") or "").strip().lower()
        corrected = unguard((row.get("corrected_output") or "").strip()).strip() or None
        output = unguard((row.get("output") or "").strip())
        if not decision and not corrected:
            result.blank += 1
        elif feedback_id not in known:
            hint = excel_hint(feedback_id, unpadded)
            problems.append(f"row {line}: unknown feedback_id {feedback_id!r}{hint}")
            hints.update(["ids"] if hint else [])
        elif decision not in DECISIONS:
            problems.append(f"row {line}: decision {decision!r} is not keep or drop" +
                            (" (a corrected output needs keep)" if corrected and not decision else ""))
        elif feedback_id in decisions:
            problems.append(f"row {line}: feedback_id {feedback_id!r} again (row {decisions[feedback_id][0]})")
        elif decision == "keep" and not corrected and output and feedback_id in exported \
                and same_text(output) != same_text(exported[feedback_id]):
            problems.append(f"row {line}: output edited, corrected_output empty")
            hints.add("edited")
        else:
            decisions[feedback_id] = (line, decision, corrected)
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ReviewError(f"{shown}: {len(problems)} bad row(s), nothing imported: "
                          + "; ".join(problems[:5]) + more
                          + "".join(f". {HINTS[h]}" for h in sorted(hints))
                          + ". Fix them and import the file again")
    return decisions


def excel_hint(feedback_id: str, unpadded: dict[str, str]) -> str:
    """Why an unknown id may be one Excel read as a number ('' when it does not look like one);
    unpadded maps the known ids with leading zeros, without them, to themselves."""
    if not NUMBER.fullmatch(feedback_id):
        return ""
    if feedback_id in unpadded:
        return f" (id {unpadded[feedback_id]!r} without its leading zeros?)"
    return " (Excel's number form of an id?)"


def same_text(text: str) -> str:
    """A text as compared with the one exported: line ends and surrounding white space as a
    spreadsheet may change them do not count."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def read_csv(file: Path, shown: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a reviewed CSV with their row numbers; a BOM (Excel's "CSV UTF-8") is fine, and
    so is a text of any length."""
    limit = csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # 131,072 characters by default
    try:
        with file.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            check_header(reader.fieldnames or [], shown)
            return list(enumerate(reader, start=2))  # row numbers as a spreadsheet shows them
    except UnicodeDecodeError as e:
        raise ReviewError(f"{shown}: not UTF-8 text (byte {e.start}); in Excel save it as "
                          f"\"CSV UTF-8\"") from e
    except csv.Error as e:
        raise ReviewError(f"{shown}: not a readable CSV ({e})") from e
    finally:
        csv.field_size_limit(limit)


def check_header(columns: list[str], shown: str) -> None:
    """A ReviewError unless the header has feedback_id and decision, saying why when it can."""
    missing = [c for c in ("feedback_id", "decision") if c not in columns]
    if not missing:
        return
    first = columns[0] if columns else ""
    if first.startswith("\ufeff"):
        raise ReviewError(f"{shown}: starts with two byte order marks (U+FEFF), as when a program adds "
                          f"one to a file that had one, and the second reads as part of the first "
                          f"column's name; type that name, feedback_id, again (in Excel: cell A1), "
                          f"save it as \"CSV UTF-8\" and import it again")
    for separator, name, cause in (
            (";", "semicolons", "Excel does so where a comma is the decimal mark"),
            ("\t", "tabs", "as Excel's \"Unicode Text\" is")):
        if len(columns) == 1 and "feedback_id" in first.split(separator):
            raise ReviewError(f"{shown}: the columns are separated by {name}, not commas ({cause}); save "
                              f"it as CSV with commas (Excel: \"CSV UTF-8\" with ',' as the list "
                              f"separator in Windows' Region settings, or use LibreOffice or Google "
                              f"Sheets) and import it again")
    raise ReviewError(f"{shown}: no {', '.join(missing)} column; import the CSV that "
                      f"`python cli.py review export` wrote, with a decision in each row")


def read_last_build(project: Project) -> tuple[set[str], dict[str, str]]:
    """The feedback_ids of the valid feedback in the last build's database, and the output of each
    reply that build put up for review (as review export writes it)."""
    models = compile_models(project.on_duckdb())  # (the build's database's)
    valid = quote_identifier(declared(models, "valid"))
    queue = declared(models, "review_queue")
    con = connect_read_only(project.database, project.show(project.database), wait=False)  # (under the lock)
    try:
        with duckdb_errors(f"review import ({project.show(project.database)})", DatabaseError):
            known = {r[0] for r in con.execute(f"SELECT feedback_id FROM {valid}").fetchall()}
            exported = dict(con.execute(f"SELECT feedback_id, output FROM {quote_identifier(queue)}")
                            .fetchall()) if queue in tables_of(con) else {}
            return known, exported
    finally:
        con.close()
