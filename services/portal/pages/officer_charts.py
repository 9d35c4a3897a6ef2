"""Bar charts drawn on the server as SVG: no script, nothing fetched, and the page's style rules
may stay strict (a bar's length is an SVG attribute, not an inline style). The figures stand
beside each chart in a table, for screen readers and for reading exact values."""
from __future__ import annotations

from markupsafe import Markup, escape

BAR, GAP, LABEL_WIDTH, WIDTH = 22, 8, 150, 560


def bar_chart(labels: list[str], values: list[int], show) -> Markup:
    """Horizontal bars, one per label; `show` writes a value in the page's language. The SVG is
    hidden from screen readers (aria-hidden): the table beside it says the same."""
    top = max([v for v in values if v] or [1])
    room = WIDTH - LABEL_WIDTH - 90
    height = max(1, len(values)) * (BAR + GAP)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" aria-hidden="true" focusable="false" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = i * (BAR + GAP)
        length = round(room * (value or 0) / top)
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR * 0.7:.0f}" text-anchor="end">{escape(short)}</text>'
                     f'<rect x="{LABEL_WIDTH}" y="{y}" width="{max(length, 1)}" height="{BAR}" class="bar"></rect>'
                     f'<text x="{LABEL_WIDTH + max(length, 1) + 6}" y="{y + BAR * 0.7:.0f}">{escape(show(value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
