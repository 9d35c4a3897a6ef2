"""Catch-up: the other services' replays (shared/replay: one snapshot per aggregate, its
current state) -> timeline entries and facts, for a timeline started on a system that
already has data. Pure, like entries.py and next_steps.py; never an SMS (old news).

A snapshot is the state now, not the steps that led to it, so a case becomes two entries:
"received" when it was filed, and "filed on <date>, is now <status>" when it last changed;
a migrant becomes "registered" and one entry per pre-departure step done. Each entry's id is
made from what it says (the aggregate, and for a state its version), so the same state
replayed again is the same entry, and a newer state is a new one. A document snapshot says
no time, so it gives facts (the checklist of what happens next) and no entry of its own.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

from shared.events import Envelope, Subject

from . import entries, next_steps
from .dates import DHAKA, format_date, instant

MIGRANT_SNAPSHOT = "registration.migrant.snapshot"
DOCUMENT_SNAPSHOT = "documents.document.snapshot"
CLAIM_SNAPSHOT = "claims.claim.snapshot"
COMPLAINT_SNAPSHOT = "complaints.complaint.snapshot"
SNAPSHOTS = (MIGRANT_SNAPSHOT, DOCUMENT_SNAPSHOT, CLAIM_SNAPSHOT, COMPLAINT_SNAPSHOT)

# A case's status as the person reads it (claims' and complaints' domain statuses).
STATUS = {
    entries.CLAIM: {
        "submitted": ("received", "জমা হয়েছে"), "documents_pending": ("waiting for documents", "কাগজের অপেক্ষায়"),
        "under_review": ("being reviewed", "পর্যালোচনাধীন"), "recommended": ("recommended for approval",
                                                                             "অনুমোদনের সুপারিশ করা হয়েছে"),
        "awaiting_information": ("waiting for information from you", "আপনার কাছ থেকে তথ্যের অপেক্ষায়"),
        "approved": ("approved", "মঞ্জুর হয়েছে"), "rejected": ("not approved", "মঞ্জুর হয়নি"),
        "review_requested": ("under review again", "পুনর্বিবেচনাধীন"),
        "payment_ordered": ("ordered to be paid", "অর্থ প্রদানের আদেশ হয়েছে"), "paid": ("paid", "পরিশোধ হয়েছে"),
        "closed": ("closed", "বন্ধ"), "withdrawn": ("withdrawn", "প্রত্যাহার করা হয়েছে")},
    entries.COMPLAINT: {
        "received": ("received", "গৃহীত"), "scrutiny": ("being checked", "যাচাই চলছে"),
        "acknowledged": ("accepted for investigation", "তদন্তের জন্য গৃহীত"),
        "notice_to_respondent": ("waiting for the agency's answer", "এজেন্সির জবাবের অপেক্ষায়"),
        "hearing": ("at the hearing stage", "শুনানি পর্যায়ে"), "settled": ("settled", "মীমাংসা হয়েছে"),
        "award_issued": ("decided with an award", "রায় হয়েছে"), "dismissed": ("dismissed", "খারিজ হয়েছে"),
        "referred": ("sent to another office", "অন্য দপ্তরে পাঠানো হয়েছে"),
        "compliance_monitoring": ("followed up until paid", "পরিশোধ তদারকি চলছে"),
        "complied": ("paid in full", "পুরো অর্থ পরিশোধ হয়েছে"), "not_complied": ("not paid by the agency",
                                                                           "এজেন্সি পরিশোধ করেনি"),
        "enforcement": ("being enforced", "ব্যবস্থা নেওয়া হচ্ছে"), "closed": ("closed", "বন্ধ"),
        "withdrawn": ("withdrawn", "প্রত্যাহার করা হয়েছে"), "reopened": ("reopened", "আবার চালু হয়েছে")},
}
FIRST_STATUS = {entries.CLAIM: ("submitted", "documents_pending"), entries.COMPLAINT: ("received",)}
_DOCUMENT_STATUS = {"pending": "uploaded", "verified": "verified", "rejected": "rejected"}


def status_words(kind: str, status: str, lang: str) -> str:
    words = STATUS[kind].get(status)
    return words[lang == "bn"] if words else status.replace("_", " ")


def _iso(at: datetime) -> str:
    return instant(at).isoformat().replace("+00:00", "Z")


def _as_live(snapshot: Envelope, event_type: str, entry_id: str, at, version: int, data: dict) -> Envelope:
    """The snapshot told as the live event its entry reads like (entries.entry writes it)."""
    return Envelope(id=entry_id, type=event_type, schema_version=1, source=snapshot.source, occurred_at=_iso(at),
                    subject=Subject(snapshot.subject.type, snapshot.subject.id), aggregate_version=version,
                    correlation_id=snapshot.correlation_id, causation_id=snapshot.id, data=data)


def _day(on) -> datetime:
    """A day with no time (a step's date): its start in Dhaka, so it sorts on that day."""
    return datetime.combine(datetime.fromisoformat(str(on)).date(), time(0, 0), tzinfo=DHAKA)


def _entry(live: Envelope, *, day_only: bool = False, text: dict | None = None) -> dict:
    entry = entries.entry(live)
    entry["replayed"] = True
    if day_only:
        entry["when"] = {lang: format_date(entry["occurred_at"], lang) for lang in ("en", "bn")}
    if text:
        entry["text"] = text
    return entry


def snapshot_entries(event: Envelope) -> list[dict]:
    """The timeline entries one snapshot stands for (none for a document's)."""
    data, subject = event.data, event.subject.id
    if event.type == MIGRANT_SNAPSHOT:
        found = [_entry(_as_live(event, "registration.migrant.registered", f"replay:{subject}:registered",
                                 data["registered_at"], 1, {**data, "reference": subject}))]
        for step in data.get("steps") or []:
            found.append(_entry(_as_live(event, "registration.migrant.step_recorded",
                                         f"replay:{subject}:step:{step['step']}", _day(step["date"]), 1,
                                         {"reference": subject, **step}), day_only=True))
        membership = data.get("membership")
        if membership and membership.get("activated_on"):
            found.append(_entry(_as_live(event, "registration.migrant.membership_activated",
                                         f"replay:{subject}:membership:{membership['number']}",
                                         _day(membership["activated_on"]), 1, {"reference": subject, **membership}),
                                day_only=True))
        return found
    kind = entries.kind_of(event.type)
    if kind is None:
        return []
    first = "claims.claim.submitted" if kind == entries.CLAIM else "complaints.complaint.received"
    found = [_entry(_as_live(event, first, f"replay:{subject}:filed", data["filed_at"], 1, data))]
    if data["status"] not in FIRST_STATUS[kind]:
        filed = data.get("filed_on") or data["filed_at"]
        text = {lang: _now_is(kind, data, filed, lang) for lang in ("en", "bn")}
        found.append(_entry(_as_live(event, first, f"replay:{subject}:v{event.aggregate_version}",
                                     data["updated_at"], event.aggregate_version, data), text=text))
    return found


def _now_is(kind: str, data: dict, filed, lang: str) -> str:
    status, on = status_words(kind, data["status"], lang), format_date(filed, lang)
    if kind == entries.CLAIM:
        return (f"আপনার আবেদন, {on} তারিখে জমা দেওয়া, এখন: {status}।" if lang == "bn"
                else f"Your application, filed on {on}, is now: {status}.")
    return (f"আপনার অভিযোগ ({data['receipt_number']}), {on} তারিখে করা, এখন: {status}।" if lang == "bn"
            else f"Your complaint ({data['receipt_number']}), filed on {on}, is now: {status}.")


def fold_snapshot(facts: dict, event: Envelope) -> dict:
    """`facts` (next_steps') with a snapshot's state, kept by the same rule as live events:
    what the highest aggregate version says."""
    data = event.data
    if event.type == DOCUMENT_SNAPSHOT:
        facts = {"cases": facts["cases"], "documents": dict(facts["documents"])}
        status = "deleted" if data["deleted"] else _DOCUMENT_STATUS[data["status"]]
        next_steps._keep(facts["documents"], data["document_id"], event, {
            "owner": data["owner"], "doc_type": data["doc_type"], "status": status,
            "reason": data.get("reason") if status == "rejected" else None})
        return facts
    if event.type == CLAIM_SNAPSHOT:
        return next_steps.fold(facts, event)
    if event.type == COMPLAINT_SNAPSHOT:
        outcome = data.get("outcome") or {}
        told = {k: v for k, v in data.items() if k not in ("paid_total", "next_hearing", "outcome")}
        if outcome.get("kind") in ("settled", "award_issued") or isinstance(outcome.get("amount"), int):
            told.update(amount=outcome.get("amount"), payment_deadline=outcome.get("payment_deadline"),
                        paid_total=data["paid_total"])
        facts = next_steps.fold(facts, replace(event, data=told))
        hearing = data.get("next_hearing")
        if hearing:  # number 0: any hearing a live event numbers comes after it
            next_steps._keep(facts["cases"][data["case_id"]]["hearings"], "0", event, {
                "state": "scheduled", "date": hearing["date"], "venue": hearing["venue"], "next_date": None})
        return facts
    return facts
