"""Events for the case-status unit tests: envelopes as the other services publish them,
each checked against its contract (shared/contracts.py), and a journey across services."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared import contracts
from shared.events import Envelope, Subject

MIGRANT = "PB-2345-6789"
PHONE = "+8801712345678"
HEIR_PHONE = "+8801811111111"
START = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)  # 10:00 in Dhaka
STAFF = {"user": "officer-1", "role": "welfare_officer"}


def envelope(event_type: str, subject: tuple[str, str], version: int, data: dict, at: datetime,
             event_id: str | None = None) -> Envelope:
    event = Envelope(id=event_id or f"{event_type}:{subject[1]}:{version}", type=event_type, schema_version=1,
                     source=event_type.split(".")[0], occurred_at=at.isoformat().replace("+00:00", "Z"),
                     subject=Subject(*subject), aggregate_version=version, correlation_id="c-1", causation_id=None,
                     data=data)
    contracts.check(event)  # what the services really publish
    return event


def registered(at=START, version=1):
    return envelope("registration.migrant.registered", ("migrant", MIGRANT), version,
                    {"reference": MIGRANT, "name_en": "Rahim Uddin", "name_bn": "রহিম উদ্দিন", "phone": PHONE,
                     "registered_by": {"user": "udc-1", "role": "udc_operator"}}, at)


def step(name, on, at, version):
    return envelope("registration.migrant.step_recorded", ("migrant", MIGRANT), version,
                    {"reference": MIGRANT, "step": name, "date": on, "by": STAFF}, at)


def stored(document_id, doc_type, at, version=1, case_id=None, action="uploaded"):
    return envelope(f"documents.document.{action}", ("document", document_id), version, {
        "document_id": document_id, "version": 1 if action == "uploaded" else version, "owner": MIGRANT,
        "doc_type": doc_type, "content_sha256": "a" * 64, "size": 1000, "content_type": "application/pdf",
        "issuer": None, "issue_date": None, "case_id": case_id, "uploaded_by": STAFF,
        "uploaded_at": at.isoformat().replace("+00:00", "Z"), "seq": version, "record_hash": "b" * 64}, at)


def decided(document_id, doc_type, at, version, verdict="verified", reason=None):
    return envelope(f"documents.document.{verdict}", ("document", document_id), version, {
        "document_id": document_id, "owner": MIGRANT, "doc_type": doc_type, "version": 1, "reason": reason,
        "by": STAFF}, at)


def claim(action, status, at, version, claim_id="CLM-1", claim_type="medical_aid", phone=PHONE,
          approved_amount=None, **extra):
    return envelope(f"claims.claim.{action}", ("claim", claim_id), version, {
        "case_id": claim_id, "status": status, "document_ids": [], "claim_type": claim_type,
        "migrant_reference": MIGRANT, "claimant_phone": phone, "approved_amount": approved_amount, **extra}, at)


def complaint(action, status, at, version, restricted=False, assignee=None, **extra):
    return envelope(f"complaints.complaint.{action}", ("complaint", "CMP-1"), version, {
        "case_id": "CMP-1", "status": status, "document_ids": [], "receipt_number": "CP-2345-678X",
        "migrant_reference": MIGRANT, "complainant_phone": PHONE, "category": "unpaid_wages",
        "agency_licences": ["RL-1234"], "restricted": restricted, "assignee": assignee, **extra}, at)


def hearing(action, at, version, no=1, on="2026-12-05", venue="DEMO Cumilla", **extra):
    return complaint(f"hearing_{action}", "hearing", at, version, hearing_no=no, date=on, venue=venue,
                     parties=["complainant", "recruiting_agency"], **extra)


def award(action, status, at, version, amount=100000, paid_total=0, **extra):
    return complaint(action, status, at, version, amount=amount, paid_total=paid_total,
                     payment_deadline="2027-01-31", **extra)


def journey() -> list[Envelope]:
    """Registration, documents, a medical aid claim to approval and a complaint to a moved
    hearing, in the order it happened (an hour apart)."""
    t = [START + timedelta(hours=n) for n in range(30)]
    return [
        registered(t[0]),
        step("fingerprint", "2026-11-19", t[1], 2),
        claim("submitted", "documents_pending", t[2], 1),
        stored("DOC-PASS", "passport_copy", t[3], 1, case_id="CLM-1"),
        stored("DOC-MED", "medical_report", t[4], 1, case_id="CLM-1"),
        decided("DOC-PASS", "passport_copy", t[5], 2),
        decided("DOC-MED", "medical_report", t[6], 2, "rejected", "The scan cannot be read"),
        complaint("received", "received", t[7], 1),
        complaint("scrutiny_started", "scrutiny", t[8], 2),
        complaint("acknowledged", "acknowledged", t[9], 3),
        complaint("notice_sent", "notice_to_respondent", t[10], 4),
        hearing("scheduled", t[11], 5),
        stored("DOC-MED", "medical_report", t[12], 3, case_id="CLM-1", action="version_added"),
        decided("DOC-MED", "medical_report", t[13], 4),
        stored("DOC-CLR", "emigration_clearance", t[14], 1),
        decided("DOC-CLR", "emigration_clearance", t[15], 2),
        claim("ready_for_review", "under_review", t[16], 2),
        hearing("adjourned", t[17], 6, next_date="2026-12-12"),
        claim("approved", "approved", t[18], 3, approved_amount=150000),
    ]
