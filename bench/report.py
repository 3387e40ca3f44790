"""What the build report costs: a build of a generated log, each step timed in the process, then
`report` (engine.write_report) timed alone, and the page's size.

    python bench/report.py                         # 1M records, the default formats, 3 report runs
    python bench/report.py --records 100000 --format json kto dpo

The log is bench/out/feedback_<records>.json (generated once, seeded, as bench/run.py does). The
report's cost is what stage_report adds to the build (the figures' queries on the sealed database,
the first rows of each file, the page), so that is the figure to read, with `report` beside it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path[:0] = [str(HERE), str(ROOT)]

from generate import generate
from run import project_copy

import engine
from engine import pipeline


def timed_build(project: engine.Project) -> dict[str, float]:
    """Build, each step timed: step name -> seconds."""
    seconds: dict[str, float] = {}

    def timed(step):
        def run(b):
            started = time.perf_counter()
            step(b)
            seconds[step.__name__] = time.perf_counter() - started
        run.__name__ = step.__name__
        return run

    steps = pipeline.STEPS
    pipeline.STEPS = tuple(timed(s) for s in steps)
    try:
        result = engine.build(project)
    finally:
        pipeline.STEPS = steps
    if result.warnings:
        print("\n".join(f"warning: {w}" for w in result.warnings), file=sys.stderr)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of `report` alone")
    parser.add_argument("--format", nargs="+", default=None, help="formats to build (default: the project's)")
    args = parser.parse_args()
    log = OUT / f"feedback_{args.records}.json"
    if not log.exists():
        print(f"generating {log} ...", file=sys.stderr)
        generate(args.records, log)
    root = project_copy("report-project")
    given = [engine.GivenVar("feedback_file", str(log), "--var"),
             engine.GivenVar("output_dir", str(root / "out"), "--var")]
    if args.format:
        given.append(engine.GivenVar("formats", args.format, "--format", is_text=False))
    project = engine.load_project(root, given)
    steps = timed_build(project)
    page = project.target_dir / "report.html"
    again = []
    for _ in range(args.runs):
        started = time.perf_counter()
        engine.write_report(project)
        again.append(time.perf_counter() - started)
    total = sum(steps.values())
    print(f"{args.records:,} records, {log.stat().st_size / 1e9:.2f} GB log, formats "
          f"{' '.join(project.vars['formats'])}")
    print(f"build {total:.2f} s, of which stage_report {steps['stage_report']:.2f} s "
          f"({100 * steps['stage_report'] / total:.1f}%)")
    print(f"report alone (engine.write_report, median of {args.runs}): {statistics.median(again):.2f} s")
    print(f"report.html: {page.stat().st_size:,} bytes")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
