"""dataset_info.json: LLaMA-Factory's register of datasets, written into output_dir beside the files
so that its `dataset_dir` can point straight at output_dir.

Each file of the build that LLaMA-Factory can read gets an entry named after the file (its whole
name, e.g. `dataset: sharegpt_format_samples.json`): file_name, formatting, ranking, columns and, for
sharegpt, tags. A column whose field the file does not have (system or history when unset) is left
out, since LLaMA-Factory would look for it. Entries already in the file for other names are kept, so a dataset_info.json of your own
(or of a build with other formats or --model-name) is extended, not lost. An empty file (no samples,
no pairs) is not registered: LLaMA-Factory cannot load it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exporters import get_exporter

from .errors import ExportError
from .export import ExportResult

FILENAME = "dataset_info.json"
FORMAT = "dataset_info"
# With var dataset_info=auto, a build of only the original script's formats writes only its files.
ORIGINAL_FORMATS = {"json", "jsonl", "alpaca"}


def dataset_entries(results: list[ExportResult]) -> dict[str, dict[str, Any]]:
    """The entries for the files written, by dataset name, for exporters that have one."""
    entries = {}
    for result in results:
        if result.format == FORMAT:
            continue
        template = get_exporter(result.format).dataset_info
        if template is None:
            continue
        entry: dict[str, Any] = {"file_name": result.path.name}
        for key, value in template.items():
            if key == "columns":
                value = {role: field for role, field in value.items() if field in result.fields}
            entry[key] = value
        entries[result.path.name] = entry
    return entries


def stage_dataset_info(results: list[ExportResult], output_dir: Path, staging: Path, when: str,
                       show=str) -> list[ExportResult]:
    """Write dataset_info.json into staging and return its result; [] when var dataset_info (when)
    says not to, or the build wrote no file LLaMA-Factory reads.

    when: "always", "never", or "auto": only if the build writes a format beyond the original three.
    An empty file is not registered (LLaMA-Factory cannot load it) and its old entry is dropped; the
    other entries of an existing dataset_info.json are kept."""
    if not asked_for(when, results):
        return []
    readable = dataset_entries(results)
    if not readable:
        return []
    entries = {name: entry for name, entry in readable.items()
               if any(r.rows for r in results if r.path.name == name)}
    target = output_dir / FILENAME
    document = {name: entry for name, entry in read_existing(target, show).items() if name not in readable}
    document.update(entries)
    staged = staging / FILENAME
    staged.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [ExportResult(FORMAT, "", target, len(entries), ())]


def asked_for(when: str, results: list[ExportResult]) -> bool:
    """Whether a file beside the exports is wanted: var `when` is "always", "never", or "auto": only
    when the build writes a format beyond the original three."""
    return when == "always" or when == "auto" and not {r.format for r in results} <= ORIGINAL_FORMATS


def read_existing(path: Path, show=str) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ExportError(f"{show(path)}: cannot read it as JSON ({e}); fix or remove it, or pass "
                          f"--var dataset_info=never") from e
    if not isinstance(document, dict):
        raise ExportError(f"{show(path)}: not a JSON object of datasets; fix or remove it, or pass "
                          f"--var dataset_info=never")
    return document
