"""A complaint against a recruiting agency and the rules that change it. No I/O: callers pass
`now`, the actor, the ids and the loaded lists (categories.py), and store what comes back.
The service layer (service.py) loads, calls these and saves (changes.py).

Intake is intake.py; hearings, referrals and awards have their own modules.

Lifecycle (ALLOWED), as issue 9 lists it: received -> scrutiny -> acknowledged ->
notice_to_respondent -> hearing (hearings.py; several, capped) -> settled | award_issued |
dismissed | referred (referrals.py). A settlement or an award goes to compliance_monitoring
(awards.py) -> complied | not_complied -> enforcement -> closed. Dismissed closes; referred
closes once its referrals are done, or comes back to a hearing when they were declined.
Withdrawn by the complainant while nothing is decided; reopened within a configured number of
days after closing, with a reason, and heard again.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from shared.errors import Conflict, Forbidden, Invalid

SUBJECT = "complaint"

RECEIVED = "received"
SCRUTINY = "scrutiny"
ACKNOWLEDGED = "acknowledged"
NOTICE_TO_RESPONDENT = "notice_to_respondent"
HEARING = "hearing"
SETTLED = "settled"
AWARD_ISSUED = "award_issued"
DISMISSED = "dismissed"
REFERRED = "referred"
COMPLIANCE_MONITORING = "compliance_monitoring"
COMPLIED = "complied"
NOT_COMPLIED = "not_complied"
ENFORCEMENT = "enforcement"
CLOSED = "closed"
WITHDRAWN = "withdrawn"
REOPENED = "reopened"

STATUSES = (RECEIVED, SCRUTINY, ACKNOWLEDGED, NOTICE_TO_RESPONDENT, HEARING, SETTLED, AWARD_ISSUED, DISMISSED,
            REFERRED, COMPLIANCE_MONITORING, COMPLIED, NOT_COMPLIED, ENFORCEMENT, CLOSED, WITHDRAWN, REOPENED)
ALLOWED: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({SCRUTINY, WITHDRAWN}),
    SCRUTINY: frozenset({ACKNOWLEDGED, WITHDRAWN}),
    ACKNOWLEDGED: frozenset({NOTICE_TO_RESPONDENT, WITHDRAWN}),
    NOTICE_TO_RESPONDENT: frozenset({HEARING, WITHDRAWN}),
    HEARING: frozenset({SETTLED, AWARD_ISSUED, DISMISSED, REFERRED, WITHDRAWN}),
    SETTLED: frozenset({COMPLIANCE_MONITORING}),
    AWARD_ISSUED: frozenset({COMPLIANCE_MONITORING}),
    DISMISSED: frozenset({CLOSED}),
    REFERRED: frozenset({HEARING, CLOSED, WITHDRAWN}),
    COMPLIANCE_MONITORING: frozenset({COMPLIED, NOT_COMPLIED}),
    NOT_COMPLIED: frozenset({ENFORCEMENT, COMPLIED}),  # paid in full late, before enforcement
    ENFORCEMENT: frozenset({CLOSED}),
    COMPLIED: frozenset({CLOSED}),
    CLOSED: frozenset({REOPENED}),
    REOPENED: frozenset({HEARING, WITHDRAWN}),
    WITHDRAWN: frozenset(),
}
FINAL = (CLOSED, WITHDRAWN)

# Events (names and data: event_data). Each carries case_id, status and document_ids, so
# documents holds attached evidence until the complaint closes.
RECEIVED_EVENT = "complaints.complaint.received"
SCRUTINY_EVENT = "complaints.complaint.scrutiny_started"
ACKNOWLEDGED_EVENT = "complaints.complaint.acknowledged"
NOTICE_SENT_EVENT = "complaints.complaint.notice_sent"
ASSIGNED_EVENT = "complaints.complaint.assigned"
EVIDENCE_ATTACHED_EVENT = "complaints.complaint.evidence_attached"
HEARING_SCHEDULED_EVENT = "complaints.complaint.hearing_scheduled"
HEARING_HELD_EVENT = "complaints.complaint.hearing_held"
HEARING_ADJOURNED_EVENT = "complaints.complaint.hearing_adjourned"
REFERRED_EVENT = "complaints.complaint.referred"
REFERRAL_UPDATED_EVENT = "complaints.complaint.referral_updated"
SETTLED_EVENT = "complaints.complaint.settled"
AWARD_ISSUED_EVENT = "complaints.complaint.award_issued"
DISMISSED_EVENT = "complaints.complaint.dismissed"
MONITORING_EVENT = "complaints.complaint.compliance_monitoring"
PAYMENT_RECEIVED_EVENT = "complaints.complaint.payment_received"
COMPLIED_EVENT = "complaints.complaint.complied"
NOT_COMPLIED_EVENT = "complaints.complaint.not_complied"
ENFORCEMENT_EVENT = "complaints.complaint.enforcement"
CLOSED_EVENT = "complaints.complaint.closed"
REOPENED_EVENT = "complaints.complaint.reopened"
WITHDRAWN_EVENT = "complaints.complaint.withdrawn"
OVERDUE_EVENT = "complaints.complaint.overdue"
CLAIM_LINKED_EVENT = "complaints.complaint.claim_linked"
EVENT_TYPES = (RECEIVED_EVENT, SCRUTINY_EVENT, ACKNOWLEDGED_EVENT, NOTICE_SENT_EVENT, ASSIGNED_EVENT,
               EVIDENCE_ATTACHED_EVENT, HEARING_SCHEDULED_EVENT, HEARING_HELD_EVENT, HEARING_ADJOURNED_EVENT,
               REFERRED_EVENT, REFERRAL_UPDATED_EVENT, SETTLED_EVENT, AWARD_ISSUED_EVENT, DISMISSED_EVENT,
               MONITORING_EVENT, PAYMENT_RECEIVED_EVENT, COMPLIED_EVENT, NOT_COMPLIED_EVENT, ENFORCEMENT_EVENT,
               CLOSED_EVENT, REOPENED_EVENT, WITHDRAWN_EVENT, OVERDUE_EVENT, CLAIM_LINKED_EVENT)
# The event a move into each status raises; the other events (assigned, evidence_attached,
# hearing_held, hearing_adjourned, referral_updated, payment_received, overdue) change no status.
STATUS_EVENTS = {SCRUTINY: SCRUTINY_EVENT, ACKNOWLEDGED: ACKNOWLEDGED_EVENT, NOTICE_TO_RESPONDENT: NOTICE_SENT_EVENT,
                 HEARING: HEARING_SCHEDULED_EVENT, SETTLED: SETTLED_EVENT, AWARD_ISSUED: AWARD_ISSUED_EVENT,
                 DISMISSED: DISMISSED_EVENT, REFERRED: REFERRED_EVENT, COMPLIANCE_MONITORING: MONITORING_EVENT,
                 COMPLIED: COMPLIED_EVENT, NOT_COMPLIED: NOT_COMPLIED_EVENT, ENFORCEMENT: ENFORCEMENT_EVENT,
                 CLOSED: CLOSED_EVENT, WITHDRAWN: WITHDRAWN_EVENT, REOPENED: REOPENED_EVENT}


class IllegalStep(Conflict):
    """A step the complaint's status does not allow: 409 naming the steps it does."""


def check_step(complaint: dict, to: str) -> None:
    allowed = ALLOWED[complaint["status"]]
    if to not in allowed:
        raise IllegalStep(f"A complaint that is {complaint['status'].replace('_', ' ')} cannot become "
                          f"{to.replace('_', ' ')}; it can become: {', '.join(sorted(allowed)) or 'nothing (final)'}.",
                          complaint_status=complaint["status"], allowed=sorted(allowed))


# -- steps -------------------------------------------------------------------------------

def moved(complaint: dict, to: str, now: datetime, **changes) -> dict:
    """A new status; `stage_since` is when it began (the seam for stage clocks)."""
    check_step(complaint, to)
    return {**complaint, **changes, "status": to, "stage_since": now, "version": complaint["version"] + 1,
            "updated_at": now}


def touched(complaint: dict, now: datetime, **changes) -> dict:
    return {**complaint, **changes, "version": complaint["version"] + 1, "updated_at": now}


def _by(actor: dict, now: datetime, **extra) -> dict:
    return {"by": actor["user"], "at": now, **extra}


def start_scrutiny(complaint: dict, *, actor: dict, now: datetime) -> dict:
    return moved(complaint, SCRUTINY, now, scrutiny=_by(actor, now))


def acknowledge(complaint: dict, *, committee: list[str], actor: dict, now: datetime) -> dict:
    """Scrutiny passed: the investigation committee is formed and the complainant told."""
    if not committee or not all(isinstance(m, str) and m.strip() for m in committee):
        raise Invalid({"committee": ["Name the members of the investigation committee."]})
    return moved(complaint, ACKNOWLEDGED, now, acknowledgement=_by(actor, now, committee=list(committee)))


def send_notice(complaint: dict, *, actor: dict, now: datetime) -> dict:
    return moved(complaint, NOTICE_TO_RESPONDENT, now, notice=_by(actor, now))


def assign(complaint: dict, *, staff: str, actor: dict, now: datetime) -> dict:
    if complaint["status"] in FINAL:
        raise IllegalStep("A closed or withdrawn complaint is not assigned.", complaint_status=complaint["status"],
                          allowed=sorted(ALLOWED[complaint["status"]]))
    if not isinstance(staff, str) or not staff.strip():
        raise Invalid({"assignee": ["Name the legal aid staff member."]})
    return touched(complaint, now, assignee=staff, assigned_by=actor["user"])


def attach_evidence(complaint: dict, document: dict | None, *, actor: dict, now: datetime) -> dict:
    """A vault document, as documents' events described it; only the complainant migrant's own."""
    if complaint["status"] in FINAL:
        raise IllegalStep("Evidence is attached to an open complaint.", complaint_status=complaint["status"],
                          allowed=sorted(ALLOWED[complaint["status"]]))
    if document is None:
        raise Invalid({"document_id": ["No such document in the vault."]})
    if document.get("owner") != complaint["complainant"]["migrant_reference"]:
        raise Invalid({"document_id": ["Only the complainant migrant's own documents can be attached."]})
    if any(e["document_id"] == document["_id"] for e in complaint["evidence"]):
        return complaint
    entry = {"document_id": document["_id"], "doc_type": document.get("doc_type"), **_by(actor, now)}
    return touched(complaint, now, evidence=[*complaint["evidence"], entry])


def dismiss(complaint: dict, *, reason: str, actor: dict, now: datetime) -> dict:
    require_held_hearing(complaint, DISMISSED)
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid({"reason": ["Say why the complaint is dismissed."]})
    return moved(complaint, DISMISSED, now, outcome={"kind": DISMISSED, **_by(actor, now, reason=reason)})


def require_held_hearing(complaint: dict, to: str) -> None:
    """A decision follows a hearing that was held, and none is left scheduled."""
    check_step(complaint, to)
    hearings = complaint["hearings"]
    if not any(h["state"] == "held" for h in hearings) or any(h["state"] == "scheduled" for h in hearings):
        raise Conflict(f"A complaint becomes {to.replace('_', ' ')} after a hearing is held and none is "
                       "still scheduled.", complaint_status=complaint["status"], allowed=[to])


def withdraw(complaint: dict, *, reason: str, actor: dict, now: datetime) -> dict:
    """By the complainant (or staff on their word): the migrant themself, or staff for them."""
    if actor["role"] == "migrant" and actor.get("migrant_ref") != complaint["complainant"]["migrant_reference"]:
        raise Forbidden("Only the complainant withdraws a complaint.")
    check_step(complaint, WITHDRAWN)
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid({"reason": ["Say why the complaint is withdrawn."]})
    return moved(complaint, WITHDRAWN, now, withdrawal=_by(actor, now, reason=reason))


def close(complaint: dict, *, note: str | None, actor: dict, now: datetime) -> dict:
    check_step(complaint, CLOSED)
    if complaint["status"] == REFERRED and any(r["state"] in ("pending", "accepted")  # referrals.active
                                               for r in complaint["referrals"]):
        raise Conflict("A referred complaint closes once each referral is completed or declined.",
                       complaint_status=REFERRED, allowed=[])
    return moved(complaint, CLOSED, now, closure=_by(actor, now, note=note))


def reopen(complaint: dict, *, reason: str, window_days: int, actor: dict, now: datetime) -> dict:
    """Within `window_days` (configuration) of closing, with a reason; heard again after."""
    check_step(complaint, REOPENED)
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid({"reason": ["Say why the complaint is reopened."]})
    closed_at = complaint["closure"]["at"]
    if now > closed_at + timedelta(days=window_days):
        raise Conflict(f"A complaint can be reopened within {window_days} days of closing; this one closed on "
                       f"{closed_at.date().isoformat()}.", complaint_status=CLOSED, allowed=[])
    entry = _by(actor, now, reason=reason, closed_at=closed_at)
    return moved(complaint, REOPENED, now, reopenings=[*complaint["reopenings"], entry], closure=None)


def link_claim(complaint: dict, claim: dict | None, *, actor: dict, now: datetime) -> dict:
    """A welfare claim of the same migrant (claims' claims.claim.submitted told which)."""
    if complaint["status"] in FINAL:
        raise IllegalStep("A closed or withdrawn complaint is not linked.", complaint_status=complaint["status"],
                          allowed=sorted(ALLOWED[complaint["status"]]))
    if claim is None:
        raise Invalid({"claim_id": ["No such claim is known to the complaints service."]})
    if claim.get("migrant_reference") != complaint["complainant"]["migrant_reference"]:
        raise Invalid({"claim_id": ["Only a claim of the complainant migrant can be linked."]})
    linked = complaint.get("linked_claims") or []
    if any(entry["claim_id"] == claim["_id"] for entry in linked):
        return complaint
    entry = {"claim_id": claim["_id"], **_by(actor, now)}
    return touched(complaint, now, linked_claims=[*linked, entry])


def visible_to(complaint: dict, actor: dict) -> bool:
    """A migrant sees their own complaints; staff see all but restricted (confidential) ones,
    which only the assigned staff member and admins see."""
    if actor["role"] == "migrant":
        return actor.get("migrant_ref") == complaint["complainant"]["migrant_reference"]
    if complaint["restricted"]:
        return actor["role"] == "admin" or actor["user"] == complaint["assignee"]
    return True


# -- events ------------------------------------------------------------------------------

def document_ids(complaint: dict) -> list[str]:
    return [e["document_id"] for e in complaint["evidence"]]


def event_data(complaint: dict, **extra) -> dict:
    """What every complaints event carries: the case shape documents reads for legal hold,
    the receipt number and the complainant's phone (notifications), the agency licences and
    the amount claimed (the scorecard), and the assigned staff member's user id (None: no
    one yet), so a subscriber can show a restricted complaint to its assignee as visible_to does."""
    return {"case_id": complaint["_id"], "status": complaint["status"], "document_ids": document_ids(complaint),
            "receipt_number": complaint["receipt_number"],
            "migrant_reference": complaint["complainant"]["migrant_reference"],
            "complainant_phone": complaint["complainant"]["phone"], "category": complaint["category"],
            "agency_licences": complaint["agency_licences"], "restricted": complaint["restricted"],
            "amount_claimed": complaint.get("amount_claimed", 0), "assignee": complaint.get("assignee"), **extra}


# -- history -----------------------------------------------------------------------------
# Each event's line in the complaint's history, in English and Bangla.
SUMMARIES = {
    RECEIVED_EVENT: ("Complaint received", "অভিযোগ গ্রহণ করা হয়েছে"),
    SCRUTINY_EVENT: ("Scrutiny started", "যাচাই শুরু হয়েছে"),
    ACKNOWLEDGED_EVENT: ("Acknowledged; investigation committee formed", "প্রাপ্তি স্বীকার; তদন্ত কমিটি গঠিত"),
    NOTICE_SENT_EVENT: ("Notice sent to the respondent", "বিবাদীকে নোটিশ পাঠানো হয়েছে"),
    ASSIGNED_EVENT: ("Assigned to legal aid staff", "আইনি সহায়তা কর্মীকে দায়িত্ব দেওয়া হয়েছে"),
    EVIDENCE_ATTACHED_EVENT: ("Evidence attached from the vault", "ডকুমেন্ট ভল্ট থেকে প্রমাণ সংযুক্ত"),
    HEARING_SCHEDULED_EVENT: ("Hearing scheduled", "শুনানির তারিখ নির্ধারিত"),
    HEARING_HELD_EVENT: ("Hearing held", "শুনানি অনুষ্ঠিত"),
    HEARING_ADJOURNED_EVENT: ("Hearing adjourned", "শুনানি মুলতবি"),
    REFERRED_EVENT: ("Referred to another body", "অন্য সংস্থায় পাঠানো হয়েছে"),
    REFERRAL_UPDATED_EVENT: ("Referral updated", "রেফারেলের অবস্থা হালনাগাদ"),
    SETTLED_EVENT: ("Settled between the parties", "পক্ষগুলোর মধ্যে মীমাংসা হয়েছে"),
    AWARD_ISSUED_EVENT: ("Award issued", "রায় (অ্যাওয়ার্ড) দেওয়া হয়েছে"),
    DISMISSED_EVENT: ("Dismissed", "অভিযোগ খারিজ"),
    MONITORING_EVENT: ("Compliance monitored", "পরিপালন তদারকি চলছে"),
    PAYMENT_RECEIVED_EVENT: ("Payment received", "অর্থ পরিশোধ পাওয়া গেছে"),
    COMPLIED_EVENT: ("Paid in full: complied", "সম্পূর্ণ পরিশোধ: পরিপালিত"),
    NOT_COMPLIED_EVENT: ("Not complied by the deadline", "নির্ধারিত সময়ে পরিশোধ হয়নি"),
    ENFORCEMENT_EVENT: ("Enforcement recommended", "ব্যবস্থা গ্রহণের সুপারিশ"),
    CLOSED_EVENT: ("Closed", "নিষ্পত্তি হয়ে বন্ধ"),
    REOPENED_EVENT: ("Reopened", "পুনরায় চালু"),
    WITHDRAWN_EVENT: ("Withdrawn by the complainant", "অভিযোগকারী প্রত্যাহার করেছেন"),
    OVERDUE_EVENT: ("Overdue in its stage", "নির্ধারিত সময় পেরিয়ে গেছে"),
    CLAIM_LINKED_EVENT: ("Linked to a welfare claim", "কল্যাণ দাবির সাথে যুক্ত"),
}


def history_entry(event) -> dict:
    english, bangla = SUMMARIES.get(event.type, (event.type, event.type))
    return {"_id": event.id, "complaint_id": event.subject.id, "type": event.type,
            "status": event.data.get("status"),
            "occurred_at": datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00")),
            "summary": english, "summary_bn": bangla}
