"""Text for people: the build summary and query results as an aligned table."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from exporters import get_exporter

from .build import BuildResult


def summarize(result: BuildResult, show=str) -> list[str]:
    """The build summary: accounting, files written, average rating, samples per model."""
    lines = [f"{m.name}: {'view' if m.rows is None else f'{m.rows} rows'} ({m.seconds:.2f}s)"
             for m in result.models]
    if result.tests:
        passed = sum(t.passed for t in result.tests)
        added = sum(t.test.new_rows for t in result.tests)
        lines.append(f"data tests: {passed} of {len(result.tests)} passed"
                     + (f", {added} over the added rows only (the others passed them before)" if added else "")
                     + (f" ({result.tests_left} more, of models no file reads: python cli.py test)"
                        if result.tests_left else ""))
    parse = result.parse
    if parse.get("parsed") == "new records" and not parse.get("new"):
        lines.append(f"log: no new records since the last build (its {parse['kept']:,} rows kept)")
    elif parse.get("parsed") == "new records":
        new = f"{parse['new']:,} new record" + ("s" if parse["new"] != 1 else "")
        lines.append(f"log: parsed only the {new} (the {parse['kept']:,} before "
                     f"{'them' if parse['new'] != 1 else 'it'} as the last build parsed them)")
    elif parse.get("parsed"):
        lines.append(f"log: parsed all of it ({parse['why']})")
    if parse.get("in_place") is False:
        lines.append(f"database: made anew ({parse['in_place_why']})")
    elif parse.get("in_place"):
        added = parse.get("appended", [])
        lines.append("database: changed in place"
                     + (f", the new records' rows added to {', '.join(added)}" if added else ""))
    a = result.accounting
    if a:
        reasons = ", ".join(f"{k} {v}" for k, v in a.rejected_by_reason.items())
        lines += [
            f"records read: {a.read} = rejected {a.rejected} + valid {a.valid}",
            f"  rejected by reason: {reasons or 'none'}",
            f"valid: {a.valid} = samples {a.samples} + "
            + " + ".join(f"{k} {v}" for k, v in a.excluded_by.items()),
        ]
        if a.base:
            base_reasons = ", ".join(f"{k} {v}" for k, v in a.base.rejected_by_reason.items())
            lines += [f"base records read: {a.base.read} = merged {a.base.merged} + rejected {a.base.rejected}",
                      f"  rejected by reason: {base_reasons or 'none'}"]
    for topic, figures in result.figures.items():  # from models with config(summary=true)
        lines.append(f"{topic}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    for export in result.exports:
        if export.format == "dataset_info":
            lines.append(f"registered {export.rows} file(s) for LLaMA-Factory in {show(export.path)}")
        elif export.format == "dataset_card":
            lines.append(f"wrote the dataset card, {export.rows} config(s) for `datasets` and the Hub, "
                         f"to {show(export.path)}")
        else:
            lines.append(f"wrote {export.rows} {'pairs' if export.format.startswith('dpo') else 'samples'}"
                         f" to {show(export.path)}"
                         + (f"/ in {len(export.shards)} shards ({export.shards[0]} ... {export.shards[-1]})"
                            if export.shards else "")
                         + (f" (already_exported {export.left_out}: left out, written before as "
                            f"{export.format})" if export.left_out else "")
                         + (" (empty: valid, but `datasets` and the trainers cannot load it, so it is "
                            "not registered)" if not export.rows else ""))
            minimum = get_exporter(export.format).min_rows
            if 0 < export.rows < minimum:
                lines.append(f"warning: {show(export.path)} has {export.rows} rows; the service it is "
                             f"for takes at least {minimum}")
    if a and result.command == "build":
        if a.samples:
            incremental = any(e.left_out for e in result.exports)
            lines.append(f"total samples: {a.samples}" + (" (the files hold those not written before)"
                                                          if incremental else "")
                         + f", average rating: {a.average_rating:.2f}")
            lines += [f"  {model}: {count}" for model, count in a.samples_per_model.items()]
        if not any(e.rows for e in result.exports if e.format not in ("dataset_info", "dataset_card")):
            lines.append("no samples matched: the files written are valid and empty")
    if result.tables:
        schema = result.tables[0].split(".", 1)[0]  # (a schema's name has no dot: engine/target.py)
        lines.append(f"kept {len(result.tables)} model(s) as tables of the Spark catalog's `{schema}`")
    lines += [f"warning: {w}" for w in result.warnings]
    lines.append(f"done in {result.seconds:.2f}s; figures in {show(result.run_results)}"
                 + (f", the report in {show(result.report)}" if result.report else ""))
    return lines


def width(text: str) -> int:
    """Columns a text takes in a terminal: wide (CJK) characters take two."""
    if text.isascii():  # the common case, ~10x faster than asking unicodedata of each character
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def tabulate(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    """Rows as an aligned text table, long cells cut to max_width, NULL for None.

    >>> print(tabulate(["model", "n"], [("甄嬛", 2), (None, 10)]))
    model | n
    ----- | --
    甄嬛  | 2
    NULL  | 10
    """
    return "\n".join(line for lines in table_batches(columns, [rows], max_width) for line in lines)


def table_batches(columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]],
                  max_width: int = 60) -> Iterator[list[str]]:
    """The lines of tabulate() for rows that come in batches, a batch's lines as soon as it comes:
    the columns take the widths of the header and the first batch (a wider cell later pushes its
    own line only).

    >>> for lines in table_batches(["n"], [[(1,)], [(100,)]]): print(lines)
    ['n', '-', '1']
    ['100']
    """
    def cell(value: Any) -> str:
        return clip("NULL" if value is None else str(value).replace("\n", "\\n"), max_width)

    def line(cells: list[str]) -> str:
        return " | ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths)).rstrip()

    header = list(map(str, columns))
    widths: list[int] = []
    for batch in batches:
        table = [[cell(v) for v in row] for row in batch]
        if widths:
            yield [line(r) for r in table]
            continue
        widths = [max(width(r[i]) for r in [header, *table]) for i in range(len(columns))]
        yield [line(header), line(["-" * w for w in widths])] + [line(r) for r in table]
    if not widths:  # no rows at all
        widths = [width(c) for c in header]
        yield [line(header), line(["-" * w for w in widths])]


def clip(text: str, max_width: int) -> str:
    """
    >>> clip("你好世界", 5)
    '你好…'
    """
    if width(text) <= max_width:
        return text
    kept, used = [], 0
    for char in text:
        used += width(char)
        if used > max_width - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"
