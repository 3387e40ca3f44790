"""The review round trip at scale: `review import` of many decisions, timed.

    python bench/review.py                     # 30,000 decisions, median of 3 imports
    python bench/review.py --rows 100000 --runs 1
    python bench/review.py --code /tmp/fbt-old  # the same, also with another checkout's cli.py

Builds a project in a temporary folder from a log of --rows replies rated 5 (every one awaits review),
exports the review CSV, fills in a decision in every row (keep, drop, and a corrected reply in one
row in ten, as a reviewer does) and times `review import` of it as a whole process, by the wall
clock; each run starts from the same state file. With --code, each checkout imports the same CSV
into its own copy of the project, so the figures of one run compare.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_project(folder: Path, rows: int) -> Path:
    """fbt's project (pyproject.toml, models, macros) in folder, with a log of rows replies."""
    shutil.copy(ROOT / "pyproject.toml", folder)
    for name in ("models", "macros"):
        shutil.copytree(ROOT / name, folder / name)
    (folder / "data").mkdir()
    log = [{"id": f"00000000-0000-4000-8000-{n:012d}", "timestamp": f"2025-07-18T19:00:00.{n:06d}",
            "session_id": f"17213{n:08d}.5", "model_name": "huanhuan-qwen",
            "user_input": f"问题 {n}：你在宫里过得好吗？", "model_response": f"回答 {n}：臣妾一切安好。\n多谢挂念。",
            "rating": 5} for n in range(rows)]
    (folder / "data/user_feedback.json").write_text(json.dumps(log, ensure_ascii=False), encoding="utf-8")
    return folder


def fbt(code: Path, project: Path, *args: str) -> float:
    """Run fbt's cli.py of checkout code on project; the wall seconds it took."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(code / "cli.py"), "--project-dir", str(project), *args],
                          check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{code}: {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return seconds


def fill_in(path: Path) -> int:
    """Write a decision into every row of an exported review CSV; the number of rows."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for n, row in enumerate(rows):
        row["decision"] = "drop" if n % 7 == 3 else "keep"
        row["corrected_output"] = f"改过的回答 {n}" if n % 10 == 0 else ""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, action="append", default=[],
                        help="another checkout of fbt to time too (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        make_project(base, args.rows)
        build = fbt(ROOT, base, "build", "--quiet")
        csv_path = Path(tmp) / "review.csv"
        export = fbt(ROOT, base, "review", "export", "-o", str(csv_path))
        decided = fill_in(csv_path)
        print(f"{args.rows:,} replies: build {build:.1f} s, review export {export:.1f} s, "
              f"{decided:,} decisions to import")
        for code in [ROOT, *args.code]:
            seconds = []
            for run in range(args.runs):
                project = Path(tmp) / f"run{run}"
                shutil.copytree(base, project)  # the same start each time: no decision stored yet
                seconds.append(fbt(code, project, "review", "import", str(csv_path)))
                shutil.rmtree(project)
            print(f"review import ({code}): median {statistics.median(seconds):.2f} s of "
                  f"{', '.join(f'{s:.2f}' for s in seconds)}")


if __name__ == "__main__":
    main()
