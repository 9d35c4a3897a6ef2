"""The officer pages' words: statuses, eligibility conditions, checklist states, report measures
and what to fix in a field a service refused, all from the catalogues (bn and en)."""
from __future__ import annotations

from flask_babel import gettext as _

from .. import i18n
from ..backends import BackendError

BANGLA_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")  # an amount typed on a Bangla keyboard


def statuses() -> dict:
    return {"submitted": _("Submitted"), "documents_pending": _("Waiting for documents"),
            "under_review": _("Under review"), "recommended": _("Recommended, waiting for a second approval"),
            "awaiting_information": _("Waiting for information"), "approved": _("Approved"),
            "rejected": _("Rejected"), "review_requested": _("Review requested"),
            "payment_ordered": _("Payment ordered"), "paid": _("Paid"), "closed": _("Closed"),
            "withdrawn": _("Withdrawn")}


def conditions() -> dict:
    return {"membership_active_on_event_date": _("Welfare Fund membership active on the date of the event"),
            "membership_active_on_filing": _("Welfare Fund membership active on the day of filing"),
            "clearance_recorded": _("Emigration clearance recorded"),
            "membership_or_clearance": _("Welfare Fund membership or emigration clearance recorded"),
            "filed_within_days": _("Filed within the time limit")}


def finding(result: dict) -> dict:
    """Why a condition is (not) met, in the page's language from the claims service's code and
    values; a code this portal does not know yet keeps the service's English ({"text", "lang"})."""
    args = result.get("detail_args") or {}
    code = result.get("detail_code")
    day = {key: i18n.date(args.get(key)) for key in ("valid_until", "since", "on")}
    if code == "membership_active":
        text = (_("Membership valid until %(until)s (active since %(since)s): active on %(on)s.",
                  until=day["valid_until"], since=day["since"], on=day["on"]) if args.get("since") else
                _("Membership valid until %(until)s: active on %(on)s.", until=day["valid_until"], on=day["on"]))
    elif code == "membership_not_active":
        text = (_("Membership valid until %(until)s (active since %(since)s): not active on %(on)s.",
                  until=day["valid_until"], since=day["since"], on=day["on"]) if args.get("since") else
                _("Membership valid until %(until)s: not active on %(on)s.", until=day["valid_until"], on=day["on"]))
    elif code == "filed_days_after_event":
        text = _("Filed %(days)s days after the event; the limit is %(limit)s days.",
                 days=i18n.number(args.get("days")), limit=i18n.number(args.get("limit")))
    elif code == "clearance_recorded":
        text = _("Emigration clearance recorded on %(on)s.", on=day["on"])
    else:
        text = {"no_event_date": _("No date of the event was given."),
                "no_membership": _("No Welfare Fund membership is recorded."),
                "no_clearance": _("No emigration clearance is recorded."),
                "member_or_clearance": _("Welfare Fund membership or emigration clearance is recorded."),
                "neither_member_nor_clearance": _("Neither Welfare Fund membership nor emigration clearance is "
                                                  "recorded.")}.get(code or "")
    if text is None:
        return {"text": result.get("detail") or "", "lang": "en"}
    return {"text": text, "lang": i18n.lang()}


def doc_states() -> dict:
    return {"missing": _("Missing"), "uploaded": _("Uploaded, not checked yet"), "verified": _("Verified"),
            "rejected": _("Rejected")}


def done(step: str) -> str | None:
    return {"approval": _("The approval was recorded."), "rejection": _("The claim was rejected."),
            "information-requests": _("The request for information was recorded."),
            "information-received": _("The information was recorded as received."),
            "payment-order": _("The payment was ordered."), "payments": _("The payment was recorded."),
            "verified": _("The document was marked verified."),
            "rejected": _("The document was marked rejected.")}.get(step)


def field_sentence(name: str) -> str:
    known = {
        "amount": _("Enter an amount in whole taka, for example 300000."),
        "reason": _("Write the reason, in at least 2 characters."),
        "eligibility_override": _("A condition is not met: write why you approve anyway."),
        "reason_code": _("A short code in small English letters, for example not_member."),
        "reason_en": _("Write the reason in English."),
        "reason_bn": _("Write the reason in Bangla."),
        "source": _("Choose who is asked."),
        "note": _("Write what is needed."),
        "method": _("Choose how it was paid."),
        "account": _("The account or wallet number: 4 to 34 letters, digits or hyphens."),
        "reference": _("The payment's reference (BEFTN trace or cheque number): 3 to 60 letters or digits."),
        "heir_id": _("Choose the heir who was paid."),
    }
    return known.get(name.rsplit(".", 1)[-1], _("Please check this field."))


def step_refusals(error: BackendError) -> dict:
    """A step's refusals said for an officer (claims' 403 on a second approval, 409s)."""
    sentences = {403: _("You recommended this amount, so another officer must approve it.")}
    if error.status == 409:
        if "existing_claim" in error.problem:  # claims names the claim a payment reference was used on
            sentences[409] = _("That payment reference was used already. Check it against the bank's record.")
        elif "remaining" in error.problem:
            sentences[409] = _("This is more than what remains to be paid (or more than the heir's share).")
        else:
            sentences[409] = _("This step is not possible while the claim has its present status.")
    return sentences


def measures() -> list:
    """(the report's figure, its chart's title, whether it is money)."""
    return [("claims", _("Claims filed"), False), ("approved", _("Claims approved"), False),
            ("paid", _("Claims paid"), False), ("amount_paid", _("Amount paid"), True)]


def groups() -> dict:
    return {"type": _("Claim type"), "district": _("District"), "country": _("Destination country"),
            "month": _("Month of filing")}


def row_label(row: dict, group: str) -> str:
    if group == "type":
        return (row.get("type_name_bn") if i18n.lang() == "bn" else row.get("type_name_en")) or row.get("type") or ""
    if group == "month":
        return i18n.digits(row.get("month") or "")
    value = row.get(group)
    return value if value else _("Not known")
