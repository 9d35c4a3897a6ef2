"""Stage clocks of a claim. No I/O: callers pass `now` (the service's or the timer's clock).

Each stage with a target in the catalogue the claim was filed under (`target_days`, kept
on the claim) has a clock: documents_pending; under_review (recommended and
review_requested are still the decision's time); payment_ordered. The clock starts when the
claim enters the stage and its due date is the start plus the target days, plus any time
it stood still:
- waiting on the family (awaiting_information from the family) it stands still and
  nothing runs: the family's time is not the board's;
- waiting on a mission abroad it stands still too, and the wait runs on the mission's own
  clock (`awaiting_mission`: its time is counted across waits; due when the catalogue
  names a target for it);
- back from a wait to the same stage it runs on from where it stopped; a new stage (or the
  same one entered again after leaving it, e.g. a review after a rejection) starts afresh.

`apply` is called by changes.save on every write, so every change keeps the clock and its
index keys in step. `mark_overdue` is the timer's step (timers.py): once per claim and
stage, recorded in `overdue_stages`, which the timer's conditional write checks.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from . import domain

MISSION = "awaiting_mission"
# Status -> the stage clock that runs in it. Statuses not here have no clock.
STAGE_OF = {domain.DOCUMENTS_PENDING: "documents_pending", domain.UNDER_REVIEW: "under_review",
            domain.RECOMMENDED: "under_review", domain.REVIEW_REQUESTED: "under_review",
            domain.PAYMENT_ORDERED: "payment_ordered"}
# The queue sorts on `due_order`: claims with nothing due come after every due date.
NOTHING_DUE = datetime(9999, 12, 31, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def apply(claim: dict, now: datetime) -> None:
    """Bring the claim's clock to its status as of `now` (in place) and derive its due date,
    the queue's sort key and the timer's alarm."""
    before = claim.get("clock") or {}
    clock = _copy(before) or _stopped(None)
    if clock["status"] != claim["status"]:
        clock = _moved(clock, claim, now)
        if clock["started_at"] != before.get("started_at"):
            claim["overdue"] = None  # the mark belongs to the stage clock it was made on
    clock["due_at"] = _due(clock, claim.get("target_days") or {})
    claim["clock"] = clock
    claim["due_order"] = clock["due_at"] or NOTHING_DUE
    running = running_clock(claim)
    unmarked = running is not None and running not in (claim.get("overdue_stages") or [])
    claim.pop("alarm_at", None)  # absent, not null: the timer's sparse index holds only claims with an alarm
    if clock["due_at"] and unmarked:
        claim["alarm_at"] = clock["due_at"]
    claim.setdefault("overdue", None)
    claim.setdefault("overdue_stages", [])


def running_clock(claim: dict) -> str | None:
    """The clock that can fall due now: the mission's while it is awaited, else the stage's."""
    clock = claim.get("clock") or {}
    if clock.get("paused_for") == "mission":
        return MISSION
    if clock.get("paused_for"):
        return None
    return clock.get("stage")


def mark_overdue(claim: dict, now: datetime) -> dict | None:
    """The claim marked overdue in its running clock, or None: not due yet, or that stage
    was marked already (once per claim and stage)."""
    due, running = (claim.get("clock") or {}).get("due_at"), running_clock(claim)
    if due is None or due > now or running in (claim.get("overdue_stages") or []):
        return None
    marked = domain.touched(claim, now, overdue={"stage": running, "due_at": due, "marked_at": now},
                            overdue_stages=[*(claim.get("overdue_stages") or []), running])
    apply(marked, now)
    return marked


def is_overdue(claim: dict, now: datetime) -> bool:
    due = (claim.get("clock") or {}).get("due_at")
    return due is not None and due <= now


# -- the clock's state ----------------------------------------------------------------------

def _stopped(stage: str | None) -> dict:
    return {"status": None, "stage": stage, "started_at": None, "running_since": None, "counted_seconds": 0.0,
            "paused_for": None, "mission": {"since": None, "counted_seconds": 0.0, "waits": 0}, "due_at": None}


def _copy(clock: dict | None) -> dict | None:
    return {**clock, "mission": dict(clock["mission"])} if clock else None


def _moved(clock: dict, claim: dict, now: datetime) -> dict:
    """The clock after the claim moved from clock['status'] to claim['status'] at `now`."""
    came_from, status = clock["status"], claim["status"]
    if clock["running_since"] is not None:
        clock["counted_seconds"] += (now - clock["running_since"]).total_seconds()
        clock["running_since"] = None
    mission = clock["mission"]
    if mission["since"] is not None:
        mission["counted_seconds"] += (now - mission["since"]).total_seconds()
        mission["since"] = None
    clock["paused_for"] = None
    clock["status"] = status
    if status == domain.AWAITING_INFORMATION:
        source = (claim.get("information_request") or {}).get("from")
        clock["paused_for"] = "mission" if source == "mission" else "family"
        if clock["paused_for"] == "mission":
            mission["since"] = now
            mission["waits"] += 1
        return clock
    stage = STAGE_OF.get(status)
    if stage is None:
        return {**_stopped(None), "status": status, "mission": mission}
    if stage == clock["stage"] and (came_from == domain.AWAITING_INFORMATION or STAGE_OF.get(came_from) == stage):
        clock["running_since"] = now  # runs on from where it stopped
        return clock
    return {**_stopped(stage), "status": status, "started_at": now, "running_since": now, "mission": mission}


def _due(clock: dict, target_days: dict) -> datetime | None:
    if clock["paused_for"] == "mission":
        target = target_days.get(MISSION)
        return clock["mission"]["since"] + target * DAY if target else None
    if clock["paused_for"] or clock["running_since"] is None:
        return None
    target = target_days.get(clock["stage"])
    if not target:
        return None
    return clock["running_since"] + target * DAY - timedelta(seconds=clock["counted_seconds"])
