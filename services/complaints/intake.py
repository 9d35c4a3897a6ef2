"""Complaint intake: who may file, the complainant, channel, category, respondents (the
recruiting agency by licence, a sub-agent by name and phone, an employer abroad by name and
country), amount claimed and narrative, each checked. No I/O: the caller passes the ids (the
receipt number from receipts.py), the loaded lists, the actor and `now`.
"""
from __future__ import annotations

import re
from datetime import datetime

from shared.errors import Forbidden, Invalid
# Phones and licences by the rule registration uses (shared/spellings.py). A complaint may also
# name an agency by its number alone ("1234"): the complainant may know no more.
from shared.spellings import normalise_licence_or_number as normalise_licence
from shared.spellings import normalise_phone

from . import domain

# Who may file: the migrant or family (role migrant), a UDC operator on their behalf,
# legal aid staff or a welfare officer.
FILING_ROLES = ("migrant", "udc_operator", "legal_aid", "welfare_officer")
RESPONDENT_KINDS = ("recruiting_agency", "sub_agent", "employer_abroad")
_COUNTRY = re.compile(r"[A-Z]{2}")
NARRATIVE_MIN, NARRATIVE_MAX = 20, 10_000


def _text(value, errors, field, *, lo=1, hi=200):
    if not isinstance(value, str) or not lo <= len(value.strip()) <= hi:
        errors[field] = [f"Must be text of {lo} to {hi} characters."]
        return None
    return value.strip()


def _respondent(entry, n: int, errors: dict) -> dict | None:
    where = f"respondents.{n}"
    kind = entry.get("kind") if isinstance(entry, dict) else None
    if kind not in RESPONDENT_KINDS:
        errors[f"{where}.kind"] = [f"Must be one of {', '.join(RESPONDENT_KINDS)}."]
        return None
    out = {"kind": kind, "name": _text(entry.get("name"), errors, f"{where}.name")}
    if kind == "recruiting_agency":
        try:
            out["licence"] = normalise_licence(entry.get("licence"))
        except ValueError as exc:
            errors[f"{where}.licence"] = [str(exc)]
    elif kind == "sub_agent":
        try:
            out["phone"] = normalise_phone(entry.get("phone"))
        except ValueError as exc:
            errors[f"{where}.phone"] = [str(exc)]
    else:
        country = str(entry.get("country") or "").strip().upper()
        if not _COUNTRY.fullmatch(country):
            errors[f"{where}.country"] = ["The employer's country, as a two-letter code (e.g. SA)."]
        out["country"] = country
    return out


def new_complaint(intake: dict, *, complaint_id: str, receipt_number: str, lists, actor: dict,
                  now: datetime) -> dict:
    """A complaint as received; Invalid names every field that is wrong, and nothing is made."""
    errors: dict[str, list[str]] = {}
    if actor.get("role") not in FILING_ROLES:
        raise Forbidden(f"A {actor.get('role')} cannot file a complaint; {', '.join(FILING_ROLES)} can.")
    complainant = intake.get("complainant") if isinstance(intake.get("complainant"), dict) else {}
    reference = complainant.get("migrant_reference")
    if actor["role"] == "migrant" and reference != actor.get("migrant_ref"):
        raise Forbidden("A migrant files complaints about their own migration only.")
    if not isinstance(reference, str) or not reference.strip():
        errors["complainant.migrant_reference"] = ["Say which registered migrant this complaint is for."]
    name = _text(complainant.get("name"), errors, "complainant.name")
    try:
        phone = normalise_phone(complainant.get("phone"))
    except ValueError as exc:
        errors["complainant.phone"], phone = [str(exc)], None
    relation = complainant.get("relation", "self")
    if relation not in ("self", "family"):
        errors["complainant.relation"] = ["Must be self (the migrant) or family."]
    for field, known in (("channel", lists.channels), ("category", lists.categories)):
        if intake.get(field) not in known:
            errors[field] = [f"Must be one of {', '.join(known)}."]
    respondents = intake.get("respondents")
    if not isinstance(respondents, list) or not respondents:
        errors["respondents"] = ["Name at least one respondent: the agency, a sub-agent or the employer."]
        respondents = []
    parsed = [_respondent(r, n, errors) for n, r in enumerate(respondents)]
    amount = intake.get("amount_claimed", 0)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        errors["amount_claimed"] = ["Must be a whole number of taka, zero or more."]
    if not isinstance(intake.get("restricted", False), bool):
        errors["restricted"] = ["Must be true (confidential, e.g. sexual abuse) or false."]
    narrative = _text(intake.get("narrative"), errors, "narrative", lo=NARRATIVE_MIN, hi=NARRATIVE_MAX)
    if errors:
        raise Invalid(errors)
    return {
        "_id": complaint_id, "complaint_id": complaint_id, "receipt_number": receipt_number,
        "complainant": {"migrant_reference": reference.strip(), "name": name, "phone": phone, "relation": relation},
        "channel": intake["channel"], "category": intake["category"], "respondents": parsed,
        "agency_licences": sorted({r["licence"] for r in parsed if r.get("licence")}),
        "amount_claimed": amount, "narrative": narrative, "district": intake.get("district"),
        "restricted": intake.get("restricted", False),
        "filed_by": {**actor, "at": now}, "status": domain.RECEIVED, "stage_since": now, "assignee": None,
        "evidence": [], "hearings": [], "referrals": [], "outcome": None, "payments": [], "paid_total": 0,
        "enforcement": None, "closure": None, "reopenings": [], "withdrawal": None,
        "version": 1, "created_at": now, "updated_at": now,
    }
