"""Medians and the final table."""
from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass
class Row:
    benchmark: str
    unit: str
    baseline: float
    project: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.project / self.baseline if self.baseline else float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"


def table(rows: list[Row]) -> str:
    header = ("benchmark", "unit", "raw baseline", "project", "ratio", "note")
    lines = [(r.benchmark, r.unit, _fmt(r.baseline), _fmt(r.project), f"{r.ratio:.2f}", r.note) for r in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
           "| " + " | ".join("-" * w for w in widths) + " |"]
    out += ["| " + " | ".join(str(x).ljust(w) for x, w in zip(line, widths)) + " |" for line in lines]
    return "\n".join(out)
