"""An event -> a timeline entry a person can read, in Bangla and English: what happened, when
(Dhaka time, Bangla digits in Bangla), which case it belongs to and who may see it.

Every contracted event type is either written here (TEXTS) or skipped on purpose (SKIPPED, with
why); tests/unit/test_casestatus_entries.py checks that no type is in neither. An entry is a pure
function of its event, and its `_id` is the event's id: an event delivered twice is one entry.
Timelines sort by `sort_key` (when it happened, then the case's version, then the id), so events
that arrive late or out of order still read in the order they happened.
"""
from __future__ import annotations

from typing import Callable

from shared.auth import Principal

from . import names
from .dates import bangla_digits, format_date, format_taka, format_when, instant

CLAIM, COMPLAINT = "claim", "complaint"

# Types that concern no migrant's timeline, and why.
SKIPPED: dict[str, str] = {
    "registration.migrant.snapshot": "replay state, not a happening: catch-up builds from it, no entry of its own",
    "documents.document.snapshot": "replay state, not a happening: catch-up builds from it, no entry of its own",
    "claims.claim.snapshot": "replay state, not a happening: catch-up builds from it, no entry of its own",
    "complaints.complaint.snapshot": "replay state, not a happening: catch-up builds from it, no entry of its own",
    "replay.completed": "the end of a replay, about no migrant",
    "claims.catalogue.published": "a new claim-type catalogue, about no migrant",
    "claims.claim.checklist_updated": "follows each document change, which has its own entry; the missing "
                                      "documents show in what happens next",
    "claims.claim.eligibility_updated": "an officer's internal reassessment; the decision is the step that matters",
    "claims.claim.note_added": "staff notes are internal to the claim",
    **{f"identity.staff.{action}": "a staff account's sign-in or change, about no migrant"
       for action in ("created", "deactivated", "password_changed", "password_reset", "signed_in", "locked",
                      "unlocked", "sign_in_failed")},
    **{f"identity.otp.{action}": "a sign-in attempt by SMS code: security records, not a case step"
       for action in ("requested", "verified", "failed")},
    **{f"directory.{kind}.changed": "the public guide's data (agencies, missions, links, topics), about no migrant"
       for kind in ("agency", "country", "link", "topic")},
}

Text = Callable[[dict, str], str]  # (event data, language) -> a sentence


def _doc(data: dict, lang: str) -> str:
    return names.name("document_types", data.get("doc_type"), lang)


def _step(data: dict, lang: str) -> str:
    return names.name("pre_departure_steps", data.get("step"), lang)


def _taka(amount, lang: str) -> str:
    return format_taka(amount, lang) if isinstance(amount, int) else ("নির্ধারিত অর্থ" if lang == "bn" else "the amount")


def _reason(data: dict, lang: str) -> str:
    reason = (data.get("reason") or "").strip()
    if not reason:
        return "কারণ জানতে অফিসে যোগাযোগ করুন।" if lang == "bn" else "Ask the office for the reason."
    return f"কারণ: {reason}।" if lang == "bn" else f"Reason: {reason}."


def _both(en: str, bn: str) -> Text:
    """A sentence with {placeholders} filled from the event in each language."""
    def render(data: dict, lang: str) -> str:
        return (bn if lang == "bn" else en).format(**_fields(data, lang))
    return render


def _fields(data: dict, lang: str) -> dict:
    return {
        "doc": _doc(data, lang), "step": _step(data, lang), "reason": _reason(data, lang),
        "step_date": format_date(data["date"], lang) if data.get("date") else "",
        "valid_until": format_date(data["valid_until"], lang) if data.get("valid_until") else "",
        "version": data.get("version", ""),
        "hearing_no": _num(data.get("hearing_no"), lang), "venue": data.get("venue", ""),
        "next_date": format_date(data["next_date"], lang) if data.get("next_date") else "",
        "body": names.name("referral_bodies", data.get("body"), lang),
        "due": format_date(data["due_at"], lang) if data.get("due_at") else "",
        "deadline": format_date(data["payment_deadline"], lang) if data.get("payment_deadline") else "",
        "amount": _taka(data.get("amount"), lang), "paid": _taka(data.get("paid_total"), lang),
        "payment": _taka(data.get("payment_amount"), lang),
        "owed": _taka((data["amount"] - data.get("paid_total", 0)) if isinstance(data.get("amount"), int) else None,
                      lang),
    }


def _num(value, lang: str) -> str:
    return bangla_digits(value) if lang == "bn" and value is not None else str(value or "")


def _changed(data: dict, lang: str) -> str:
    labels = {"name_en": ("name in English", "ইংরেজিতে নাম"), "name_bn": ("name in Bangla", "বাংলায় নাম"),
              "phone": ("phone number", "ফোন নম্বর"), "destination_country": ("destination country", "গন্তব্য দেশ"),
              "recruiting_agency_licence": ("recruiting agency", "রিক্রুটিং এজেন্সি")}
    fields = [labels.get(f, (f.replace("_", " "), "অন্যান্য তথ্য"))[lang == "bn"] for f in data.get("changed", [])]
    fields = list(dict.fromkeys(fields))
    return (f"আপনার তথ্য হালনাগাদ করা হয়েছে: {', '.join(fields)}।" if lang == "bn"
            else f"Your details were updated: {', '.join(fields)}.")


def _referral(data: dict, lang: str) -> str:
    state = data.get("referral_state")
    body = names.name("referral_bodies", data.get("body"), lang)
    en = {"accepted": f"{body} accepted your complaint and is working on it.",
          "declined": f"{body} declined your complaint; it comes back to a hearing or is closed.",
          "completed": f"{body} finished its work on your complaint."}
    bn = {"accepted": f"{body} আপনার অভিযোগ গ্রহণ করেছে এবং কাজ করছে।",
          "declined": f"{body} আপনার অভিযোগ গ্রহণ করেনি; আবার শুনানি হবে অথবা অভিযোগটি বন্ধ হবে।",
          "completed": f"{body} আপনার অভিযোগের কাজ শেষ করেছে।"}
    table = bn if lang == "bn" else en
    return table.get(state, f"{body}: {state}")


def _enforcement(data: dict, lang: str) -> str:
    if data.get("enforcement_action") == "draw_security_deposit":
        return ("এজেন্সির জামানত থেকে আপনার পাওনা পরিশোধের সুপারিশ করা হয়েছে।" if lang == "bn"
                else "It was recommended that you be paid from the agency's security deposit.")
    return ("পাওনা পরিশোধ না করায় এজেন্সির লাইসেন্স স্থগিতের সুপারিশ করা হয়েছে।" if lang == "bn"
            else "The agency did not pay, and suspension of its licence was recommended.")


def _with_amount(data: dict, lang: str, field: str, plain: tuple[str, str], told: tuple[str, str]) -> str:
    """The sentence with the taka when the event carries it (claims publish it since a while:
    older events do not), else without."""
    amount = data.get(field)
    if not isinstance(amount, int):
        return plain[lang == "bn"]
    return told[lang == "bn"].format(amount=format_taka(amount, lang))


_CLAIM = "claims.claim."
_COMPLAINT = "complaints.complaint."

TEXTS: dict[str, Text] = {
    # registration
    "registration.migrant.registered": _both("You were registered as a migrant worker.",
                                             "আপনি প্রবাসী কর্মী হিসেবে নিবন্ধিত হয়েছেন।"),
    "registration.migrant.updated": _changed,
    "registration.migrant.step_recorded": _both("Pre-departure step done: {step} ({step_date}).",
                                                "বিদেশ যাত্রার আগের ধাপ সম্পন্ন: {step} ({step_date})।"),
    "registration.migrant.membership_activated": _both(
        "Your Wage Earners' Welfare Board membership is active until {valid_until}.",
        "ওয়েজ আর্নার্স কল্যাণ বোর্ডে আপনার সদস্যপদ {valid_until} পর্যন্ত চালু।"),
    # documents
    "documents.document.uploaded": _both("Document received: {doc}.", "কাগজ জমা হয়েছে: {doc}।"),
    "documents.document.version_added": _both("A new copy of your {doc} was received.",
                                              "আপনার {doc}-এর নতুন কপি জমা হয়েছে।"),
    "documents.document.verified": _both("Your {doc} was checked and accepted.",
                                         "আপনার {doc} যাচাই করে গ্রহণ করা হয়েছে।"),
    "documents.document.rejected": _both("Your {doc} was not accepted. {reason} Please submit it again.",
                                         "আপনার {doc} গ্রহণ করা হয়নি। {reason} আবার জমা দিন।"),
    "documents.document.deleted": _both("Your {doc} was removed by an administrator. {reason}",
                                        "প্রশাসক আপনার {doc} মুছে ফেলেছেন। {reason}"),
    # claims
    _CLAIM + "submitted": _both("Your application was received.", "আপনার আবেদন জমা হয়েছে।"),
    _CLAIM + "ready_for_review": _both("All documents are verified; an officer is reviewing the application.",
                                       "সব কাগজ যাচাই হয়েছে; একজন কর্মকর্তা আবেদনটি পর্যালোচনা করছেন।"),
    _CLAIM + "info_requested": _both("The office needs more information from you.",
                                     "অফিস আপনার কাছ থেকে আরও তথ্য চেয়েছে।"),
    _CLAIM + "info_received": _both("The information asked for was received.", "চাওয়া তথ্য পাওয়া গেছে।"),
    _CLAIM + "recommended": _both("Recommended for approval; a second officer will decide.",
                                  "অনুমোদনের সুপারিশ করা হয়েছে; আরেকজন কর্মকর্তা সিদ্ধান্ত দেবেন।"),
    _CLAIM + "approved": lambda data, lang: _with_amount(
        data, lang, "approved_amount", ("Your application was approved.", "আপনার আবেদন মঞ্জুর হয়েছে।"),
        ("Your application was approved: {amount}.", "আপনার আবেদন মঞ্জুর হয়েছে: {amount}।")),
    _CLAIM + "rejected": _both("Your application was not approved. You may ask for a review.",
                               "আপনার আবেদন মঞ্জুর হয়নি। আপনি পুনর্বিবেচনার আবেদন করতে পারেন।"),
    _CLAIM + "review_requested": _both("A review of the decision was requested.",
                                       "সিদ্ধান্ত পুনর্বিবেচনার আবেদন করা হয়েছে।"),
    _CLAIM + "payment_ordered": _both("Payment was ordered.", "অর্থ প্রদানের আদেশ দেওয়া হয়েছে।"),
    _CLAIM + "payment_recorded": lambda data, lang: _with_amount(
        data, lang, "payment_amount", ("A payment was sent.", "অর্থের একটি কিস্তি পাঠানো হয়েছে।"),
        ("A payment of {amount} was sent.", "{amount} পাঠানো হয়েছে।")),
    _CLAIM + "paid": _both("The full amount was paid.", "সম্পূর্ণ অর্থ পরিশোধ করা হয়েছে।"),
    _CLAIM + "closed": _both("The application is closed.", "আবেদনটির কাজ শেষ হয়েছে।"),
    _CLAIM + "withdrawn": _both("The application was withdrawn.", "আবেদনটি প্রত্যাহার করা হয়েছে।"),
    _CLAIM + "assigned": _both("An officer is now handling your application.",
                               "একজন কর্মকর্তা এখন আপনার আবেদনটি দেখছেন।"),
    _CLAIM + "overdue": _both("This is taking longer than it should; the office has been alerted.",
                              "নির্ধারিত সময়ের চেয়ে বেশি লাগছে; অফিসকে জানানো হয়েছে।"),
    # complaints
    _COMPLAINT + "received": _both("Your complaint was received.", "আপনার অভিযোগ গ্রহণ করা হয়েছে।"),
    _COMPLAINT + "scrutiny_started": _both("Your complaint is being checked.", "আপনার অভিযোগ যাচাই করা হচ্ছে।"),
    _COMPLAINT + "acknowledged": _both("Your complaint was accepted and an investigation committee formed.",
                                       "আপনার অভিযোগ গৃহীত হয়েছে এবং তদন্ত কমিটি গঠন করা হয়েছে।"),
    _COMPLAINT + "notice_sent": _both("A notice was sent to the agency you complained about.",
                                      "যার বিরুদ্ধে অভিযোগ, সেই এজেন্সিকে নোটিশ পাঠানো হয়েছে।"),
    _COMPLAINT + "assigned": _both("A legal aid officer is now handling your complaint.",
                                   "একজন আইনি সহায়তা কর্মকর্তা এখন আপনার অভিযোগটি দেখছেন।"),
    _COMPLAINT + "evidence_attached": _both("A document was added to your complaint as evidence.",
                                            "আপনার অভিযোগে প্রমাণ হিসেবে একটি কাগজ যুক্ত হয়েছে।"),
    _COMPLAINT + "hearing_scheduled": _both("Hearing {hearing_no} is set for {step_date} at {venue}.",
                                            "{hearing_no} নম্বর শুনানি {step_date} তারিখে, {venue}-এ।"),
    _COMPLAINT + "hearing_held": _both("Hearing {hearing_no} was held on {step_date}.",
                                       "{hearing_no} নম্বর শুনানি {step_date} তারিখে অনুষ্ঠিত হয়েছে।"),
    _COMPLAINT + "hearing_adjourned": _both("Hearing {hearing_no} was postponed; the next hearing is on {next_date} "
                                            "at {venue}.",
                                            "{hearing_no} নম্বর শুনানি মুলতবি হয়েছে; পরের শুনানি {next_date} তারিখে, "
                                            "{venue}-এ।"),
    _COMPLAINT + "referred": _both("Your complaint was sent to {body}, which is to act by {due}.",
                                   "আপনার অভিযোগ {body}-এর কাছে পাঠানো হয়েছে; {due}-এর মধ্যে ব্যবস্থা নেওয়ার কথা।"),
    _COMPLAINT + "referral_updated": _referral,
    _COMPLAINT + "settled": _both("Settled: the agency is to pay you {amount} by {deadline}.",
                                  "মীমাংসা হয়েছে: এজেন্সি {deadline}-এর মধ্যে আপনাকে {amount} দেবে।"),
    _COMPLAINT + "award_issued": _both("Award issued: the agency is to pay you {amount} by {deadline}.",
                                       "রায় হয়েছে: এজেন্সি {deadline}-এর মধ্যে আপনাকে {amount} দেবে।"),
    _COMPLAINT + "compliance_monitoring": _both("The office is following up the payment of {amount}.",
                                                "{amount} পরিশোধের বিষয়টি অফিস তদারকি করছে।"),
    _COMPLAINT + "payment_received": _both("A payment of {payment} was received; {paid} of {amount} paid so far.",
                                           "{payment} পরিশোধ পাওয়া গেছে; এ পর্যন্ত {amount}-এর মধ্যে {paid} পরিশোধ হয়েছে।"),
    _COMPLAINT + "complied": _both("The agency paid the full {amount}.", "এজেন্সি পুরো {amount} পরিশোধ করেছে।"),
    _COMPLAINT + "not_complied": _both("The agency did not pay by {deadline}; {owed} is still owed.",
                                       "এজেন্সি {deadline}-এর মধ্যে পরিশোধ করেনি; এখনও {owed} পাওনা।"),
    _COMPLAINT + "enforcement": _enforcement,
    _COMPLAINT + "dismissed": _both("Your complaint was dismissed after the hearing.",
                                    "শুনানির পর আপনার অভিযোগ খারিজ হয়েছে।"),
    _COMPLAINT + "closed": _both("Your complaint is closed.", "আপনার অভিযোগের নিষ্পত্তি হয়ে বন্ধ হয়েছে।"),
    _COMPLAINT + "reopened": _both("Your complaint was reopened and will be heard again.",
                                   "আপনার অভিযোগ আবার চালু হয়েছে এবং আবার শুনানি হবে।"),
    _COMPLAINT + "withdrawn": _both("The complaint was withdrawn.", "অভিযোগটি প্রত্যাহার করা হয়েছে।"),
    _COMPLAINT + "claim_linked": _both("Your complaint was linked to your welfare application.",
                                       "আপনার অভিযোগ আপনার কল্যাণ আবেদনের সাথে যুক্ত করা হয়েছে।"),
    _COMPLAINT + "overdue": _both("This is taking longer than it should; the office has been alerted.",
                                  "নির্ধারিত সময়ের চেয়ে বেশি লাগছে; অফিসকে জানানো হয়েছে।"),
}


def kind_of(event_type: str) -> str | None:
    if event_type.startswith(_CLAIM):
        return CLAIM
    if event_type.startswith(_COMPLAINT):
        return COMPLAINT
    return None


def case_title(kind: str, data: dict, lang: str) -> str:
    """The case as the person knows it: the claim's type, the complaint's category and receipt."""
    if kind == CLAIM:
        return names.name("claim_types", data.get("claim_type"), lang)
    category = names.name("complaint_categories", data.get("category"), lang)
    receipt = data.get("receipt_number")
    return (f"অভিযোগ: {category} ({receipt})" if lang == "bn" else f"Complaint: {category} ({receipt})")


def migrant_of(event_type: str, data: dict, subject_id: str) -> str:
    if event_type.startswith("registration."):
        return data.get("reference") or subject_id
    if event_type.startswith("documents."):
        return data["owner"]
    return data["migrant_reference"]


def case_of(event_type: str, data: dict) -> dict | None:
    kind = kind_of(event_type)
    if kind:
        return {"kind": kind, "id": data["case_id"], "status": data.get("status"),
                "title": {lang: case_title(kind, data, lang) for lang in ("en", "bn")}}
    if event_type.startswith("documents.") and data.get("case_id"):  # a document uploaded for a case
        return {"kind": None, "id": data["case_id"], "status": None, "title": None}
    return None


def audience(event_type: str, data: dict, migrant: str, cases: tuple[str, ...] = ()) -> dict:
    """Who may see the entry (may_see): the migrant; family holding one of `case_ids`; and
    whether the case is a restricted (confidential) complaint, with the phone that filed it."""
    kind = kind_of(event_type)
    case_ids = [data["case_id"]] if data.get("case_id") else []
    case_ids += [case_id for case_id in cases if case_id not in case_ids]
    return {"migrant_reference": migrant, "case_ids": case_ids,
            "restricted": bool(kind == COMPLAINT and data.get("restricted")),
            "case_phone": data.get("claimant_phone") if kind == CLAIM else data.get("complainant_phone")}


def entry(event, cases: tuple[str, ...] = ()) -> dict | None:
    """The timeline entry for an envelope (shared.events.Envelope), or None for a SKIPPED type.
    `cases`: the cases the service knows the subject belongs to besides what the event names
    (a document's verdict names no case; its upload did), so family see that too.
    A type in neither table is a new contract nobody placed: KeyError, so a test catches it."""
    if event.type in SKIPPED:
        return None
    text = TEXTS[event.type]
    data = event.data
    migrant = migrant_of(event.type, data, event.subject.id)
    at = instant(event.occurred_at)
    return {
        "_id": event.id, "type": event.type, "occurred_at": at,
        "aggregate": {"type": event.subject.type, "id": event.subject.id, "version": event.aggregate_version},
        "migrant_reference": migrant, "case": case_of(event.type, data),
        "audience": audience(event.type, data, migrant, cases),
        "text": {lang: text(data, lang) for lang in ("en", "bn")},
        "when": {lang: format_when(at, lang) for lang in ("en", "bn")},
    }


def sort_key(entry: dict) -> tuple:
    """When it happened; within one instant, the aggregate's order; then the id (stable)."""
    return (entry["occurred_at"], entry["aggregate"]["version"], entry["_id"])


def timeline(entries) -> list[dict]:
    """Entries once each (by event id), in the order they happened."""
    unique = {e["_id"]: e for e in entries if e is not None}
    return sorted(unique.values(), key=sort_key)


def may_see(audience: dict, principal: Principal, phone: str | None = None, assignee: str | None = None) -> bool:
    """A migrant their own entries; a family member (`phone`: the one they signed in with) the
    cases their token names, a restricted complaint only if they filed it from that phone; staff
    any, a restricted complaint only an admin or its `assignee` (the complaint's latest facts)."""
    if principal.role == "migrant":
        return principal.migrant_ref == audience["migrant_reference"]
    if principal.role == "family":
        if not set(audience["case_ids"]) & set(principal.cases):
            return False
        return not audience["restricted"] or (phone is not None and phone == audience.get("case_phone"))
    if audience["restricted"]:
        return principal.role == "admin" or (principal.is_staff and assignee is not None
                                             and principal.subject == assignee)
    return principal.is_staff
