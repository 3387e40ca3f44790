"""The dataset card: output_dir/README.md with the YAML front matter Hugging Face reads (one config
per format, its files by split; a file written as shards, by the glob of its shards), so that
`datasets.load_dataset(output_dir, "<config>")` and the Hub take the folder as it is; and a short
body saying what the build did.

A README.md in output_dir that fbt did not write (it lacks MARK) is never overwritten."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import dataset_info
from .export import ExportResult
from .render import quote_identifier
from .shards import shard_glob
from .vars import sql_literal

if TYPE_CHECKING:
    import duckdb

FILENAME = "README.md"
FORMAT = "dataset_card"
MARK = "<!-- written by fbt: every build rewrites this card; change the vars, not this file -->"
SPLITS = {"train": "train", "val": "validation"}  # fbt's split names -> the Hub's
KINDS = {"dpo": "dpo", "kto": "kto"}              # a format's prefix -> its tag (else sft)
SIZES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
         (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")]


def stage_dataset_card(results: list[ExportResult], output_dir: Path, staging: Path, vars_: dict[str, Any],
                       split_of: dict[Path, str | None],
                       languages: Callable[[], list[str]]) -> tuple[list[ExportResult], str | None]:
    """Write README.md into staging and return its result, or ([], why not) when var dataset_card
    says not to, no file has rows, or a README.md of someone else's is there. languages is asked
    only when the card is written."""
    when = vars_.get("dataset_card", "auto")
    files = [r for r in results if r.rows and r.format not in (dataset_info.FORMAT, FORMAT)]
    if not dataset_info.asked_for(when, results) or not files:
        return [], None
    target = output_dir / FILENAME
    if target.exists() and MARK not in target.read_text(encoding="utf-8", errors="replace"):
        return [], f"{target.name} in the output dir was not written by fbt: the dataset card is not written"
    text = front_matter(files, vars_, split_of, languages()) + body(files, vars_)
    (staging / FILENAME).write_text(text, encoding="utf-8")
    return [ExportResult(FORMAT, "", target, len(configs(files, split_of)), ())], None


def configs(files: list[ExportResult], split_of: dict[Path, str | None]) -> dict[str, list[tuple[str, str]]]:
    """config name (the format) -> [(split, file name), ...]."""
    found: dict[str, list[tuple[str, str]]] = {}
    for r in files:
        split = split_of.get(r.path) or "train"
        path = shard_glob(r.path.name, len(r.shards)) if r.shards else r.path.name
        found.setdefault(r.format, []).append((SPLITS.get(split, split), path))
    return found


def front_matter(files: list[ExportResult], vars_: dict[str, Any], split_of: dict[Path, str | None],
                 languages: list[str]) -> str:
    """The YAML block (strings written as JSON strings, which YAML reads as they are)."""
    q = json.dumps
    lines = ["---", "configs:"]
    for name, parts in configs(files, split_of).items():
        lines += [f"- config_name: {q(name)}", "  data_files:"]
        lines += [f"  - split: {q(split)}\n    path: {q(path)}" for split, path in parts]
    kinds = sorted({next((t for p, t in KINDS.items() if r.format.startswith(p)), "sft") for r in files})
    lines += ["task_categories:", "- text-generation", "tags:", "- fbt"] + [f"- {k}" for k in kinds]
    if languages:
        lines += ["language:"] + [f"- {q(code)}" for code in languages]
    if vars_.get("dataset_license"):
        lines.append(f"license: {q(vars_['dataset_license'])}")
    most = max(r.rows for r in files)
    lines += ["size_categories:", f"- {next((s for n, s in SIZES if most < n), 'n>100M')}", "---", ""]
    return "\n".join(lines) + "\n"


def body(files: list[ExportResult], vars_: dict[str, Any]) -> str:
    rules = ", ".join(f"{k} {json.dumps(vars_.get(k), ensure_ascii=False)}" for k in
                      ("min_rating", "model_name", "export_unreviewed", "val_ratio", "dedup", "redact",
                       "with_history") if k in vars_)
    rows = "\n".join(f"| {r.path.name}{f'/ ({len(r.shards)} shards)' if r.shards else ''} | {r.format} "
                     f"| {r.rows} |" for r in files)
    return (f"{MARK}\n# Fine-tuning data built by fbt from rated chat replies\n\n"
            f"| file | format | rows |\n|---|---|---|\n{rows}\n\n"
            f"Rules applied: {rules}{', a system prompt' if vars_.get('system_prompt') else ''}. "
            "Replies dropped in review, and replies of validation sessions in train files, are in no file; "
            "sensitive content is masked when redact is on. The app's log holds only the turns users "
            "rated, so a conversation's history is partial.\n")


def detect_languages(con: duckdb.DuckDBPyConnection, samples: str) -> list[str]:
    """The card's languages, from the samples' texts: zh when one has a CJK ideograph, en when one
    has a Latin letter (each query stops at the first sample that has one)."""
    found = []
    for code, pattern in (("zh", "[\\x{4e00}-\\x{9fff}]"), ("en", "[A-Za-z]")):
        sql = (f"SELECT EXISTS (SELECT 1 FROM {quote_identifier(samples)} "
               f"WHERE regexp_matches(instruction || ' ' || output, {sql_literal(pattern)}))")
        if con.execute(sql).fetchone()[0]:
            found.append(code)
    return found
