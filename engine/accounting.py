"""The build's accounting: every record read is rejected or valid, every valid one a sample or
excluded by a named filter; every record of the base set merged or rejected. Checked on every build
before anything is exported."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import AccountingError
from .render import Rendered, quote_identifier
from .roles import declared
from .runner import columns_of, duckdb_errors

if TYPE_CHECKING:
    import duckdb

# The filters of the eligibility model, shown even when they exclude nothing (others are added as found).
FILTERS = ("below_min_rating", "other_model")
ROLES = ("log", "rejected", "valid", "eligibility", "samples")
BASE_ROLES = ("base", "base_rejected", "base_samples")


@dataclass
class BaseAccounting:
    """The base set's records: each merged into the files or rejected, with a reason."""

    read: int = 0
    merged: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass
class Accounting:
    read: int = 0
    rejected: int = 0
    valid: int = 0
    samples: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    excluded_by: dict[str, int] = field(default_factory=dict)
    average_rating: float | None = None
    samples_per_model: dict[str, int] = field(default_factory=dict)
    base: BaseAccounting | None = None  # None: no base set was read

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_records(con: duckdb.DuckDBPyConnection, models: dict[str, Rendered]) -> Accounting:
    """The figures of a build, from the models that declare the accounting's roles (engine/roles.py)."""
    names = {role: declared(models, role) for role in ROLES}
    log, rejected, valid, eligibility, samples = (quote_identifier(names[role]) for role in ROLES)
    with duckdb_errors("accounting"):
        def scalar(sql: str) -> Any:
            return con.execute(sql).fetchone()[0]

        def groups(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in con.execute(sql).fetchall()}

        per_file = "source_file" if "source_file" in columns_of(con, names["log"]) else "NULL"
        read, last = con.execute(f"SELECT coalesce(sum(n), 0), coalesce(sum(last), 0) FROM (SELECT "
                                 f"count(*) AS n, max(position) AS last FROM {log} GROUP BY {per_file})"
                                 ).fetchone()
        figures = Accounting(
            read=read,
            rejected=scalar(f"SELECT count(*) FROM {rejected}"),
            valid=scalar(f"SELECT count(*) FROM {valid}"),
            samples=scalar(f"SELECT count(*) FROM {samples}"),
            rejected_by_reason=groups(f"SELECT reason, count(*) FROM {rejected} GROUP BY 1 ORDER BY 2 DESC, 1"),
            excluded_by=dict.fromkeys(FILTERS, 0) | groups(
                f"SELECT excluded_by, count(*) FROM {eligibility} "
                f"WHERE excluded_by IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"),
            average_rating=scalar(f"SELECT round(avg(rating), 2) FROM {samples}"),
            samples_per_model=groups(f"SELECT model_name, count(*) FROM {samples} GROUP BY 1 ORDER BY 2 DESC, 1"),
        )
        candidates = scalar(f"SELECT count(*) FROM {eligibility}")
    check_identity(figures, last, candidates, names)
    figures.base = count_base(con, models)
    return figures


def count_base(con: duckdb.DuckDBPyConnection, models: dict[str, Rendered]) -> BaseAccounting | None:
    """The base set's figures, when its model read one: read = merged + rejected, else stop."""
    names = {role: declared(models, role) for role in BASE_ROLES}
    if not models[names["base"]].sources:
        return None
    base, rejected, merged = (quote_identifier(names[role]) for role in BASE_ROLES)
    with duckdb_errors("accounting"):
        read, last = con.execute(f"SELECT count(*), coalesce(max(position), 0) FROM {base}").fetchone()
        figures = BaseAccounting(
            read=read,
            merged=con.execute(f"SELECT count(*) FROM {merged}").fetchone()[0],
            rejected=con.execute(f"SELECT count(*) FROM {rejected}").fetchone()[0],
            rejected_by_reason={str(k): int(v) for k, v in con.execute(
                f"SELECT reason, count(*) FROM {rejected} GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()})
    problems = []
    if read != last:
        problems.append(f"{names['base']} has {read} rows but the base set has {last} records")
    if read != figures.merged + figures.rejected:
        problems.append(f"base read {read} != merged {figures.merged} + rejected {figures.rejected}")
    if problems:
        raise AccountingError("Accounting does not add up: " + "; ".join(problems) +
                              ". A model drops or repeats records; check its WHERE and JOINs")
    return figures


def check_identity(f: Accounting, last_position: int, candidates: int, names: dict[str, str]) -> None:
    """read = rejected + valid and valid = samples + excluded; else stop before exporting."""
    excluded = sum(f.excluded_by.values())
    problems = []
    if f.read != last_position:
        problems.append(f"{names['log']} has {f.read} rows but the log has {last_position} records")
    if f.read != f.rejected + f.valid:
        problems.append(f"read {f.read} != rejected {f.rejected} + valid {f.valid}")
    if candidates != f.valid:
        problems.append(f"{names['eligibility']} has {candidates} rows but {names['valid']} has {f.valid}")
    if f.valid != f.samples + excluded:
        problems.append(f"valid {f.valid} != samples {f.samples} + excluded {excluded}")
    if problems:
        raise AccountingError("Accounting does not add up: " + "; ".join(problems) +
                              ". A model drops or repeats records; check its WHERE and JOINs")
