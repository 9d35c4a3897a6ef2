"""Bar charts drawn on the server, for the officer's reports and the legal aid scorecard: the
numbers here, the SVG in templates/charts.html (macro bar_chart). No script, nothing fetched, no
inline style (a bar's length is an SVG attribute, which the page's CSP allows). The figures
stand beside each chart in a table, for screen readers and for reading exact values."""
from __future__ import annotations

ROW_HEIGHT = 28  # a label line and its bar


def bars(rows: list[tuple[str, float | None, str]]) -> dict:
    """[(label, value, shown)] -> rows with a width in percent of the largest value; `shown` is
    the value as the page writes it (its language, taka or a count)."""
    top = max([v for _l, v, _s in rows if v] or [1])
    return {"rows": [{"label": label, "shown": text, "width": round(100 * (value or 0) / top, 1), "y": i * ROW_HEIGHT}
                     for i, (label, value, text) in enumerate(rows)],
            "height": max(1, len(rows)) * ROW_HEIGHT}
