"""target/report.html: the build as one self-contained page (no script, no network: inline CSS and
SVG), from the figures of engine/report_data.py. Every figure the page shows that run_results.json
also holds is marked data-figure (its name) and data-value, for the tests."""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exporters import EXPORTERS

from . import charts
from .errors import InterruptError
from .interrupts import Deferral, query_interrupted
from .report_data import FileFigures, ReportData, collect_report
from .runner import connect_read_only

if TYPE_CHECKING:
    import duckdb

CLIP = 140           # characters of a text shown before it is clipped
FULL = 4_000         # characters of a clipped text kept for its expanded view (bounds the page's size)
HOVER = 600          # of those, shown on hover

CSS = """
:root { color-scheme: light dark; --bg: #fff; --fg: #1d2330; --muted: #5b6475; --line: #d9dde5;
  --card: #f5f7fa; --accent: #2f6fdb; --ok: #8fb3ea; --good: #2e9e5b; --file: #6f8fbf;
  --band: rgba(47, 111, 219, .12); --bad: #c23b3b;
  --r1: #d7303f; --r2: #f08a4b; --r3: #e9c54a; --r4: #8ccf6e; --r5: #2e9e5b;
  --s0: #2f6fdb; --s1: #e0712c; --s2: #2e9e5b; --s3: #b8409a; --s4: #7d5bd6; --s5: #1b9aa8;
  --s6: #a67c1f; --s7: #6b7280; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171d; --fg: #e6e9ef; --muted: #9aa3b2; --line: #343a46; --card: #1d2129;
    --accent: #7aa7ff; --ok: #4e6fa8; --good: #3fb56f; --file: #7f96c8; --band: rgba(122, 167, 255, .14);
    --s0: #7aa7ff; --s1: #f29a5c; --s2: #57c785; --s3: #e07cc9; --s4: #a58cf0; --s5: #4cc3cf;
    --s6: #d6ae4f; --s7: #a3aab8; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial,
    "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
    "WenQuanYi Micro Hei", "Noto Color Emoji", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 0 0 10px; }
section { margin: 22px 0; padding: 16px 18px; border: 1px solid var(--line); border-radius: 8px;
  break-inside: avoid; }
.muted, .note { color: var(--muted); fill: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; }
.card { background: var(--card); border-radius: 8px; padding: 10px 14px; min-width: 120px; }
.card b { display: block; font-size: 20px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Noto Sans Mono CJK SC",
  monospace;
  font-size: 12.5px; }
.scroll { overflow-x: auto; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 6px 0; font-size: 12px; }
svg text { fill: var(--fg); } svg text.note { fill: var(--muted); }
svg text.inbar { fill: #fff; font-size: 11px; }
svg text.name { font-weight: 600; }
.r1 { fill: var(--r1); } .r2 { fill: var(--r2); } .r3 { fill: var(--r3); } .r4 { fill: var(--r4); }
.r5 { fill: var(--r5); } .ok { fill: var(--ok); } .good { fill: var(--good); } .file { fill: var(--file); }
.rej0 { fill: #c23b3b; } .rej1 { fill: #e0643a; } .rej2 { fill: #b04a7a; } .rej3 { fill: #8a3030; }
.exc0 { fill: #a3aab8; } .exc1 { fill: #c7b36b; } .exc2 { fill: #8f9bb3; } .exc3 { fill: #b58f6b; }
.band { fill: var(--band); } .grid { stroke: var(--line); }
.edge { fill: none; stroke: var(--muted); opacity: .6; }
.box { fill: var(--card); stroke: var(--line); } .node.table .box { stroke: var(--accent); }
.line { fill: none; stroke-width: 2; }
.s0 { stroke: var(--s0); } .s1 { stroke: var(--s1); } .s2 { stroke: var(--s2); } .s3 { stroke: var(--s3); }
.s4 { stroke: var(--s4); } .s5 { stroke: var(--s5); } .s6 { stroke: var(--s6); } .s7 { stroke: var(--s7); }
.dot.s0, .fill.s0 { fill: var(--s0); } .dot.s1, .fill.s1 { fill: var(--s1); }
.dot.s2, .fill.s2 { fill: var(--s2); } .dot.s3, .fill.s3 { fill: var(--s3); }
.dot.s4, .fill.s4 { fill: var(--s4); } .dot.s5, .fill.s5 { fill: var(--s5); }
.dot.s6, .fill.s6 { fill: var(--s6); } .dot.s7, .fill.s7 { fill: var(--s7); }
.pass { color: var(--good); font-weight: 600; } .fail { color: var(--bad); font-weight: 600; }
details.clip summary { cursor: pointer; list-style: none; }
details.clip summary::-webkit-details-marker { display: none; }
details.clip[open] summary { display: none; }
.full { white-space: pre-wrap; overflow-wrap: anywhere; }
td { overflow-wrap: anywhere; }
.file-head { margin: 10px 0 18px; }
@media print { body { max-width: none; padding: 0; } section { border: none; padding: 0; }
  .scroll { overflow: visible; } details.clip summary::after { content: ""; } }
"""


def render_page(data: ReportData) -> str:
    """The report as one HTML document."""
    b = data.build
    sections = [header(data), flow(data), ratings(data), files(data), loop(b.get("figures", {})),
                models(b), tests(b)]
    title = f"fbt build report {b.get('build_id') or ''}".strip()
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="color-scheme" content="light dark">\n<title>{escape(title)}</title>\n'
            f"<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(s for s in sections if s)
            + '\n<p class="muted">Written by fbt from the build\'s database and run_results.json; '
              "<code>python cli.py report</code> writes it again.</p>\n</body>\n</html>\n")


def figure(name: str, value: float | None, shown: str | None = None) -> str:
    """A number the tests can find: its name and raw value in data attributes.

    >>> figure("read", 1234)
    '<span data-figure="read" data-value="1234">1,234</span>'
    """
    if value is None:
        return "–"
    text = shown if shown is not None else (f"{value:,}" if isinstance(value, int) else f"{value:,.2f}")
    return f'<span data-figure="{escape(name)}" data-value="{value}">{escape(text)}</span>'


def clip(value: Any, limit: int = CLIP) -> str:
    """A text (or a JSON value, as JSON) cut to limit characters; the rest on hover and on expand.

    >>> clip("short")
    'short'
    """
    content = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(content) <= limit:
        return escape(content)
    kept = content[:FULL] + (f" … ({len(content) - FULL:,} more characters)" if len(content) > FULL else "")
    return (f'<details class="clip"><summary title="{escape(content[:HOVER])}">{escape(content[:limit])}'
            f'<span class="muted"> … ({len(content):,} characters; expand)</span></summary>'
            f'<div class="full">{escape(kept)}</div></details>')


def size(n: int | None) -> str:
    """
    >>> size(1536), size(12), size(None)
    ('1.5 KB', '12 B', 'missing')
    """
    if n is None:
        return "missing"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return ""


def header(data: ReportData) -> str:
    b = data.build
    logs = ", ".join(f"<code>{escape(s['path'])}</code> ({size(s['bytes'])})" for s in b.get("sources", []))
    variables = "".join(f"<tr><td><code>{escape(k)}</code></td><td>{clip(v, 90)}</td></tr>"
                        for k, v in b.get("vars", {}).items())
    passed = sum(t["status"] == "pass" for t in b["tests"])
    cards = [("records read", figure("read", data.read)),
             ("rejected", figure("rejected", sum(data.rejected_by_reason.values()))),
             ("valid", figure("valid", data.valid)), ("training samples", figure("samples", data.samples)),
             ("files written", str(len(data.files))), ("data tests passed", f"{passed} of {len(b['tests'])}")]
    return (f"<header><h1>fbt build report</h1>"
            f'<div class="muted"><code>{escape(b.get("command", ""))}</code>'
            + (f" {escape(b['build_id'])}" if b.get("build_id") else "")
            + f" · finished {escape(b.get('generated_at', ''))}"
            + f" · took {b.get('elapsed_seconds', 0):.2f} s</div>"
            f"<div>log: {logs or '–'}</div>"
            '<div class="cards">'
            + "".join(f'<div class="card"><b>{v}</b>{escape(k)}</div>' for k, v in cards)
            + f"</div><details><summary>vars</summary><table>{variables}</table></details></header>")


def flow(data: ReportData) -> str:
    rejected = sum(data.rejected_by_reason.values())
    reasons = " + ".join(f"{escape(k)} {figure('rejected.' + k, v)}"
                         for k, v in data.rejected_by_reason.items())
    excluded = " + ".join(f"{escape(k)} {figure('excluded.' + k, v)}" for k, v in data.excluded_by.items())
    chart = charts.flow_chart(data.read, data.rejected_by_reason, data.valid, data.excluded_by, data.samples,
                              [(f.name, f.rows) for f in data.files if f.format in EXPORTERS])
    return (f"<section><h2>What happened to every record</h2>"
            f"<p>read {data.read:,} = rejected {rejected:,}{' (' + reasons + ')' if reasons else ''} "
            f"+ valid {data.valid:,}<br>valid {data.valid:,} = samples {data.samples:,}"
            f"{' + ' + excluded if excluded else ''}</p>{chart}{base_flow(data.base)}"
            f'<p class="muted">Then each file\'s rows: a file holds the samples of its split, pairs or '
            f"KTO rows made from the valid records, and the base set when one is merged.</p></section>")


def base_flow(base: dict[str, Any] | None) -> str:
    """The base set's records, merged or rejected (by reason), when one was read."""
    if not base:
        return ""
    reasons = base["rejected_by_reason"]
    rejected = sum(reasons.values())
    why = " + ".join(f"{escape(k)} {figure('base.rejected.' + k, v)}" for k, v in reasons.items())
    return (f"<p>base set: read {figure('base.read', base['read'])} = merged "
            f"{figure('base.merged', base['merged'])} + rejected {figure('base.rejected', rejected)}"
            f"{' (' + why + ')' if why else ''}</p>"
            + charts.parts_bar("base read", [(f"rejected: {k}", v, f"rej{i % 4}") for i, (k, v)
                                             in enumerate(reasons.items())]
                               + [("merged", base["merged"], "good")]))


def ratings(data: ReportData) -> str:
    if not data.ratings:
        return "<section><h2>Ratings by model</h2><p>No valid feedback.</p></section>"
    rows = "".join(
        f"<tr><td>{clip(m, 40)}</td>" + "".join(f'<td class="n">{n:,}</td>' for n in counts)
        + f'<td class="n">{sum(counts):,}</td><td class="n">'
        + f"{figure('samples.' + m, data.samples_per_model.get(m, 0))}</td></tr>"
        for m, counts in data.ratings.items())
    undated = f" ({data.undated:,} valid records have no date and are left out)" if data.undated else ""
    return (f"<section><h2>Ratings by model</h2>{charts.rating_bars(data.ratings)}"
            f"<table><tr><th>model</th>" + "".join(f'<th class="n">{s}★</th>' for s in range(1, 6))
            + f'<th class="n">valid</th><th class="n">samples</th></tr>{rows}</table></section>'
            f"<section><h2>Average rating per model, by {data.grain}</h2>"
            f"{charts.rating_lines(data.periods, data.averages, data.grain)}"
            f'<p class="muted">By {data.grain}: the log spans {len(data.periods)} {data.grain}(s){undated}. '
            f"Up to 8 models are drawn, the most rated first.</p></section>")


def files(data: ReportData) -> str:
    if not data.files:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(f.name)}</code></td><td>{escape(f.format)}</td><td>{escape(f.trainer)}</td>"
        f'<td class="n">{figure(f"file.{f.name}.rows", f.rows)}</td><td class="n">{size(f.bytes)}</td>'
        f'<td class="n">{f.left_out:,}</td></tr>' for f in data.files)
    heads = "".join(file_head(f) for f in data.files if f.head)
    return (f"<section><h2>Files written</h2><table><tr><th>file</th><th>format</th><th>for</th>"
            f'<th class="n">rows</th><th class="n">size</th><th class="n">left out (written before)</th></tr>'
            f"{rows}</table>{heads}</section>")


def file_head(f: FileFigures) -> str:
    """A file's first rows as a table of its keys (or its first lines, for a text file)."""
    if all(isinstance(r, dict) for r in f.head):
        keys = list(dict.fromkeys(k for r in f.head for k in r))
        body = "".join("<tr>" + "".join(f"<td>{clip(r.get(k, ''))}</td>" for k in keys) + "</tr>"
                       for r in f.head)
        table = f"<table><tr>{''.join(f'<th>{escape(k)}</th>' for k in keys)}</tr>{body}</table>"
    else:
        table = f'<pre class="full mono">{escape(str(f.head[0])[:4000])}</pre>'
    return (f'<div class="file-head"><b><code>{escape(f.name)}</code></b> '
            f'<span class="muted">first {len(f.head)} row(s)</span><div class="scroll">{table}</div></div>')


def loop(figures: dict[str, dict[str, int | float]]) -> str:
    if not figures:
        return ""
    rows = "".join(f"<tr><th>{escape(topic)}</th><td>" + ", ".join(
        f"{escape(k)} {figure(f'figure.{topic}.{k}', v)}" for k, v in values.items()) + "</td></tr>"
        for topic, values in figures.items())
    return f"<section><h2>The loop</h2><table>{rows}</table></section>"


def models(b: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(m['name'])}</code></td><td>{escape(m.get('materialized') or '')}</td>"
        f"<td>{escape(m.get('role') or '')}</td><td class=\"n\">"
        f"{figure('model.' + m['name'] + '.rows', m['rows']) if m['rows'] is not None else 'view'}</td>"
        f'<td class="n">{m["seconds"]:.2f}</td><td>{escape(", ".join(m.get("depends_on", [])))}</td></tr>'
        for m in b["models"])
    return (f'<section><h2>Models</h2><div class="scroll">{charts.lineage(b["models"])}</div>'
            f'<table><tr><th>model</th><th>as</th><th>role</th><th class="n">rows</th><th class="n">s</th>'
            f"<th>reads</th></tr>{rows}</table></section>")


def tests(b: dict[str, Any]) -> str:
    if not b["tests"]:
        return "<section><h2>Data tests</h2><p>None ran.</p></section>"
    rows = "".join(
        f"<tr><td><code>{escape(t['name'])}</code></td><td class=\"{t['status']}\">{escape(t['status'])}</td>"
        f"<td class=\"n\">{figure('test.' + t['name'] + '.failures', t['failures'])}</td></tr>"
        for t in b["tests"])
    return (f"<section><h2>Data tests</h2><table><tr><th>test</th><th>result</th>"
            f'<th class="n">failing rows</th></tr>{rows}</table></section>')


def stage_page(database: Path | duckdb.DuckDBPyConnection, run_results: Path, where: dict[Path, Path],
               out: Path) -> None:
    """Write the report of the build whose database (or, changed in place, its connection) and
    run_results.json are given to out (fsynced); where maps each file's place to where it is now
    (its staged copy, during a build)."""
    build = json.loads(run_results.read_text(encoding="utf-8"))
    opened = isinstance(database, Path)
    con = connect_read_only(database, str(database), wait=False) if opened else database  # (under the lock)
    try:
        page = render_page(collect_report(con, build, where))
    finally:
        if opened:
            con.close()
    write_synced(out, page)


def stage_failure_page(out: Path, why: str) -> bool:
    """A page saying the report could not be written and why, so no older build's report stays in
    its place; False if even that cannot be written."""
    try:
        write_synced(out, f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>fbt build '
                          f"report</title></head><body><h1>fbt build report</h1><p>The build finished, but "
                          f"its report could not be written: {escape(why)}</p><p>Run <code>python cli.py "
                          f"report</code> to try again.</p></body></html>\n")
        return True
    except OSError:
        out.unlink(missing_ok=True)
        return False


def write_synced(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def interrupted(error: BaseException) -> bool:
    """Whether an error is Ctrl-C or SIGTERM arriving (DuckDB's 'Query interrupted' included)."""
    return isinstance(error, InterruptError) or bool(Deferral.received) or query_interrupted(error)
