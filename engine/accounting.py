"""The build's accounting: every record read is rejected or valid, every valid one exported or
excluded by a named filter. Checked on every build before anything is exported."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import AccountingError
from .runner import columns_of, duckdb_errors

if TYPE_CHECKING:
    import duckdb

# The models the accounting reads, and what it expects of them.
LOG, VALID, REJECTED, CANDIDATES, SAMPLES = (
    "feedback_log", "stg_feedback", "rejected_feedback", "training_candidates", "training_samples")
# The filters of training_candidates, shown even when they exclude nothing (others are added as found).
FILTERS = ("below_min_rating", "other_model")


@dataclass
class Accounting:
    read: int = 0
    rejected: int = 0
    valid: int = 0
    exported: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    excluded_by: dict[str, int] = field(default_factory=dict)
    average_rating: float | None = None
    samples_per_model: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_records(con: duckdb.DuckDBPyConnection, models: set[str]) -> Accounting | None:
    """The figures of a build, or None when the project has no models for them."""
    if not {LOG, VALID, REJECTED, CANDIDATES, SAMPLES} <= models:
        return None
    with duckdb_errors("accounting"):
        def scalar(sql: str) -> Any:
            return con.execute(sql).fetchone()[0]

        def groups(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in con.execute(sql).fetchall()}

        per_file = "source_file" if "source_file" in columns_of(con, LOG) else "NULL"  # position: per file
        read, last = con.execute(f"SELECT coalesce(sum(n), 0), coalesce(sum(last), 0) FROM (SELECT "
                                 f"count(*) AS n, max(position) AS last FROM {LOG} GROUP BY {per_file})"
                                 ).fetchone()
        figures = Accounting(
            read=read,
            rejected=scalar(f"SELECT count(*) FROM {REJECTED}"),
            valid=scalar(f"SELECT count(*) FROM {VALID}"),
            exported=scalar(f"SELECT count(*) FROM {SAMPLES}"),
            rejected_by_reason=groups(f"SELECT reason, count(*) FROM {REJECTED} GROUP BY 1 ORDER BY 2 DESC, 1"),
            excluded_by=dict.fromkeys(FILTERS, 0) | groups(
                f"SELECT excluded_by, count(*) FROM {CANDIDATES} "
                f"WHERE excluded_by IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"),
            average_rating=scalar(f"SELECT round(avg(rating), 2) FROM {SAMPLES}"),
            samples_per_model=groups(f"SELECT model_name, count(*) FROM {SAMPLES} GROUP BY 1 ORDER BY 2 DESC, 1"),
        )
        candidates = scalar(f"SELECT count(*) FROM {CANDIDATES}")
    check_identity(figures, last, candidates)
    return figures


def check_identity(f: Accounting, last_position: int, candidates: int) -> None:
    """read = rejected + valid and valid = exported + excluded; else stop before exporting."""
    excluded = sum(f.excluded_by.values())
    problems = []
    if f.read != last_position:
        problems.append(f"{LOG} has {f.read} rows but the log has {last_position} records")
    if f.read != f.rejected + f.valid:
        problems.append(f"read {f.read} != rejected {f.rejected} + valid {f.valid}")
    if candidates != f.valid:
        problems.append(f"{CANDIDATES} has {candidates} rows but {VALID} has {f.valid}")
    if f.valid != f.exported + excluded:
        problems.append(f"valid {f.valid} != exported {f.exported} + excluded {excluded}")
    if problems:
        raise AccountingError("Accounting does not add up: " + "; ".join(problems) +
                              ". A model drops or repeats records; check its WHERE and JOINs")
