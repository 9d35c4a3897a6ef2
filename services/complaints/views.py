"""What a family member's token shows of a complaint (a relative who complained).

They need where the complaint stands, the hearings (dates, venues), the referrals' bodies
and states, what was decided and why, and what was awarded and paid - not staff's notes
and minutes, nor who in the office did what. The view is built from what is kept (an
allowlist: a field added to complaints later stays hidden until it is judged here), and
every nested record loses its actor ids. A restricted (confidential) complaint's
narrative is not shown; the complainant in full only to the phone that signed in.
"""
from __future__ import annotations

from shared.access import family_phone
from shared.auth import Principal
from shared.redaction import only, without

# Top-level fields a family member sees as stored (nested records are judged below).
KEPT = ("complaint_id", "receipt_number", "channel", "category", "respondents", "agency_licences",
        "amount_claimed", "district", "restricted", "status", "stage_since", "payments", "paid_total",
        "reopenings", "withdrawal", "target_days", "version", "created_at", "updated_at", "clocks", "overdue",
        "overdue_stages")
# Who in the office did what: user ids, dropped wherever they are recorded.
ACTOR_KEYS = frozenset({"by", "scheduled_by", "held_by", "adjourned_by", "recorded_by", "assigned_by", "user"})
# Each step's record, and what of it a family member sees (no staff notes, no committee names).
STEP_RECORDS = {"scrutiny": ("at",), "acknowledgement": ("at",), "notice": ("at",), "monitoring": ("at",),
                "non_compliance": ("owed", "at"), "enforcement": ("action", "owed", "at"), "closure": ("at",),
                "outcome": ("kind", "amount", "payment_deadline", "instalments", "terms", "reason", "at")}
HEARING = ("hearing_no", "date", "venue", "parties", "state", "notices", "attendance", "next_date", "held_at",
           "adjourned_at", "adjournment_reason")
REFERRAL = ("referral_no", "body", "state", "since", "due_at")
EVIDENCE = ("document_id", "doc_type", "at")


def family_view(complaint: dict, principal: Principal) -> dict:
    """`complaint` as services.complaints.service.view shows it, narrowed for the family member `principal`."""
    shown = {k: without_actors(complaint[k]) for k in KEPT if k in complaint}
    for name, keep in STEP_RECORDS.items():
        if name in complaint:
            shown[name] = only(complaint[name], keep)
    if "complainant" in complaint:
        shown["complainant"] = _complainant(complaint["complainant"], family_phone(principal))
    if "narrative" in complaint and not complaint.get("restricted"):
        shown["narrative"] = complaint["narrative"]
    for name, keep in (("hearings", HEARING), ("evidence", EVIDENCE), ("linked_claims", ("claim_id", "at"))):
        if name in complaint:
            shown[name] = [only(entry, keep) for entry in complaint[name] or []]
    if "referrals" in complaint:
        shown["referrals"] = [_referral(r) for r in complaint["referrals"] or []]
    if complaint.get("filed_by") is not None:  # staff, a UDC or the migrant: the role, not the person
        shown["filed_by"] = only(complaint["filed_by"], ("role", "udc_centre", "at"))
    return shown



def without_actors(value):
    """`value` with every actor id (ACTOR_KEYS) removed from the dicts it holds, at any depth."""
    return without(value, ACTOR_KEYS)



def _referral(referral: dict) -> dict:
    """A body and its state, and the states it went through; not staff's notes to it."""
    return {**only(referral, REFERRAL), "history": [only(h, ("state", "at")) for h in referral.get("history", [])]}


def _complainant(complainant: dict, phone: str | None) -> dict:
    if phone and complainant.get("phone") == phone:
        return dict(complainant)
    return only(complainant, ("migrant_reference", "name", "relation"))
