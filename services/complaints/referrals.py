"""Referrals of a complaint to another body (categories.json `referral_bodies`), each with its
own state (pending -> accepted | declined; accepted -> completed), its own due date and its own
clock, so a delay is on the body that holds the case. No I/O: the caller passes `now`, the
actor and the body's target days (configuration). A referral is numbered by its position.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from shared.errors import Conflict, Invalid

from . import domain

PENDING, ACCEPTED, DECLINED, COMPLETED = "pending", "accepted", "declined", "completed"
ALLOWED = {PENDING: frozenset({ACCEPTED, DECLINED}), ACCEPTED: frozenset({COMPLETED}),
           DECLINED: frozenset(), COMPLETED: frozenset()}


def refer(complaint: dict, *, body: str, note: str, target_days: int, lists, actor: dict, now: datetime) -> dict:
    """Referred after a hearing; later referrals (from `referred`) are added alongside."""
    if complaint["status"] != domain.REFERRED:
        domain.require_held_hearing(complaint, domain.REFERRED)
    if body not in lists.referral_bodies:
        raise Invalid({"body": [f"Must be one of {', '.join(lists.referral_bodies)}."]})
    if not isinstance(note, str) or not note.strip():
        raise Invalid({"note": ["Say what the body is asked to do."]})
    if any(r["body"] == body and r["state"] in (PENDING, ACCEPTED) for r in complaint["referrals"]):
        raise Conflict(f"The complaint is already with {body.replace('_', ' ')}.", complaint_status=complaint["status"],
                       allowed=[])
    referral = {"referral_no": len(complaint["referrals"]) + 1, "body": body, "note": note.strip(), "state": PENDING,
                "since": now, "due_at": now + timedelta(days=target_days), "by": actor["user"],
                "history": [{"state": PENDING, "at": now, "by": actor["user"], "note": None}]}
    referrals = [*complaint["referrals"], referral]
    if complaint["status"] == domain.REFERRED:
        return domain.touched(complaint, now, referrals=referrals)
    return domain.moved(complaint, domain.REFERRED, now, referrals=referrals)


def update(complaint: dict, *, referral_no: int, to: str, note: str | None, actor: dict, now: datetime) -> dict:
    referral = next((r for r in complaint["referrals"] if r["referral_no"] == referral_no), None)
    if referral is None:
        raise Invalid({"referral_no": [f"The complaint has no referral {referral_no}."]})
    allowed = ALLOWED[referral["state"]]
    if to not in allowed:
        raise domain.IllegalStep(f"A referral that is {referral['state']} cannot become {to}; it can become: "
                                 f"{', '.join(sorted(allowed)) or 'nothing (final)'}.",
                                 referral_state=referral["state"], allowed=sorted(allowed))
    if to == DECLINED and not (isinstance(note, str) and note.strip()):
        raise Invalid({"note": ["Say why the body declined."]})
    entry = {"state": to, "at": now, "by": actor["user"], "note": note}
    changed = {**referral, "state": to, "since": now, "history": [*referral["history"], entry]}
    referrals = [changed if r["referral_no"] == referral_no else r for r in complaint["referrals"]]
    return domain.touched(complaint, now, referrals=referrals)


def active(complaint: dict) -> bool:
    """Some body still holds the complaint."""
    return any(r["state"] in (PENDING, ACCEPTED) for r in complaint["referrals"])


def overdue(referral: dict, now: datetime) -> bool:
    """The body has held it past its due date without finishing: the delay is on the body."""
    return referral["state"] in (PENDING, ACCEPTED) and now > referral["due_at"]


def event_data(complaint: dict, referral_no: int) -> dict:
    referral = complaint["referrals"][referral_no - 1]
    return domain.event_data(complaint, referral_no=referral_no, body=referral["body"],
                             referral_state=referral["state"], due_at=referral["due_at"].isoformat())
