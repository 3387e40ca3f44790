"""The build report's figures, the one place the page's numbers come from: aggregates queried from
the build's database (through the models' declared roles, engine/roles.py), the build's record
(run_results.json: timings, tests, vars, files) and the first rows of each file written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exporters import EXPORTERS

from .dataset_card import FORMAT as CARD_FORMAT
from .dataset_info import FORMAT as INFO_FORMAT
from .errors import ReportError
from .render import quote_identifier
from .runner import duckdb_errors

if TYPE_CHECKING:
    import duckdb

ROLES = ("log", "rejected", "valid", "eligibility", "samples")  # the models the figures are read from
BASE_ROLES = ("base", "base_rejected", "base_samples")          # and, when a base set was read, these
HEAD_ROWS = 3                  # rows shown of each file
HEAD_BYTES = 1 << 20           # read at most this much of a file for them
DAILY_SPAN_DAYS = 62           # a log spanning more days is charted by week
TRAINERS = {INFO_FORMAT: "LLaMA-Factory (its dataset register)",
            CARD_FORMAT: "Hugging Face datasets and the Hub"}


@dataclass
class FileFigures:
    name: str
    format: str
    model: str
    rows: int
    bytes: int | None          # None: the file is not there any more
    trainer: str
    left_out: int = 0
    head: list[Any] = field(default_factory=list)  # its first rows (or, for a text file, its first lines)


@dataclass
class ReportData:
    build: dict[str, Any]                          # run_results.json as the build wrote it
    read: int
    rejected_by_reason: dict[str, int]
    valid: int
    excluded_by: dict[str, int]
    samples: int
    ratings: dict[str, list[int]]                  # model -> count of ratings 1..5 (valid records)
    grain: str                                     # 'day' or 'week'
    periods: list[str]                             # first day of each period, ISO
    averages: dict[str, list[float | None]]        # model -> average rating in each period
    undated: int                                   # valid records without a date in their timestamp
    files: list[FileFigures]
    samples_per_model: dict[str, int]
    base: dict[str, Any] | None = None             # read, merged, rejected_by_reason; None: no base set

    def figures(self) -> dict[str, int | float]:
        """Every number the page shows that run_results.json also holds, by the name the page gives it."""
        out: dict[str, int | float] = {"read": self.read, "rejected": sum(self.rejected_by_reason.values()),
                                       "valid": self.valid, "samples": self.samples}
        out |= {f"rejected.{k}": v for k, v in self.rejected_by_reason.items()}
        out |= {f"excluded.{k}": v for k, v in self.excluded_by.items()}
        out |= {f"samples.{k}": v for k, v in self.samples_per_model.items()}
        if self.base:
            out |= {"base.read": self.base["read"], "base.merged": self.base["merged"],
                    "base.rejected": sum(self.base["rejected_by_reason"].values())}
            out |= {f"base.rejected.{k}": v for k, v in self.base["rejected_by_reason"].items()}
        out |= {f"file.{f.name}.rows": f.rows for f in self.files}
        out |= {f"model.{m['name']}.rows": m["rows"] for m in self.build["models"] if m["rows"] is not None}
        out |= {f"test.{t['name']}.failures": t["failures"] for t in self.build["tests"]}
        out |= {f"figure.{topic}.{k}": v for topic, values in self.build["figures"].items()
                for k, v in values.items() if v is not None}
        return out


def collect_report(con: duckdb.DuckDBPyConnection, build: dict[str, Any],
                   where: dict[Path, Path] | None = None) -> ReportData:
    """The report's figures from the database a build left (con) and its run_results.json (build);
    where maps a file's place to where it is now (staged, during the build)."""
    roles = {m["role"]: m["name"] for m in build.get("models", []) if m.get("role")}
    with_base = bool((build.get("accounting") or {}).get("base"))
    missing = [r for r in ROLES + BASE_ROLES * with_base if r not in roles]
    if missing:
        raise ReportError(f"run_results.json names no model of role {', '.join(missing)} (a build of an "
                          f"older fbt?); build again, then `python cli.py report`")
    log, rejected, valid, eligibility, samples = (
        quote_identifier(roles[r]) for r in ROLES)
    with duckdb_errors("report"):
        def groups(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in con.execute(sql).fetchall()}

        read = con.execute(f"SELECT count(*) FROM {log}").fetchone()[0]
        reasons = groups(f"SELECT reason, count(*) FROM {rejected} GROUP BY 1 ORDER BY 2 DESC, 1")
        eligible = con.execute(f"SELECT excluded_by, count(*) FROM {eligibility} GROUP BY 1 "
                               f"ORDER BY excluded_by IS NULL DESC, 2 DESC, 1").fetchall()
        per_model = groups(f"SELECT model_name, count(*) FROM {samples} GROUP BY 1 ORDER BY 2 DESC, 1")
        dated = con.execute(
            f"SELECT model_name, try_cast(left(timestamp, 10) AS DATE) AS day, rating, count(*) "
            f"FROM {valid} GROUP BY ALL").fetchall()
        base = base_figures(con, *(quote_identifier(roles[r]) for r in BASE_ROLES)) if with_base else None
    ratings, grain, periods, averages, undated = rating_figures(dated)
    excluded = {"below_min_rating": 0, "other_model": 0} | {k: v for k, v in eligible if k is not None}
    return ReportData(
        build=build, read=int(read), rejected_by_reason=reasons, valid=sum(map(sum, ratings.values())),
        excluded_by=excluded, samples=sum(v for k, v in eligible if k is None), ratings=ratings, grain=grain,
        periods=periods, averages=averages, undated=undated, samples_per_model=per_model, base=base,
        files=[file_figures(e, (where or {}).get(Path(e["path"]), Path(e["path"])), where)
               for e in build["exports"]])


def base_figures(con: duckdb.DuckDBPyConnection, base: str, rejected: str, merged: str) -> dict[str, Any]:
    """The base set's records: read, merged into the files, rejected by reason."""
    return {"read": con.execute(f"SELECT count(*) FROM {base}").fetchone()[0],
            "merged": con.execute(f"SELECT count(*) FROM {merged}").fetchone()[0],
            "rejected_by_reason": {str(k): int(v) for k, v in con.execute(
                f"SELECT reason, count(*) FROM {rejected} GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()}}


def rating_figures(rows: list[tuple[str, date | None, int, int]]) -> tuple[
        dict[str, list[int]], str, list[str], dict[str, list[float | None]], int]:
    """(model, day, rating, count) rows as the ratings per model and the average per model and period.

    >>> from datetime import date
    >>> r = rating_figures([("a", date(2025, 7, 1), 5, 2), ("a", date(2025, 7, 2), 1, 1), ("b", None, 3, 1)])
    >>> r[0], r[1], r[2]
    ({'a': [1, 0, 0, 0, 2], 'b': [0, 0, 1, 0, 0]}, 'day', ['2025-07-01', '2025-07-02'])
    >>> r[3], r[4]
    ({'a': [5.0, 1.0], 'b': [None, None]}, 1)
    """
    ratings: dict[str, list[int]] = {}
    for model, _, rating, n in rows:
        ratings.setdefault(str(model), [0] * 5)[int(rating) - 1] += n
    ratings = dict(sorted(ratings.items(), key=lambda kv: (-sum(kv[1]), kv[0])))
    days = [d for _, d, _, _ in rows if d is not None]
    grain = "week" if days and (max(days) - min(days)).days > DAILY_SPAN_DAYS else "day"

    def period(d: date) -> date:
        return date.fromordinal(d.toordinal() - d.weekday()) if grain == "week" else d

    periods = sorted({period(d) for d in days})
    index = {p: i for i, p in enumerate(periods)}
    sums = {m: [[0, 0] for _ in periods] for m in ratings}
    for model, d, rating, n in rows:
        if d is not None:
            cell = sums[str(model)][index[period(d)]]
            cell[0] += rating * n
            cell[1] += n
    averages = {m: [round(s / n, 3) if n else None for s, n in cells] for m, cells in sums.items()}
    undated = sum(n for _, d, _, n in rows if d is None)
    return ratings, grain, [p.isoformat() for p in periods], averages, undated


def file_figures(export: dict[str, Any], now: Path, where: dict[Path, Path] | None = None) -> FileFigures:
    """A written file's figures: its rows (as the build counted them), size and first rows; of a
    file written as shards, their sizes added up and the first shard's rows (each shard found
    where it is now: staged, or in place)."""
    exporter = EXPORTERS.get(export["format"])
    shards = [(where or {}).get(Path(s)) or now / Path(s).name for s in export.get("shards", [])]
    parts = shards or [now]
    size = sum(p.stat().st_size for p in parts) if all(p.is_file() for p in parts) else None
    return FileFigures(
        name=Path(export["path"]).name, format=export["format"], model=export["model"], rows=export["rows"],
        bytes=size, trainer=exporter.trainer if exporter else TRAINERS.get(export["format"], ""),
        left_out=export.get("left_out", 0), head=read_head(parts[0]) if size else [])


def read_head(path: Path, rows: int = HEAD_ROWS, limit: int = HEAD_BYTES) -> list[Any]:
    """The first rows of a JSON array or JSON lines file, decoded from its first bytes only; of any
    other file (an object, a text), its first lines as text."""
    with path.open("rb") as f:
        data = f.read(limit)
    text = data.decode("utf-8", errors="ignore")
    stripped = text.lstrip()
    decoder = json.JSONDecoder()
    if stripped.startswith("["):
        found: list[Any] = []
        at = len(text) - len(stripped) + 1
        while len(found) < rows:
            while at < len(text) and text[at] in " \t\r\n,":
                at += 1
            if at >= len(text) or text[at] == "]":
                break
            try:
                value, at = decoder.raw_decode(text, at)
            except ValueError:  # a row longer than the bytes read
                break
            found.append(value)
        return found
    if path.suffix == ".jsonl":
        lines = text.split("\n")[:-1] if len(data) == limit else text.split("\n")  # whole lines only
        try:
            return [json.loads(line) for line in lines[:rows] if line.strip()]
        except ValueError:
            pass
    return ["\n".join(text.splitlines()[:12])]
