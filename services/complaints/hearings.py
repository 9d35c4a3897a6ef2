"""Hearings of a complaint: scheduled with a date, venue and parties; held (attendance and
minutes) or adjourned to a next date, which schedules the next one. The number of hearings
is capped by configuration (the charter says 3); scheduling past the cap needs a reason.
No I/O: the caller passes `now`, the actor and the cap.
"""
from __future__ import annotations

from datetime import date, datetime

from shared.errors import Conflict, Invalid

from . import domain, referrals

SCHEDULED, HELD, ADJOURNED = "scheduled", "held", "adjourned"
PARTIES = ("complainant", "recruiting_agency", "sub_agent", "employer_abroad", "witness")
CHARTER_CAP = 3


def _open(complaint: dict) -> dict | None:
    return next((h for h in complaint["hearings"] if h["state"] == SCHEDULED), None)


def _check_new(complaint: dict, on: date, venue, parties, over_cap_reason, cap: int, now: datetime,
               today: date) -> dict:
    errors: dict[str, list[str]] = {}
    if not isinstance(on, date) or isinstance(on, datetime) or on <= today:
        errors["date"] = ["A hearing is scheduled for a later day."]
    if not isinstance(venue, str) or not venue.strip():
        errors["venue"] = ["Say where the hearing is held."]
    if not isinstance(parties, list) or "complainant" not in parties or len(parties) < 2 or \
            any(p not in PARTIES for p in parties):
        errors["parties"] = [f"List the complainant and at least one respondent, from {', '.join(PARTIES)}."]
    if errors:
        raise Invalid(errors)
    if len(complaint["hearings"]) >= cap and not (isinstance(over_cap_reason, str) and over_cap_reason.strip()):
        raise Conflict(f"{len(complaint['hearings'])} hearings were already scheduled, the most the charter "
                       f"allows ({cap}); another needs a reason.", hearings=len(complaint["hearings"]), cap=cap)
    return {"hearing_no": len(complaint["hearings"]) + 1, "date": on.isoformat(), "venue": venue.strip(),
            "parties": list(parties), "state": SCHEDULED, "over_cap_reason": over_cap_reason or None,
            "notices": [{"party": p, "sent_at": now} for p in parties], "attendance": None, "minutes": None,
            "next_date": None}


def schedule(complaint: dict, *, on: date, venue: str, parties: list[str], actor: dict, now: datetime, today: date,
             cap: int = CHARTER_CAP, over_cap_reason: str | None = None) -> dict:
    """A hearing and a notice to each party. The first moves the complaint to `hearing`.
    `today` is Dhaka's date: a hearing is for a later day there, whatever the UTC date."""
    if complaint["status"] != domain.HEARING:
        domain.check_step(complaint, domain.HEARING)
    if complaint["status"] == domain.REFERRED and referrals.active(complaint):
        raise Conflict("The complaint is heard again once the bodies it was referred to have declined or "
                       "completed.", complaint_status=domain.REFERRED, allowed=[domain.CLOSED])
    if _open(complaint):
        raise Conflict("A hearing is already scheduled; hold or adjourn it first.",
                       complaint_status=complaint["status"], allowed=[HELD, ADJOURNED])
    hearing = {**_check_new(complaint, on, venue, parties, over_cap_reason, cap, now, today),
               "scheduled_by": actor["user"]}
    hearings = [*complaint["hearings"], hearing]
    if complaint["status"] == domain.HEARING:
        return domain.touched(complaint, now, hearings=hearings)
    return domain.moved(complaint, domain.HEARING, now, hearings=hearings)


def hold(complaint: dict, *, attendance: dict, minutes: str, actor: dict, now: datetime) -> dict:
    """Held: who came (did the respondent?) and the minutes."""
    hearing = _current(complaint)
    errors: dict[str, list[str]] = {}
    if not isinstance(attendance, dict) or set(attendance) != set(hearing["parties"]) or \
            not all(isinstance(v, bool) for v in attendance.values()):
        errors["attendance"] = [f"Say for each party ({', '.join(hearing['parties'])}) whether they came."]
    if not isinstance(minutes, str) or not minutes.strip():
        errors["minutes"] = ["Write the minutes of the hearing."]
    if errors:
        raise Invalid(errors)
    done = {**hearing, "state": HELD, "attendance": dict(attendance), "minutes": minutes.strip(),
            "held_by": actor["user"], "held_at": now}
    return domain.touched(complaint, now, hearings=_replace(complaint, done))


def adjourn(complaint: dict, *, next_date: date, reason: str, actor: dict, now: datetime, today: date,
            cap: int = CHARTER_CAP, over_cap_reason: str | None = None) -> dict:
    """Adjourned to `next_date`, which is the next hearing (counted against the cap)."""
    hearing = _current(complaint)
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid({"reason": ["Say why the hearing is adjourned."]})
    following = _check_new(complaint, next_date, hearing["venue"], hearing["parties"], over_cap_reason, cap, now,
                           today)
    adjourned = {**hearing, "state": ADJOURNED, "next_date": following["date"], "adjourned_by": actor["user"],
                 "adjourned_at": now, "adjournment_reason": reason.strip()}
    return domain.touched(complaint, now, hearings=[*_replace(complaint, adjourned),
                                                    {**following, "scheduled_by": actor["user"]}])


def _current(complaint: dict) -> dict:
    hearing = _open(complaint)
    if complaint["status"] != domain.HEARING or hearing is None:
        raise Conflict("No hearing is scheduled.", complaint_status=complaint["status"], allowed=[SCHEDULED])
    return hearing


def _replace(complaint: dict, hearing: dict) -> list[dict]:
    return [hearing if h["hearing_no"] == hearing["hearing_no"] else h for h in complaint["hearings"]]


def event_data(complaint: dict, hearing_no: int) -> dict:
    hearing = complaint["hearings"][hearing_no - 1]
    extra = {"hearing_no": hearing_no, "date": hearing["date"], "venue": hearing["venue"],
             "parties": hearing["parties"]}
    if hearing["state"] == HELD:
        extra["respondent_attended"] = any(v for p, v in hearing["attendance"].items() if p != "complainant")
    if hearing["state"] == ADJOURNED:
        extra["next_date"] = hearing["next_date"]
    return domain.event_data(complaint, **extra)
