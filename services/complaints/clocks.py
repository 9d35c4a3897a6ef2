"""PLACEHOLDER until the clocks work package (branch wp/complaints-clocks) is merged: its
clocks.py replaces this file. `apply` runs on every write (changes.save); here it only
says nothing is due, so the queue orders and the due-date fields exist from the start."""
from __future__ import annotations

from datetime import datetime, timezone

NOTHING_DUE = datetime(9999, 12, 31, tzinfo=timezone.utc)


def apply(complaint: dict, now: datetime) -> None:
    complaint["due_order"] = NOTHING_DUE
    complaint.setdefault("overdue_stages", [])
    complaint.setdefault("overdue", None)
