"""A welfare claim and the rules that change it. No I/O: callers pass the clock, the id,
the actor, the catalogue type and what the service knows of the migrant and their
documents, and store what comes back.

Lifecycle (ALLOWED): submitted -> documents_pending -> under_review -> approved | rejected
-> payment_ordered -> paid -> closed; awaiting_information (from the family or a mission)
and back to where it was; withdrawn (then closed); review_requested after a rejection.
Above the second-approval amount an approval is first a recommendation (`recommended`),
which another officer approves.
"""
from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

from shared.errors import Conflict, Forbidden, Invalid

SUBJECT = "claim"

SUBMITTED = "submitted"
DOCUMENTS_PENDING = "documents_pending"
UNDER_REVIEW = "under_review"
RECOMMENDED = "recommended"
AWAITING_INFORMATION = "awaiting_information"
APPROVED = "approved"
REJECTED = "rejected"
REVIEW_REQUESTED = "review_requested"
PAYMENT_ORDERED = "payment_ordered"
PAID = "paid"
CLOSED = "closed"
WITHDRAWN = "withdrawn"

STATUSES = (SUBMITTED, DOCUMENTS_PENDING, UNDER_REVIEW, RECOMMENDED, AWAITING_INFORMATION, APPROVED, REJECTED,
            REVIEW_REQUESTED, PAYMENT_ORDERED, PAID, CLOSED, WITHDRAWN)
_REVIEWABLE = frozenset({RECOMMENDED, APPROVED, REJECTED, AWAITING_INFORMATION, WITHDRAWN})
ALLOWED: dict[str, frozenset[str]] = {
    SUBMITTED: frozenset({DOCUMENTS_PENDING, UNDER_REVIEW, WITHDRAWN}),
    DOCUMENTS_PENDING: frozenset({UNDER_REVIEW, AWAITING_INFORMATION, WITHDRAWN}),
    UNDER_REVIEW: _REVIEWABLE,
    REVIEW_REQUESTED: _REVIEWABLE,
    RECOMMENDED: frozenset({APPROVED, REJECTED, UNDER_REVIEW, WITHDRAWN}),
    AWAITING_INFORMATION: frozenset({DOCUMENTS_PENDING, UNDER_REVIEW, REVIEW_REQUESTED, WITHDRAWN}),
    APPROVED: frozenset({PAYMENT_ORDERED, CLOSED}),
    REJECTED: frozenset({REVIEW_REQUESTED, CLOSED}),
    PAYMENT_ORDERED: frozenset({PAID}),
    PAID: frozenset({CLOSED}),
    WITHDRAWN: frozenset({CLOSED}),
    CLOSED: frozenset(),
}
# Claims the checklist still follows (documents' events tick their items).
OPEN = tuple(s for s in STATUSES if s not in (CLOSED, WITHDRAWN))

# Events (shared/contracts.py ClaimChanged).
SUBMITTED_EVENT = "claims.claim.submitted"
CHECKLIST_UPDATED = "claims.claim.checklist_updated"
READY_FOR_REVIEW = "claims.claim.ready_for_review"
INFO_REQUESTED = "claims.claim.info_requested"
INFO_RECEIVED = "claims.claim.info_received"
RECOMMENDED_EVENT = "claims.claim.recommended"
APPROVED_EVENT = "claims.claim.approved"
REJECTED_EVENT = "claims.claim.rejected"
REVIEW_REQUESTED_EVENT = "claims.claim.review_requested"
PAYMENT_ORDERED_EVENT = "claims.claim.payment_ordered"
PAYMENT_RECORDED = "claims.claim.payment_recorded"
PAID_EVENT = "claims.claim.paid"
CLOSED_EVENT = "claims.claim.closed"
WITHDRAWN_EVENT = "claims.claim.withdrawn"
ASSIGNED = "claims.claim.assigned"
ELIGIBILITY_UPDATED = "claims.claim.eligibility_updated"
EVENT_TYPES = (SUBMITTED_EVENT, CHECKLIST_UPDATED, ELIGIBILITY_UPDATED, READY_FOR_REVIEW, INFO_REQUESTED, INFO_RECEIVED,
               RECOMMENDED_EVENT, APPROVED_EVENT, REJECTED_EVENT, REVIEW_REQUESTED_EVENT, PAYMENT_ORDERED_EVENT,
               PAYMENT_RECORDED, PAID_EVENT, CLOSED_EVENT, WITHDRAWN_EVENT, ASSIGNED)

# Checklist item states.
MISSING, UPLOADED, VERIFIED, DOC_REJECTED = "missing", "uploaded", "verified", "rejected"


class IllegalStep(Conflict):
    """A step the claim's status does not allow: 409 naming the steps it does."""


def check_step(claim: dict, to: str) -> None:
    allowed = ALLOWED[claim["status"]]
    if to not in allowed:
        raise IllegalStep(f"A claim that is {claim['status'].replace('_', ' ')} cannot become "
                          f"{to.replace('_', ' ')}; it can become: {', '.join(sorted(allowed)) or 'nothing (final)'}.",
                          claim_status=claim["status"], allowed=sorted(allowed))


def _stored(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def _day(value) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- filing ------------------------------------------------------------------------------

def new_claim(claim_type, catalogue_version: str, filing: dict, *, claim_id: str, migrant: dict,
              documents: list[dict], actor: dict, now: datetime, today: date) -> dict:
    """A filed claim. `migrant` is what registration published of them (projections.py),
    `documents` what the vault published of their documents; `today` is Dhaka's date."""
    event = {k: _stored(v) for k, v in (filing.get("event") or {}).items() if v is not None}
    missing = [name for name in claim_type.event_fields if name not in event]
    errors: dict[str, list[str]] = {}
    if missing:
        errors["event"] = [f"A {claim_type.name_en.lower()} claim needs: {', '.join(missing)}."]
    heirs, child = filing.get("heirs"), filing.get("child")
    if claim_type.claimants == "heirs":
        errors.update(_check_heirs(heirs))
    elif heirs:
        errors["heirs"] = ["Only claims for a deceased worker name heirs."]
    if claim_type.claimants == "child" and not child:
        errors["child"] = ["Name the child this claim is for."]
    elif claim_type.claimants != "child" and child:
        errors["child"] = ["Only a child's claim names a child."]
    if errors:
        raise Invalid(errors)
    claim = {
        "_id": claim_id, "claim_id": claim_id, "type": claim_type.code, "catalogue_version": catalogue_version,
        "name_en": claim_type.name_en, "name_bn": claim_type.name_bn,
        "migrant_reference": migrant["_id"], "district": filing["district"], "event": event,
        # For reports by destination: where the event happened abroad, else where registration
        # says they went (None: not known).
        "destination_country": event.get("country") or migrant.get("destination_country"),
        "heirs": [_heir(h, n) for n, h in enumerate(heirs or [], start=1)] or None,
        "child": dict(child) if child else None,
        "claimant_phone": _claimant_phone(claim_type, heirs, child, migrant),
        "amount_rule": dict(claim_type.amount), "target_days": dict(claim_type.target_days),
        "filed_by": {**actor, "at": now}, "note": filing.get("note"),
        "status": SUBMITTED, "stage_since": now, "resume_to": None, "assignee": None,
        "recommendation": None, "decision": None, "rejection": None, "approved_amount": None,
        "payments": [], "paid_total": 0,
        "version": 1, "created_at": now, "updated_at": now,
    }
    # The conditions and the filing date are kept, so a later reassessment (registration
    # publishing a membership or a clearance) judges by the rules the claim was filed under.
    claim["eligibility_rules"] = [dict(condition) for condition in claim_type.eligibility]
    claim["filed_on"] = today.isoformat()
    claim["eligibility"] = eligibility(claim, migrant)
    claim["checklist"] = [_item(group, documents) for group in claim_type.documents]
    key = unique_key(claim_type, claim)
    if key:
        claim["unique_key"] = key
    claim["status"] = UNDER_REVIEW if checklist_complete(claim) else DOCUMENTS_PENDING
    return claim


def _check_heirs(heirs) -> dict[str, list[str]]:
    if not heirs:
        return {"heirs": ["Name the heirs from the family (heirship) certificate, with each one's share."]}
    total = sum((Fraction(h["share"]["numerator"], h["share"]["denominator"]) for h in heirs), Fraction(0))
    if total != 1:
        return {"heirs": [f"The heirs' shares add up to {total}, not the whole (1)."]}
    return {}


def _heir(heir: dict, number: int) -> dict:
    return {**heir, "heir_id": number}


def _claimant_phone(claim_type, heirs, child, migrant) -> str | None:
    if heirs:
        return heirs[0]["phone"]
    if child and child.get("guardian_phone"):
        return child["guardian_phone"]
    return migrant.get("phone")


def unique_key(claim_type, claim: dict) -> str | None:
    """The claim's key under its type's uniqueness rule; the database keeps it unique."""
    if not claim_type.unique_per:
        return None
    parts = [claim_type.code]
    for part in claim_type.unique_per:
        if part == "migrant":
            parts.append(claim["migrant_reference"])
        elif part == "child":
            parts.append(claim["child"]["birth_registration_number"])
        else:
            parts.append(str(claim["event"][part]).lower())
    return "|".join(parts)


# -- eligibility -------------------------------------------------------------------------

def eligibility(claim: dict, migrant: dict) -> list[dict]:
    """Each condition the claim was filed under, met or not, with why; none blocks filing.
    `detail` says why in English; `detail_code` and `detail_args` say it as a code and its
    values, so a reader in another language (the portal in Bangla) words it itself."""
    event_day = _day(claim["event"].get("date"))
    filed = _day(claim["filed_on"])  # Dhaka's date of filing
    membership = migrant.get("membership") or {}
    clearance = (migrant.get("steps") or {}).get("emigration_clearance")
    results = []
    for condition in claim["eligibility_rules"]:
        name = condition["condition"]
        if name in ("membership_active_on_event_date", "membership_active_on_filing"):
            on = event_day if name == "membership_active_on_event_date" else filed
            met, finding = _member_on(membership, on)
        elif name == "clearance_recorded":
            met = clearance is not None
            finding = (_finding("clearance_recorded", f"Emigration clearance recorded on {clearance}.", on=clearance)
                       if met else _finding("no_clearance", "No emigration clearance recorded."))
        elif name == "membership_or_clearance":
            member, _ = _member_on(membership, filed)
            met = bool(member) or clearance is not None
            finding = (_finding("member_or_clearance", "WEWB member or emigration clearance recorded.") if met else
                       _finding("neither_member_nor_clearance",
                                "Neither WEWB membership nor emigration clearance is recorded."))
        else:  # filed_within_days
            days = condition["days"]
            if event_day is None:
                met, finding = None, _finding("no_event_date", "No event date given.")
            else:
                waited = (filed - event_day).days
                met = waited <= days
                finding = _finding("filed_days_after_event",
                                   f"Filed {waited} days after the event; the limit is {days}.", days=waited, limit=days)
        results.append({"condition": name, "met": met, **finding})
    return results


def _finding(code: str, detail: str, **args) -> dict:
    return {"detail": detail, "detail_code": code, "detail_args": {k: str(v) if isinstance(v, date) else v
                                                                   for k, v in args.items()}}


def _member_on(membership: dict, on: date | None) -> tuple[bool | None, dict]:
    if on is None:
        return None, _finding("no_event_date", "No event date given.")
    if not membership:
        return False, _finding("no_membership", "No WEWB membership recorded.")
    since, until = _day(membership.get("activated_on")), _day(membership["valid_until"])
    active = (since is None or since <= on) and on <= until
    detail = (f"Membership valid until {until}" + (f", active since {since}" if since else "") + f"; "
              f"{'active' if active else 'not active'} on {on}.")
    return active, _finding("membership_active" if active else "membership_not_active", detail,
                            valid_until=until, since=since, on=on)


def reassess(claim: dict, migrant: dict) -> bool:
    """Judge the conditions again with what registration has published since; True when
    a result changed (the claim is updated in place)."""
    results = eligibility(claim, migrant)
    if results == claim["eligibility"]:
        return False
    claim["eligibility"] = results
    return True


def eligible(claim: dict) -> bool:
    return all(result["met"] for result in claim["eligibility"])


# -- checklist ---------------------------------------------------------------------------

def _item(doc_types, documents: list[dict]) -> dict:
    return {"doc_types": list(doc_types), **_item_state(doc_types, documents)}


def _item_state(doc_types, documents: list[dict]) -> dict:
    """The best evidence among the migrant's documents of these types: verified beats
    uploaded beats rejected; nothing is missing."""
    rank = {VERIFIED: 3, UPLOADED: 2, DOC_REJECTED: 1}
    matching = [d for d in documents if d["doc_type"] in doc_types and d.get("status") in rank]
    if not matching:
        return {"status": MISSING, "document_id": None, "reason": None}
    best = max(matching, key=lambda d: (rank[d["status"]], str(d.get("updated_at") or "")))
    return {"status": best["status"], "document_id": best["_id"],
            "reason": best.get("reason") if best["status"] == DOC_REJECTED else None}


def refresh_checklist(claim: dict, documents: list[dict]) -> bool:
    """Re-derive every item from the migrant's documents; True when something changed."""
    changed = False
    for item in claim["checklist"]:
        state = _item_state(item["doc_types"], documents)
        if any(item.get(k) != v for k, v in state.items()):
            item.update(state)
            changed = True
    return changed


def checklist_complete(claim: dict) -> bool:
    return all(item["status"] == VERIFIED for item in claim["checklist"])


def document_ids(claim: dict) -> list[str]:
    """The documents the claim relies on: documents keeps them from deletion while it is open."""
    return [item["document_id"] for item in claim["checklist"] if item.get("document_id")]


# -- steps -------------------------------------------------------------------------------

def _moved(claim: dict, to: str, now: datetime, **changes) -> dict:
    """A new status; `stage_since` is when it began (the seam for stage clocks and the overdue timer)."""
    check_step(claim, to)
    return {**claim, **changes, "status": to, "stage_since": now, "version": claim["version"] + 1, "updated_at": now}


def touched(claim: dict, now: datetime, **changes) -> dict:
    return {**claim, **changes, "version": claim["version"] + 1, "updated_at": now}


def request_information(claim: dict, *, source: str, note: str, actor: dict, now: datetime) -> dict:
    return _moved(claim, AWAITING_INFORMATION, now, resume_to=claim["status"],
                  information_request={"from": source, "note": note, "by": actor["user"], "at": now})


def information_received(claim: dict, *, note: str | None, actor: dict, now: datetime) -> dict:
    if claim["status"] != AWAITING_INFORMATION:
        raise IllegalStep(f"The claim is {claim['status'].replace('_', ' ')}, not awaiting information.",
                          claim_status=claim["status"], allowed=sorted(ALLOWED[claim["status"]]))
    back = claim.get("resume_to") or UNDER_REVIEW
    if back == DOCUMENTS_PENDING and checklist_complete(claim):
        back = UNDER_REVIEW
    return _moved(claim, back, now, resume_to=None,
                  information_request={**(claim.get("information_request") or {}), "answered_at": now,
                                       "answer": note})


def ready_for_review(claim: dict, now: datetime) -> dict:
    return _moved(claim, UNDER_REVIEW, now)


def rule_amount(claim: dict) -> tuple[int | None, int | None]:
    """(the amount the rule gives, the most that may be approved); None where the rule
    leaves it to the officer (assessed) or nothing is known yet (as recovered)."""
    rule, event = claim["amount_rule"], claim["event"]
    kind = rule["rule"]
    if kind == "fixed":
        return rule["amount"], rule["amount"]
    if kind == "capped":
        return min(int(event["requested_amount"]), rule["cap"]), rule["cap"]
    if kind == "per_month":
        total = rule["monthly"] * rule["months"]
        return total, total
    if kind == "by_grade":
        bands = sorted(rule["levels"].get(str(event["exam_level"]).lower(), []), key=lambda b: -b["min_gpa"])
        amount = next((b["amount"] for b in bands if float(event["gpa"]) >= b["min_gpa"]), 0)
        return amount, amount
    if kind == "as_recovered":
        recovered = event.get("recovered_amount")
        return recovered, recovered
    if kind == "referral":
        return 0, 0
    return None, None  # assessed


def approve(claim: dict, *, amount: int | None, reason: str | None, eligibility_override: str | None,
            actor: dict, now: datetime, second_approval_above: int) -> dict:
    """An officer's approval. Above `second_approval_above` the first one is a recommendation
    and another officer approves it (not the one who recommended)."""
    recommendation = claim.get("recommendation") if claim["status"] == RECOMMENDED else None
    if recommendation:
        if recommendation["by"] == actor["user"]:
            raise Forbidden("You recommended this amount; another officer has to approve it.",
                            recommended_by=recommendation["by"])
        if amount is not None and amount != recommendation["amount"]:
            raise Invalid({"amount": [f"The recommendation is for Tk {recommendation['amount']}; approve that, "
                                      "or send the claim back to review to change it."]})
        decided = {**recommendation, "approved_by": actor["user"], "approved_at": now}
        return _moved(claim, APPROVED, now, decision=decided, approved_amount=recommendation["amount"])
    check_step(claim, APPROVED)
    by_rule, cap = rule_amount(claim)
    if claim["amount_rule"]["rule"] == "as_recovered" and cap is None:
        raise Invalid({"amount": ["Record the amount recovered abroad (event.recovered_amount) before approving."]})
    if amount is None:
        if by_rule is None:
            raise Invalid({"amount": ["This claim type's amount is assessed: say how much is approved."]})
        amount = by_rule
    errors: dict[str, list[str]] = {}
    if cap is not None and amount > cap:
        errors["amount"] = [f"Tk {amount} is above what this claim allows (Tk {cap})."]
    elif by_rule is not None and amount < by_rule and not reason:
        errors["reason"] = [f"The rule gives Tk {by_rule}; say why a lower amount is approved."]
    unmet = [r["condition"] for r in claim["eligibility"] if not r["met"]]
    if unmet and not eligibility_override:
        errors["eligibility_override"] = [f"Conditions not met: {', '.join(unmet)}. Approving anyway needs a reason."]
    if errors:
        raise Invalid(errors)
    decision = {"amount": amount, "rule_amount": by_rule, "reason": reason, "eligibility_override": eligibility_override,
                "unmet_conditions": unmet, "by": actor["user"], "at": now}
    if amount > second_approval_above:
        check_step(claim, RECOMMENDED)
        return _moved(claim, RECOMMENDED, now, recommendation=decision)
    return _moved(claim, APPROVED, now, decision={**decision, "approved_by": actor["user"], "approved_at": now},
                  approved_amount=amount)


def reject(claim: dict, *, code: str, text_en: str, text_bn: str, actor: dict, now: datetime) -> dict:
    return _moved(claim, REJECTED, now, recommendation=None,
                  rejection={"code": code, "text_en": text_en, "text_bn": text_bn, "by": actor["user"], "at": now})


def request_review(claim: dict, *, note: str, actor: dict, now: datetime) -> dict:
    return _moved(claim, REVIEW_REQUESTED, now,
                  review_request={"note": note, "by": actor["user"], "at": now})


def order_payment(claim: dict, *, actor: dict, now: datetime) -> dict:
    check_step(claim, PAYMENT_ORDERED)
    if not claim.get("approved_amount"):
        raise IllegalStep("Nothing to pay: the approval is for no amount (a referral); close the claim instead.",
                          claim_status=claim["status"], allowed=[CLOSED])
    return _moved(claim, PAYMENT_ORDERED, now, payment_order={"by": actor["user"], "at": now})


def record_payment(claim: dict, payment: dict, *, actor: dict, now: datetime) -> dict:
    """One disbursement. The total never goes above the approved amount; for heirs, each
    heir's total never above their share. Paid when the whole amount is."""
    if claim["status"] != PAYMENT_ORDERED:
        raise IllegalStep(f"Payments are recorded once payment is ordered; the claim is "
                          f"{claim['status'].replace('_', ' ')}.", claim_status=claim["status"],
                          allowed=sorted(ALLOWED[claim["status"]]))
    approved, amount = claim["approved_amount"], payment["amount"]
    remaining = approved - claim["paid_total"]
    if amount > remaining:
        raise Conflict(f"Tk {amount} is more than the Tk {remaining} still to pay of the Tk {approved} approved.",
                       remaining=remaining)
    heirs = claim.get("heirs") or []
    heir_id = payment.get("heir_id")
    if heirs:
        heir = next((h for h in heirs if h["heir_id"] == heir_id), None)
        if heir is None:
            raise Invalid({"heir_id": [f"Say which heir is paid: one of {[h['heir_id'] for h in heirs]}."]})
        owed = heir_share(claim, heir)
        paid = sum(p["amount"] for p in claim["payments"] if p.get("heir_id") == heir_id)
        if paid + amount > owed:
            raise Conflict(f"Heir {heir_id}'s share is Tk {owed}; Tk {paid} is already paid to them.",
                           remaining=owed - paid)
    elif heir_id is not None:
        raise Invalid({"heir_id": ["This claim has no heirs."]})
    entry = {**payment, "recorded_by": actor["user"], "recorded_at": now}
    total = claim["paid_total"] + amount
    updated = touched(claim, now, payments=[*claim["payments"], entry], paid_total=total)
    if total == approved:
        check_step(claim, PAID)
        updated["status"] = PAID
    return updated


def heir_share(claim: dict, heir: dict) -> int:
    """An heir's part of the approved amount in whole taka; the last heir takes what rounding left."""
    heirs, approved = claim["heirs"], claim["approved_amount"]
    shares = [approved * Fraction(h["share"]["numerator"], h["share"]["denominator"]) for h in heirs]
    floors = [int(s) for s in shares]
    if heir["heir_id"] == heirs[-1]["heir_id"]:
        return approved - sum(floors[:-1])
    return floors[heir["heir_id"] - 1]


def close(claim: dict, *, note: str | None, actor: dict, now: datetime) -> dict:
    return _moved(claim, CLOSED, now, closure={"note": note, "by": actor["user"], "at": now})


def withdraw(claim: dict, *, reason: str, actor: dict, now: datetime) -> dict:
    """Withdrawn: its uniqueness key is released, so the claim can be filed again."""
    updated = _moved(claim, WITHDRAWN, now, withdrawal={"reason": reason, "by": actor["user"], "at": now})
    updated.pop("unique_key", None)
    return updated


def assign(claim: dict, *, officer: str, actor: dict, now: datetime) -> dict:
    if claim["status"] in (CLOSED, WITHDRAWN):
        raise IllegalStep("A closed or withdrawn claim is not assigned.", claim_status=claim["status"],
                          allowed=sorted(ALLOWED[claim["status"]]))
    return touched(claim, now, assignee=officer, assigned_by=actor["user"])


# -- events and history ------------------------------------------------------------------

def event_data(claim: dict, **extra) -> dict:
    """What every claims event carries: the case shape documents reads for legal hold, the
    migrant's reference and the claimant's phone (notifications), and the taka approved
    (None before a decision) for a timeline's "what happens next"."""
    return {"case_id": claim["_id"], "status": claim["status"], "document_ids": document_ids(claim),
            "claim_type": claim["type"], "migrant_reference": claim["migrant_reference"],
            "claimant_phone": claim.get("claimant_phone"), "approved_amount": claim.get("approved_amount"), **extra}


def payment_data(claim: dict) -> dict:
    """What a payment's event (payment_recorded, or paid for the last one) adds: the taka of
    the payment just recorded and the total paid so far."""
    return {"payment_amount": claim["payments"][-1]["amount"], "paid_total": claim["paid_total"]}


SUMMARIES = {
    SUBMITTED_EVENT: ("Claim filed", "আবেদন জমা হয়েছে"),
    CHECKLIST_UPDATED: ("Documents checklist updated", "কাগজপত্রের তালিকা হালনাগাদ হয়েছে"),
    ELIGIBILITY_UPDATED: ("Eligibility reassessed", "যোগ্যতা পুনর্মূল্যায়ন করা হয়েছে"),
    READY_FOR_REVIEW: ("All documents verified; under review", "সব কাগজ যাচাই হয়েছে; পর্যালোচনা চলছে"),
    INFO_REQUESTED: ("Information requested", "তথ্য চাওয়া হয়েছে"),
    INFO_RECEIVED: ("Information received", "তথ্য পাওয়া গেছে"),
    RECOMMENDED_EVENT: ("Recommended for approval", "অনুমোদনের সুপারিশ করা হয়েছে"),
    APPROVED_EVENT: ("Approved", "অনুমোদিত"),
    REJECTED_EVENT: ("Rejected", "নামঞ্জুর"),
    REVIEW_REQUESTED_EVENT: ("Review requested", "পুনর্বিবেচনার আবেদন"),
    PAYMENT_ORDERED_EVENT: ("Payment ordered", "অর্থ প্রদানের আদেশ"),
    PAYMENT_RECORDED: ("Payment recorded", "অর্থ প্রদান লিপিবদ্ধ"),
    PAID_EVENT: ("Paid in full", "সম্পূর্ণ অর্থ প্রদান"),
    CLOSED_EVENT: ("Closed", "নিষ্পত্তি"),
    WITHDRAWN_EVENT: ("Withdrawn", "প্রত্যাহার করা হয়েছে"),
    ASSIGNED: ("Assigned to an officer", "কর্মকর্তার কাছে দেওয়া হয়েছে"),
}


def history_entry(event) -> dict:
    english, bangla = SUMMARIES.get(event.type, (event.type, event.type))
    return {"_id": event.id, "claim_id": event.subject.id, "type": event.type, "status": event.data.get("status"),
            "occurred_at": datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00")),
            "summary": english, "summary_bn": bangla}


# -- stage clocks and notes (services/claims/clocks.py, timers.py) -------------------------
OVERDUE_EVENT = "claims.claim.overdue"
NOTE_ADDED = "claims.claim.note_added"
EVENT_TYPES += (OVERDUE_EVENT, NOTE_ADDED)
SUMMARIES.update({OVERDUE_EVENT: ("Overdue in its stage", "নির্ধারিত সময় পেরিয়ে গেছে"),
                  NOTE_ADDED: ("Note added", "নোট যোগ করা হয়েছে")})


def add_note(claim: dict, *, text: str, actor: dict, now: datetime) -> dict:
    """Notes are kept on the claim in the order written; any status takes one."""
    note = {"note_id": len(claim.get("notes") or []) + 1, "text": text, "by": actor["user"], "role": actor["role"],
            "at": now}
    return touched(claim, now, notes=[*(claim.get("notes") or []), note])
