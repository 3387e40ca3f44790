"""The benchmark: fbt against DuckDB's bare load (the floor) and plain Python, on the same logs.

    python bench/run.py                  # 100k and 1M records, median of 3 runs each
    python bench/run.py --10m            # and 10M records (11.6 GB; one run, no Python baseline)
    python bench/run.py --sizes 100000 --runs 5
    python bench/run.py --sizes 100000 --openwebui   # and an Open WebUI export of as many records
    python bench/run.py --no-daily       # without the daily case

The daily case: yesterday's log of N records was built with --new-only; today the app has rewritten it
with 1% more records. It times today's `build --new-only` (which parses only the new records, after
yesterday's rows) against the same build parsing the whole log (--var full_parse=true), each run
from a copy of yesterday's database and state.

Logs are generated once into bench/out/ (seeded, so the same bytes every time) and reused; --clean
deletes them afterwards. Every case is a whole process, timed by the wall clock, its peak memory the
process's maximum resident set (from wait4). The table gives each case's ratio to the floor and how
many times faster it is than the Python baseline; then how time grows with the records. Other work on
the machine shows in the figures: compare ratios from one run, not figures across runs.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from generate_openwebui import generate as generate_openwebui  # noqa: E402

FILES = ["high_quality_samples.json", "high_quality_samples.jsonl", "alpaca_format_samples.json"]
PYTHON_LIMIT = 2_000_000  # the baseline holds the log as Python objects: ~6 GB per 1M records

# The floor: DuckDB merely loading the log into a table of an in-memory database, the columns
# given (as text), nothing else: no parsing of values, no database file, no output files.
FLOOR = """
import sys, duckdb
columns = ", ".join(f"{c}: 'VARCHAR'" for c in sys.argv[2].split())
duckdb.connect().execute(f"CREATE TABLE log AS SELECT * FROM read_json(?, format='array', "
                         f"records=true, columns={{{columns}}})", [sys.argv[1]])
"""
COLUMNS = ("id timestamp session_id model_name user_input model_response rating temperature top_p top_k "
           "max_tokens comment")


@dataclass
class Case:
    name: str
    argv: list[str]
    output_dir: Path | None = None
    seconds: list[float] = field(default_factory=list)
    peak_bytes: int = 0
    failed: str = ""  # the first line of the error, when a run failed

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


class RunFailed(Exception):
    "A benchmarked command exited with an error"


def measure(argv: list[str]) -> tuple[float, int]:
    """Run a command to the end: (wall seconds, peak resident bytes). Its stdout is discarded."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines() or ["?"]
            raise RunFailed(f"exit {process.returncode} after {seconds:.0f} s: {lines[-1][:160]}")
    return seconds, usage.ru_maxrss * 1024


def project_copy(name: str = "project") -> Path:
    """fbt's project (pyproject.toml, models, macros) in bench/out/<name>, so its database lands there."""
    project = OUT / name
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", project)
    for folder in ("models", "macros"):
        shutil.copytree(ROOT / folder, project / folder)
    return project


def cases(log: Path, records: int, project: Path, openwebui: Path | None = None) -> list[Case]:
    python = sys.executable
    work = OUT / "work"
    fbt = [python, str(ROOT / "cli.py"), "--project-dir", str(project), "build", "--quiet",
           "--feedback-file", str(log)]
    found = [
        Case("duckdb load (floor)", [python, "-c", FLOOR, str(log), COLUMNS]),
        Case("fbt build (3 formats)", fbt + ["--output-dir", str(work / "fbt")], work / "fbt"),
        Case("fbt build --format jsonl", fbt + ["--output-dir", str(work / "fbt-jsonl"), "--format",
                                                "jsonl"]),
    ]
    if openwebui:  # the same number of rated replies, each record with its chat's snapshot
        found.append(Case("fbt build openwebui export", fbt[:-1] + [str(openwebui), "--output-dir",
                                                                    str(work / "fbt-openwebui")]))
    if records <= PYTHON_LIMIT:
        found.append(Case("python baseline (3 formats)",
                          [python, str(HERE / "baseline.py"), str(log), str(work / "python")], work / "python"))
    return found


def run_size(records: int, runs: int, project: Path, openwebui: bool = False) -> list[Case]:
    log = OUT / f"feedback_{records}.json"
    if not log.exists():
        print(f"generating {log} ...", file=sys.stderr)
        generate(records, log)
    export = OUT / f"openwebui_{records}.json" if openwebui else None
    if export and not export.exists():
        print(f"generating {export} ...", file=sys.stderr)
        generate_openwebui(records, export)
    found = cases(log, records, project, export)
    compare = any(case.name.startswith("python") for case in found)
    for i in range(runs):
        for case in found:
            # Each run starts clean: no output files and no database from the run before (a build
            # keeps the old database until the new one is complete: at 10M that is 10 GB more disk).
            shutil.rmtree(OUT / "work", ignore_errors=True)
            shutil.rmtree(project / "data", ignore_errors=True)
            (OUT / "work").mkdir(parents=True)
            if case.failed:
                continue
            try:
                seconds, peak = measure(case.argv)
            except RunFailed as e:
                case.failed = str(e)
                print(f"  {records:>10,} {case.name:<28} run {i + 1}: FAILED {e}", file=sys.stderr)
                continue
            case.seconds.append(seconds)
            case.peak_bytes = max(case.peak_bytes, peak)
            print(f"  {records:>10,} {case.name:<28} run {i + 1}: {seconds:7.2f} s {peak / 2**20:8.0f} MiB",
                  file=sys.stderr)
            if compare and i == runs - 1 and case.output_dir:
                keep = OUT / f"compare-{case.output_dir.name}"
                shutil.rmtree(keep, ignore_errors=True)
                shutil.move(case.output_dir, keep)
    shutil.rmtree(OUT / "work", ignore_errors=True)
    shutil.rmtree(project / "data", ignore_errors=True)
    return found


def run_daily(records: int, runs: int) -> list[Case]:
    """Yesterday's N records built with --new-only; today's log, N + 1%, built with --new-only,
    parsing only the new records and, in the same run, parsing all."""
    yesterday, today = OUT / f"feedback_{records}.json", OUT / f"feedback_{records}_daily.json"
    for log, n in ((yesterday, records), (today, records + records // 100)):
        if not log.exists():  # (chunks are seeded by their number: yesterday's records begin today's)
            print(f"generating {log} ...", file=sys.stderr)
            generate(n, log)
    project = project_copy("daily")
    log, saved = project / "feedback.json", project / "yesterday"
    shutil.copyfile(yesterday, log)
    fbt = [sys.executable, str(ROOT / "cli.py"), "--project-dir", str(project), "build", "--quiet",
           "--new-only", "--feedback-file", str(log), "--output-dir", str(OUT / "work" / "daily")]
    measure(fbt)
    shutil.copytree(project / "data", saved)
    shutil.copyfile(today, log)
    found = [Case("daily --new-only (new records)", fbt),
             Case("daily --new-only (parse all)", fbt + ["--var", "full_parse=true"])]
    for i in range(runs):
        for case in found:
            shutil.rmtree(project / "data")
            shutil.copytree(saved, project / "data")
            shutil.rmtree(OUT / "work", ignore_errors=True)
            os.sync()  # (yesterday's files on disk, as a day after; not the copy's writes in today's build)
            seconds, peak = measure(case.argv)
            parse = json.loads((project / "target" / "run_results.json").read_text(encoding="utf-8"))["log_parse"]
            if (parse["parsed"] == "new records") != case.name.endswith("(new records)"):
                raise SystemExit(f"daily case: {case.name} parsed {parse}; the logs are not yesterday's and today's")
            case.seconds.append(seconds)
            case.peak_bytes = max(case.peak_bytes, peak)
            print(f"  {records:>10,} {case.name:<28} run {i + 1}: {seconds:7.2f} s {peak / 2**20:8.0f} MiB",
                  file=sys.stderr)
    shutil.rmtree(project, ignore_errors=True)
    shutil.rmtree(OUT / "work", ignore_errors=True)
    return found


def room_for_daily(records: int) -> bool:
    """Is there disk for the daily case (yesterday's database, its copy and the new one: ~5 KB a
    record)? Else it is left out, saying so."""
    needed, free = records * 5_000, shutil.disk_usage(OUT).free
    if free < needed:
        print(f"daily case at {records:,} records left out: it needs ~{needed / 1e9:.0f} GB of free disk, "
              f"{free / 1e9:.0f} GB here", file=sys.stderr)
    return free >= needed


def same_outputs(found: list[Case]) -> str:
    """Whether fbt and the baseline wrote the same bytes (the copies kept for this are then removed)."""
    ours, theirs = OUT / "compare-fbt", OUT / "compare-python"
    if not any(case.name.startswith("python") for case in found):
        return "no Python baseline to compare with (it would need ~60 GB of memory)"
    if not (ours.exists() and theirs.exists()):
        return "a run failed: nothing to compare"
    differ = [f for f in FILES if not filecmp.cmp(ours / f, theirs / f, shallow=False)]
    shutil.rmtree(ours)
    shutil.rmtree(theirs)
    return "fbt and the Python baseline wrote identical files" if not differ else \
        f"FILES DIFFER: {', '.join(differ)}"


def table(results: dict[int, list[Case]]) -> str:
    lines = [f"{'records':>10}  {'case':<28} {'median s':>9} {'runs':>4} {'peak MiB':>9} "
             f"{'x floor':>8} {'x faster than Python':>21}"]
    for records, found in results.items():
        floor = found[0].median
        python = next((c.median for c in found if c.name.startswith("python") and c.seconds), None)
        for case in found:
            if case.failed:
                lines.append(f"{records:>10,}  {case.name:<28} FAILED: {case.failed}")
                continue
            faster = f"{python / case.median:.1f}" if python else "-"
            lines.append(f"{records:>10,}  {case.name:<28} {case.median:9.2f} {len(case.seconds):>4} "
                         f"{case.peak_bytes / 2**20:9.0f} {case.median / floor:8.2f} {faster:>21}")
    sizes = sorted(results)
    for small, large in zip(sizes, sizes[1:]):
        lines.append(f"time x{large / small:g} records ({small:,} -> {large:,}): " + ", ".join(
            f"{a.name.split(' (')[0]} x{b.median / a.median:.1f}"
            for a, b in zip(results[small], results[large])
            if a.name == b.name and a.seconds and b.seconds))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--10m", dest="ten_million", action="store_true", help="also 10M records (one run)")
    parser.add_argument("--runs", type=int, default=3, help="runs per case (10M: one)")
    parser.add_argument("--clean", action="store_true", help="delete the generated logs afterwards")
    parser.add_argument("--no-daily", dest="daily", action="store_false",
                        help="leave out the daily case (N + 1%% new records, --new-only)")
    parser.add_argument("--openwebui", action="store_true",
                        help="also build an Open WebUI export of each size (bench/generate_openwebui.py)")
    args = parser.parse_args()
    sizes = args.sizes + [10_000_000] * args.ten_million
    runs = {n: 1 if n >= 10_000_000 else args.runs for n in sizes}
    project = project_copy()
    load = os.getloadavg()
    results = {}
    checks = []
    for records in sizes:
        results[records] = run_size(records, runs[records], project, args.openwebui)
        checks.append(f"{records:,} records: {same_outputs(results[records])}")
    import duckdb

    print(f"fbt benchmark: {os.cpu_count()} cores, load average {load[0]:.1f} at start, Python "
          f"{sys.version.split()[0]}, DuckDB {duckdb.__version__}; min_rating 4")
    daily = {records: run_daily(records, runs[records]) for records in sizes
             if args.daily and room_for_daily(records)}
    print(table(results))
    print("\n".join(checks))
    for records, (new, whole) in daily.items():
        print(f"daily, {records:,} records + 1%, --new-only: {new.median:.2f} s parsing the new records, "
              f"{whole.median:.2f} s parsing all ({whole.median / new.median:.1f}x); peak "
              f"{new.peak_bytes / 2**20:.0f} and {whole.peak_bytes / 2**20:.0f} MiB "
              f"(median of {len(new.seconds)})")
    for records, found in results.items():
        app, owui = (next((c for c in found if c.name == n and c.seconds), None)
                     for n in ("fbt build (3 formats)", "fbt build openwebui export"))
        if app and owui:
            print(f"{records:,} records: the Open WebUI export builds in {owui.median / app.median:.1f}x the "
                  f"time of the app's log ({owui.median:.2f} s against {app.median:.2f} s)")
    if args.clean:
        for records in sizes:
            (OUT / f"feedback_{records}.json").unlink(missing_ok=True)
            (OUT / f"openwebui_{records}.json").unlink(missing_ok=True)
    shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    main()
