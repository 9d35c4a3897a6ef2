"""What a family member's token shows of a claim (an heir, a child's guardian).

They need where the claim stands, what is missing, what was decided and why, and what
was approved and paid to them - not the other heirs' identifiers or accounts, the
officers' notes, nor who in the office did what. So the view is built from what is kept
(an allowlist: a field added to claims later stays hidden until it is judged here), and
every nested record loses its actor ids. The heir whose phone signed in is shown in full;
the others by name and share only.
"""
from __future__ import annotations

from shared.access import family_phone
from shared.auth import Principal
from shared.redaction import only, without

# Top-level fields a family member sees as stored (nested records are judged below).
KEPT = ("claim_id", "type", "name_en", "name_bn", "catalogue_version", "catalogue_number", "migrant_reference",
        "district", "destination_country", "status", "stage_since", "event", "eligibility", "eligibility_rules",
        "filed_on", "checklist", "amount_rule", "target_days", "resume_to", "approved_amount", "paid_total",
        "version", "created_at", "updated_at", "clock", "overdue", "overdue_stages")
# Who in the office did what: user ids, dropped wherever they are recorded.
ACTOR_KEYS = frozenset({"by", "approved_by", "recorded_by", "assigned_by", "user"})
# Each step's record, and what of it a family member sees besides its times.
STEP_RECORDS = {"recommendation": ("amount", "rule_amount", "reason", "unmet_conditions", "at"),
                "decision": ("amount", "rule_amount", "reason", "eligibility_override", "unmet_conditions", "at",
                             "approved_at"),
                "rejection": ("code", "text_en", "text_bn", "at"),
                "review_request": ("at",),
                "payment_order": ("at",),
                "closure": ("at",),
                "withdrawal": ("reason", "at")}
OTHER_HEIR = ("heir_id", "name_en", "name_bn", "share")
PAYMENT = ("amount", "method", "heir_id", "recorded_at")


def family_view(claim: dict, principal: Principal) -> dict:
    """`claim` as services.claims.service.view shows it, narrowed for the family member `principal`."""
    phone = family_phone(principal)
    shown = {k: without_actors(claim[k]) for k in KEPT if k in claim}
    for name, keep in STEP_RECORDS.items():
        if name in claim:
            shown[name] = only(claim[name], keep)
    if "information_request" in claim:
        shown["information_request"] = _information_request(claim["information_request"])
    heirs = claim.get("heirs")
    if "heirs" in claim:
        shown["heirs"] = None if heirs is None else [_heir(h, phone) for h in heirs]
    if "child" in claim:
        shown["child"] = _child(claim["child"], phone)
    if phone and claim.get("claimant_phone") == phone:
        shown["claimant_phone"] = phone
    if "payments" in claim:
        own = _own_heir_ids(heirs, phone)
        # Without heirs the claimant is paid: their account is theirs to see if they signed in.
        to_claimant = not heirs and bool(phone) and claim.get("claimant_phone") == phone
        shown["payments"] = [_payment(p, to_claimant or p.get("heir_id") in own) for p in claim["payments"]]
    if claim.get("filed_by") is not None:  # staff, a UDC or the migrant: the role, not the person
        shown["filed_by"] = only(claim["filed_by"], ("role", "udc_centre", "at"))
    return shown



def without_actors(value):
    """`value` with every actor id (ACTOR_KEYS) removed from the dicts it holds, at any depth."""
    return without(value, ACTOR_KEYS)



def _information_request(request: dict | None) -> dict | None:
    """What the family is asked is theirs to read; what a mission abroad is asked is not."""
    if request is None:
        return None
    keep = ("from", "note", "at", "answered_at", "answer") if request.get("from") == "family" else \
        ("from", "at", "answered_at")
    return only(request, keep)


def _heir(heir: dict, phone: str | None) -> dict:
    if phone and heir.get("phone") == phone:
        return without_actors(heir)
    return only(heir, OTHER_HEIR)


def _own_heir_ids(heirs: list[dict] | None, phone: str | None) -> set:
    return {h.get("heir_id") for h in heirs or [] if phone and h.get("phone") == phone}


def _child(child: dict | None, phone: str | None) -> dict | None:
    if child is None:
        return None
    if phone and child.get("guardian_phone") == phone:
        return dict(child)
    return only(child, ("name_en", "name_bn"))


def _payment(payment: dict, theirs: bool) -> dict:
    """A payment's amount and date; its account and reference only to the one paid."""
    return only(payment, (*PAYMENT, "account", "reference") if theirs else PAYMENT)
