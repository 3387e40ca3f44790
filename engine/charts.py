"""The build report's charts, as inline SVG written by hand: stacked bars, lines over time, the record
flow and the models' lineage. Colours are CSS classes the page styles (light and dark), texts are
real text (so the page's font stack renders CJK), and every mark has a <title> for hover."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

FONT = 12          # px; the page's font at this size
ROW = 22           # a bar's height
LABEL = 190        # room for the labels left of the bars
WIDTH = 860        # the drawing's width; it scales down with the page


def svg(width: float, height: float, body: list[str], label: str) -> str:
    """An SVG element that scales with the page, drawn in a width x height box."""
    return (f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'role="img" aria-label="{escape(label)}">{"".join(body)}</svg>')


def text(x: float, y: float, content: str, cls: str = "", anchor: str = "start", limit: int = 0) -> str:
    """A text at (x, y), cut to limit characters (the whole text in its title)."""
    shown = content if not limit or len(content) <= limit else content[: limit - 1] + "…"
    title = f"<title>{escape(content)}</title>" if shown != content else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{title}'
            f"{escape(shown)}</text>")


def rect(x: float, y: float, w: float, h: float, cls: str, title: str) -> str:
    return (f'<rect x="{x:.2f}" y="{y:.1f}" width="{max(w, 0):.2f}" height="{h:.1f}" class="{cls}">'
            f"<title>{escape(title)}</title></rect>")


def share(part: int, whole: int) -> str:
    """
    >>> share(1, 3), share(0, 0)
    ('33.3%', '0%')
    """
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def rating_bars(ratings: dict[str, list[int]]) -> str:
    """Each model's ratings 1..5 as one bar of 100%, its count and average at the end."""
    bar = WIDTH - LABEL - 150
    body = []
    for i, (model, counts) in enumerate(ratings.items()):
        y, total = 8 + i * (ROW + 8), sum(counts)
        body.append(text(0, y + ROW * 0.7, model, "label", limit=26))
        x = float(LABEL)
        for stars, n in enumerate(counts, 1):
            w = bar * n / total if total else 0
            body.append(rect(x, y, w, ROW, f"r{stars}", f"{model}: {stars}★ {n:,} ({share(n, total)})"))
            if w > 34:
                body.append(text(x + w / 2, y + ROW * 0.7, f"{n:,}", "inbar", "middle"))
            x += w
        mean = sum(s * n for s, n in enumerate(counts, 1)) / total if total else 0
        body.append(text(LABEL + bar + 10, y + ROW * 0.7, f"{total:,} · avg {mean:.2f}", "note"))
    legend_y = 8 + len(ratings) * (ROW + 8) + 6
    for stars in range(1, 6):
        x = LABEL + (stars - 1) * 70
        body += [rect(x, legend_y, 12, 12, f"r{stars}", f"{stars}★"),
                 text(x + 16, legend_y + 10, f"{stars}★", "note")]
    return svg(WIDTH, legend_y + 20, body, "ratings by model")


def rating_lines(periods: list[str], averages: dict[str, list[float | None]], grain: str) -> str:
    """The average rating of each model in each period (1 to 5), one line per model."""
    left, top, plot_w, plot_h = 40, 12, WIDTH - 40 - 180, 220
    step = plot_w / max(len(periods) - 1, 1)

    def at(i: int, value: float) -> tuple[float, float]:
        return left + (i * step if len(periods) > 1 else plot_w / 2), top + plot_h * (5 - value) / 4

    body = []
    for stars in range(1, 6):
        _, y = at(0, stars)
        body += [f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>',
                 text(left - 8, y + 4, f"{stars}★", "note", "end")]
    every = max(1, -(-len(periods) // 10))
    for i, p in enumerate(periods):
        if i % every == 0 or i == len(periods) - 1:
            x, _ = at(i, 1)
            body.append(text(x, top + plot_h + 18, p[5:] if grain == "day" else p, "note", "middle"))
    for k, (model, values) in enumerate(list(averages.items())[:8]):
        points = [(i, v) for i, v in enumerate(values) if v is not None]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(i, v) for i, v in points))
        if len(points) > 1:
            body.append(f'<polyline points="{path}" class="line s{k}"/>')
        for i, v in points:
            x, y = at(i, v)
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" class="dot s{k}">'
                        f"<title>{escape(model)}, {grain} of {periods[i]}: {v:.2f}</title></circle>")
        ly = top + 6 + k * 20
        body += [rect(left + plot_w + 20, ly, 12, 12, f"fill s{k}", model),
                 text(left + plot_w + 38, ly + 10, model, "note", limit=20)]
    return svg(WIDTH, top + plot_h + 28, body, f"average rating per model by {grain}")


def flow_chart(read: int, rejected: dict[str, int], valid: int, excluded: dict[str, int], samples: int,
               files: Sequence[tuple[str, int]]) -> str:
    """Every record on one scale: read, split into the rejected (by reason) and the valid; the valid
    split into the excluded (by filter) and the samples; then each file's rows. A legend names
    every part."""
    scale = (WIDTH - LABEL - 60) / max(read, *(rows for _, rows in files), 1)
    body: list[str] = []

    def stage(y: float, x0: float, label: str,
              parts: list[tuple[str, int, str]]) -> list[tuple[float, float]]:
        body.append(text(0, y + ROW * 0.7, label, "label", limit=26))
        x, spans = x0, []
        for name, n, cls in parts:
            w = max(n * scale, 1.0 if n else 0.0)
            body.append(rect(x, y, w, ROW, cls, f"{name}: {n:,}"))
            words = f"{name} {n:,}" if len(parts) > 1 else f"{n:,}"
            if w > 7 * len(words) + 8:
                body.append(text(x + w / 2, y + ROW * 0.7, words, "inbar", "middle"))
            elif len(parts) == 1:
                body.append(text(x + w + 6, y + ROW * 0.7, words, "note"))
            spans.append((x, w))
            x += w
        return spans

    reasons = [(k, v, f"rej{i % 4}") for i, (k, v) in enumerate(rejected.items())]
    filters = [(k, v, f"exc{i % 4}") for i, (k, v) in enumerate(excluded.items()) if v]
    first = stage(0, LABEL, f"read {read:,}", reasons + [("valid", valid, "ok")])
    y2 = ROW + 26
    x, w = first[-1]
    body.append(f'<path d="M{x:.2f},{ROW} L{x + w:.2f},{ROW} L{x + w:.2f},{y2} L{x:.2f},{y2} Z" '
                'class="band"/>')
    stage(y2, x, f"valid {valid:,}", filters + [("samples", samples, "good")])
    y = y2 + ROW + 20
    if files:
        body.append(text(0, y + 10, "rows per file", "note"))
        y += 18
    for name, rows in files:
        stage(y, LABEL, name, [(name, rows, "file")])
        y += ROW + 6
    y += 8
    x = float(LABEL)
    for name, n, cls in [(f"rejected: {k}", v, c) for k, v, c in reasons] + filters:
        words = f"{name} {n:,}"
        body += [rect(x, y, 12, 12, cls, words), text(x + 16, y + 10, words, "note")]
        x += 16 + 7 * len(words) + 18
        if x > WIDTH - 150:
            x, y = float(LABEL), y + 18
    return svg(WIDTH, y + 20, body, "what happened to every record")


def parts_bar(label: str, parts: list[tuple[str, int, str]]) -> str:
    """One bar of 100%, split into named parts (name, count, CSS class), a legend under it."""
    total = sum(n for _, n, _ in parts)
    bar, x = WIDTH - LABEL - 60, float(LABEL)
    body = [text(0, ROW * 0.7, f"{label} {total:,}", "label", limit=26)]
    for name, n, cls in parts:
        w = bar * n / total if total else 0
        body.append(rect(x, 0, w, ROW, cls, f"{name}: {n:,} ({share(n, total)})"))
        x += w
    x, y = float(LABEL), ROW + 10
    for name, n, cls in parts:
        words = f"{name} {n:,}"
        body += [rect(x, y, 12, 12, cls, words), text(x + 16, y + 10, words, "note")]
        x += 16 + 7 * len(words) + 18
    return svg(WIDTH, y + 20, body, label)


def lineage(models: Sequence[dict[str, Any]]) -> str:
    """The models as a graph, left to right in build order (a model right of what it reads), each box
    with its rows (or 'view') and seconds."""
    layer: dict[str, int] = {}
    names = {m["name"] for m in models}
    for m in models:  # in build order, so every dependency has its layer already
        layer[m["name"]] = 1 + max((layer.get(d, -1) for d in m["depends_on"] if d in names), default=-1)
    columns: dict[int, list[dict[str, Any]]] = {}
    for m in models:
        columns.setdefault(layer[m["name"]], []).append(m)
    box_w, box_h, gap_x, gap_y = 176, 40, 56, 12
    place: dict[str, tuple[float, float]] = {}
    for c in sorted(columns):
        rows = columns[c]
        if c:  # under the average place of what each reads, to keep lines short
            rows.sort(key=lambda m: sum(place[d][1] for d in m["depends_on"] if d in place)
                      / max(1, sum(d in place for d in m["depends_on"])))
        for i, m in enumerate(rows):
            place[m["name"]] = (c * (box_w + gap_x), i * (box_h + gap_y))
    body = []
    for m in models:
        x, y = place[m["name"]]
        for d in m["depends_on"]:
            if d in place:
                px, py = place[d]
                sx, sy, ex, ey = px + box_w, py + box_h / 2, x, y + box_h / 2
                body.append(f'<path d="M{sx},{sy} C{sx + gap_x / 2},{sy} {ex - gap_x / 2},{ey} {ex},{ey}" '
                            f'class="edge"><title>{escape(m["name"])} reads {escape(d)}</title></path>')
    for m in models:
        x, y = place[m["name"]]
        rows = "view" if m["rows"] is None else f"{m['rows']:,} rows"
        role = f" · {m['role']}" if m.get("role") else ""
        body += [f'<g class="node {m.get("materialized", "")}">',
                 rect(x, y, box_w, box_h, "box", f"{m['name']}: {rows}, {m['seconds']:.2f} s{role}"),
                 text(x + 8, y + 16, m["name"], "name", limit=24),
                 text(x + 8, y + 32, f"{rows} · {m['seconds']:.2f} s{role}", "note", limit=28), "</g>"]
    width = (max(columns, default=0) + 1) * (box_w + gap_x) - gap_x
    height = max((len(v) for v in columns.values()), default=1) * (box_h + gap_y) - gap_y
    return svg(max(width, 1), max(height, 1), body, "the models' lineage")
