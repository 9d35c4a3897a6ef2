"""Clocks of a complaint. No I/O: callers pass `now` (the service's or the timer's clock).

BMET's citizen charter promises: preliminary scrutiny, an investigation committee formed and
the complainant told, at most 3 hearings, disposal within 3 months. Several clocks, each
with its target in days on the complaint (`target_days`, from configuration at intake), may
run at once:

- `scrutiny`: from filing until scrutiny starts (it runs while the complaint is received);
- `acknowledgement`: from filing until the complaint is acknowledged (committee formed and
  the complainant told);
- `disposal`: from filing until a decision (settled, award issued, dismissed), withdrawal
  or closing. It stands still while the complaint is referred and some body holds it: the
  delay is then on that body, and runs on the referral's own clock. It runs on from where it
  stood when the bodies have declined or completed (the office has the case back).
  Reopening starts a new disposal clock, `disposal:reopening:<n>` for the n-th reopening:
  a new promise to the complainant, with its own once-only mark;
- `referral:<n>`: each referral's own clock, due at the referral's `due_at`, running while
  the body holds it (pending or accepted) and the complaint is neither closed nor withdrawn.

Payment deadlines of settlements and awards are awards.py's (not_complied), not clocks.

What the complaint carries (written by `apply` on every write, through changes.save):
- `clocks`: stage -> {kind, state (running | paused | stopped), started_at, running_since,
  counted_seconds (run before running_since), target_days, due_at (while running the due
  date; stopped: the due date it had; paused: None), stopped_at, marked_at};
- `due_order`: the earliest due date among running clocks, marked or not, so the queue's
  overdue filter (due_order <= now) keeps a complaint that is overdue in any stage still
  running; NOTHING_DUE (after every date) when nothing runs to a due date;
- `alarm_at`: the earliest due date among running clocks not yet marked, absent (not null:
  the timer's index is sparse) when none can fall due;
- `overdue_stages`: every stage ever marked. Once per complaint and stage: a stage in it
  never alarms again, even if its clock stops and runs again;
- `overdue`: the latest mark among clocks still running ({stage, due_at, marked_at}), or
  None: a stopped or paused clock's delay is over or is someone else's.
"""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

from . import domain, referrals

SCRUTINY, ACKNOWLEDGEMENT, DISPOSAL, REFERRAL = "scrutiny", "acknowledgement", "disposal", "referral"
RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
# The queue sorts on `due_order`: complaints with nothing due come after every due date.
NOTHING_DUE = datetime(9999, 12, 31, tzinfo=timezone.utc)
DAY = timedelta(days=1)

_SCRUTINY_RUNS = frozenset({domain.RECEIVED})
_ACKNOWLEDGEMENT_RUNS = frozenset({domain.RECEIVED, domain.SCRUTINY})
# Before a decision; `referred` runs only while no body holds the complaint.
_UNDECIDED = frozenset({domain.RECEIVED, domain.SCRUTINY, domain.ACKNOWLEDGED, domain.NOTICE_TO_RESPONDENT,
                        domain.HEARING, domain.REFERRED, domain.REOPENED})


def disposal_stage(complaint: dict) -> str:
    reopened = len(complaint.get("reopenings") or [])
    return DISPOSAL if not reopened else f"{DISPOSAL}:reopening:{reopened}"


def referral_stage(referral_no: int) -> str:
    return f"{REFERRAL}:{referral_no}"


def apply(complaint: dict, now: datetime) -> None:
    """Bring the complaint's clocks to its state as of `now` (in place) and derive the
    queue's sort key, the timer's alarm and the current overdue mark."""
    clocks = copy.deepcopy(complaint.get("clocks") or {})  # never change the previous version's
    targets = complaint.get("target_days") or {}
    wanted = _wanted(complaint)
    for stage, (kind, state, started_at) in wanted.items():
        clock = clocks.get(stage) or _new(stage, kind, started_at, targets.get(kind))
        _step(clock, state, now)
        clock["due_at"] = _due(clock, complaint)
        clocks[stage] = clock
    for stage, clock in clocks.items():
        if stage not in wanted and clock["state"] != STOPPED:  # a disposal clock before a reopening
            _step(clock, STOPPED, now)
    complaint["clocks"] = clocks
    marked = complaint.setdefault("overdue_stages", [])
    running = [c for c in clocks.values() if c["state"] == RUNNING and c["due_at"] is not None]
    complaint["due_order"] = min((c["due_at"] for c in running), default=NOTHING_DUE)
    complaint.pop("alarm_at", None)
    unmarked = [c["due_at"] for c in running if c["stage"] not in marked]
    if unmarked:
        complaint["alarm_at"] = min(unmarked)
    marks = [c for c in running if c["stage"] in marked and c.get("marked_at")]
    latest = max(marks, key=lambda c: c["marked_at"], default=None)
    complaint["overdue"] = None if latest is None else {
        "stage": latest["stage"], "due_at": latest["due_at"], "marked_at": latest["marked_at"]}


def running_clocks(complaint: dict) -> list[str]:
    """The stages whose clocks run, earliest due first (those without a target last)."""
    running = [c for c in (complaint.get("clocks") or {}).values() if c["state"] == RUNNING]
    return [c["stage"] for c in sorted(running, key=lambda c: (c["due_at"] or NOTHING_DUE, c["stage"]))]


def mark_overdue(complaint: dict, now: datetime) -> dict | None:
    """The complaint marked overdue in its earliest running clock past due and not marked
    yet (the stage is the last of `overdue_stages`), or None: nothing is due, or every due
    stage was marked already (once per complaint and stage)."""
    marked = complaint.get("overdue_stages") or []
    due = sorted((c["due_at"], c["stage"]) for c in (complaint.get("clocks") or {}).values()
                 if c["state"] == RUNNING and c["due_at"] is not None and c["due_at"] <= now
                 and c["stage"] not in marked)
    if not due:
        return None
    stage = due[0][1]
    clocks = copy.deepcopy(complaint["clocks"])
    clocks[stage]["marked_at"] = now
    result = domain.touched(complaint, now, clocks=clocks, overdue_stages=[*marked, stage])
    apply(result, now)
    return result


def is_overdue(complaint: dict, now: datetime) -> bool:
    """Some running clock is past its due date (what the queue's overdue filter keeps)."""
    return complaint.get("due_order", NOTHING_DUE) <= now


# -- the clocks' state --------------------------------------------------------------------

def _wanted(complaint: dict) -> dict[str, tuple[str, str, datetime]]:
    """stage -> (kind, the state it should be in, when it started) for the complaint as it is."""
    status, filed = complaint["status"], complaint["created_at"]
    reopenings = complaint.get("reopenings") or []
    if status in _UNDECIDED:
        disposal = PAUSED if status == domain.REFERRED and referrals.active(complaint) else RUNNING
    else:
        disposal = STOPPED
    wanted = {SCRUTINY: (SCRUTINY, RUNNING if status in _SCRUTINY_RUNS else STOPPED, filed),
              ACKNOWLEDGEMENT: (ACKNOWLEDGEMENT, RUNNING if status in _ACKNOWLEDGEMENT_RUNS else STOPPED, filed),
              disposal_stage(complaint): (DISPOSAL, disposal, reopenings[-1]["at"] if reopenings else filed)}
    for referral in complaint.get("referrals") or []:
        held = referral["state"] in (referrals.PENDING, referrals.ACCEPTED) and status not in domain.FINAL
        wanted[referral_stage(referral["referral_no"])] = (REFERRAL, RUNNING if held else STOPPED,
                                                           referral["history"][0]["at"])
    return wanted


def _new(stage: str, kind: str, started_at: datetime, target_days) -> dict:
    return {"stage": stage, "kind": kind, "state": RUNNING, "started_at": started_at, "running_since": started_at,
            "counted_seconds": 0.0, "target_days": None if kind == REFERRAL else target_days, "due_at": None,
            "stopped_at": None, "marked_at": None}


def _step(clock: dict, state: str, now: datetime) -> None:
    """Move the clock to `state` at `now`, counting the time it ran."""
    if clock["state"] == RUNNING and state != RUNNING:
        clock["counted_seconds"] += max((now - clock["running_since"]).total_seconds(), 0.0)
        clock["running_since"] = None
    elif clock["state"] != RUNNING and state == RUNNING:
        clock["running_since"], clock["stopped_at"] = now, None
    if state == STOPPED and clock["state"] != STOPPED:
        clock["stopped_at"] = now
    clock["state"] = state


def _due(clock: dict, complaint: dict) -> datetime | None:
    if clock["state"] == STOPPED:
        return clock["due_at"]  # the due date it had, to compare with when it stopped
    if clock["state"] == PAUSED:
        return None
    if clock["kind"] == REFERRAL:
        number = int(clock["stage"].split(":")[1])
        return next(r["due_at"] for r in complaint["referrals"] if r["referral_no"] == number)
    if not clock["target_days"]:
        return None
    return clock["running_since"] + clock["target_days"] * DAY - timedelta(seconds=clock["counted_seconds"])
