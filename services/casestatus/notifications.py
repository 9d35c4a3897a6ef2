"""Which events tell whom by SMS, in what words, when, and once.

A case step that matters to a person (NOTIFY) is sent to the phone that follows it: a
claim's claimant (an heir, a guardian, or the worker), a complaint's complainant, and for a
document the migrant whose document it is; the migrant's registered phone when the case names
none. The words are in the person's language (Bangla unless they chose English). A
restricted (confidential) complaint's SMS says only that there is news, never what about:
the phone may not be only theirs. Each message's key is its (event, phone): an event
delivered twice is one SMS. Someone who opted out gets none. Nothing non-urgent leaves
between 22:00 and 08:00 in Dhaka (send_at); a hearing set or moved to today or tomorrow is
urgent: waiting for the morning could mean missing it.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta, timezone

from . import names
from .dates import DHAKA, day_of, format_date, format_taka, in_dhaka, instant
from .entries import CLAIM, COMPLAINT, kind_of

QUIET_FROM, QUIET_UNTIL = time(22, 0), time(8, 0)
HEARING_SCHEDULED = "complaints.complaint.hearing_scheduled"
HEARING_ADJOURNED = "complaints.complaint.hearing_adjourned"

# Event type -> (English, Bangla) template; {case} is the case as the person knows it.
NOTIFY: dict[str, tuple[str, str]] = {
    "documents.document.rejected": ("Probashi: your {doc} was not accepted. Reason: {reason}. Please submit it again.",
                                    "প্রবাসী: আপনার {doc} গ্রহণ করা হয়নি। কারণ: {reason}। আবার জমা দিন।"),
    "claims.claim.approved": ("Probashi: your application {case} was approved.",
                              "প্রবাসী: আপনার আবেদন {case} মঞ্জুর হয়েছে।"),
    "claims.claim.payment_recorded": ("Probashi: a payment for your application {case} was sent.",
                                      "প্রবাসী: আপনার আবেদন {case}-এর অর্থ পাঠানো হয়েছে।"),
    "claims.claim.paid": ("Probashi: the full amount for your application {case} was paid.",
                          "প্রবাসী: আপনার আবেদন {case}-এর সম্পূর্ণ অর্থ পরিশোধ হয়েছে।"),
    "claims.claim.closed": ("Probashi: your application {case} is closed.",
                            "প্রবাসী: আপনার আবেদন {case}-এর কাজ শেষ হয়েছে।"),
    HEARING_SCHEDULED: ("Probashi: hearing on your complaint {case}: {date} at {venue}.",
                        "প্রবাসী: আপনার অভিযোগ {case}-এর শুনানি {date} তারিখে, {venue}-এ।"),
    HEARING_ADJOURNED: ("Probashi: the hearing on your complaint {case} is moved to {next_date} at {venue}.",
                        "প্রবাসী: আপনার অভিযোগ {case}-এর শুনানি পিছিয়ে {next_date} তারিখে, {venue}-এ।"),
    "complaints.complaint.settled": ("Probashi: your complaint {case} is settled: {amount} to be paid by {deadline}.",
                                     "প্রবাসী: আপনার অভিযোগ {case}-এর মীমাংসা হয়েছে: {deadline}-এর মধ্যে {amount} পাবেন।"),
    "complaints.complaint.award_issued": ("Probashi: award on your complaint {case}: {amount} to be paid by {deadline}.",
                                          "প্রবাসী: আপনার অভিযোগ {case}-এর রায়: {deadline}-এর মধ্যে {amount} পাবেন।"),
    "complaints.complaint.payment_received": ("Probashi: {payment} was paid on your complaint {case}.",
                                              "প্রবাসী: আপনার অভিযোগ {case}-এ {payment} পরিশোধ হয়েছে।"),
    "complaints.complaint.closed": ("Probashi: your complaint {case} is closed.",
                                    "প্রবাসী: আপনার অভিযোগ {case} নিষ্পত্তি হয়ে বন্ধ হয়েছে।"),
}
# A claim payment's words when its event names the taka (claims publish payment_amount and
# paid_total in .payment_recorded and in .paid, which the last payment raises instead; events
# raised before that said only that a payment was sent, or that the whole was paid).
PAYMENT_SENT = ("Probashi: {payment} for your application {case} was sent.",
                "প্রবাসী: আপনার আবেদন {case}-এর {payment} পাঠানো হয়েছে।")
PAID_IN_FULL = ("Probashi: {payment} for your application {case} was sent; the full {paid} is now paid.",
                "প্রবাসী: আপনার আবেদন {case}-এর {payment} পাঠানো হয়েছে; সম্পূর্ণ {paid} পরিশোধ হয়েছে।")
# What a restricted complaint's SMS says, whatever happened.
RESTRICTED = ("Probashi: there is news for you. Please sign in or call the office.",
              "প্রবাসী: আপনার জন্য নতুন খবর আছে। অনুগ্রহ করে সাইন ইন করুন বা অফিসে ফোন করুন।")


def key(event_id: str, phone: str) -> str:
    """One per (event, recipient); the phone only as a digest, so the key names nobody."""
    return f"{event_id}:{hashlib.sha256(phone.encode('utf-8')).hexdigest()[:16]}"


def recipient_phone(event, migrant_phone: str | None) -> str | None:
    kind = kind_of(event.type)
    if kind == CLAIM:
        return event.data.get("claimant_phone") or migrant_phone
    if kind == COMPLAINT:
        return event.data.get("complainant_phone") or migrant_phone
    return migrant_phone


def urgent(event, now: datetime) -> bool:
    """A hearing set or moved to today or tomorrow (Dhaka's days)."""
    if event.type not in (HEARING_SCHEDULED, HEARING_ADJOURNED):
        return False
    on = event.data.get("next_date") if event.type == HEARING_ADJOURNED else event.data.get("date")
    return on is not None and day_of(on) <= in_dhaka(now).date() + timedelta(days=1)


def text(event, language: str) -> str:
    lang = "en" if language == "en" else "bn"
    data = event.data
    if kind_of(event.type) == COMPLAINT and data.get("restricted"):
        return RESTRICTED[lang == "bn"]
    template = NOTIFY[event.type][lang == "bn"]
    if isinstance(data.get("payment_amount"), int):
        if event.type == "claims.claim.payment_recorded":
            template = PAYMENT_SENT[lang == "bn"]
        elif event.type == "claims.claim.paid" and isinstance(data.get("paid_total"), int):
            template = PAID_IN_FULL[lang == "bn"]
    return template.format(**_fields(event, lang))


def _fields(event, lang: str) -> dict:
    data = event.data
    amount = data.get("amount")
    reason = (data.get("reason") or "").strip() or ("অফিসে জেনে নিন" if lang == "bn" else "ask the office")
    case = data.get("receipt_number") if kind_of(event.type) == COMPLAINT else data.get("case_id")
    return {"doc": names.name("document_types", data.get("doc_type"), lang), "reason": reason,
            "case": case or "",  # a reference stays in Latin: it is read out to an officer
            "date": format_date(data["date"], lang) if data.get("date") else "",
            "next_date": format_date(data["next_date"], lang) if data.get("next_date") else "",
            "venue": data.get("venue", ""),
            "deadline": format_date(data["payment_deadline"], lang) if data.get("payment_deadline") else "",
            "amount": format_taka(amount, lang) if isinstance(amount, int) else "",
            "payment": format_taka(data["payment_amount"], lang) if data.get("payment_amount") else "",
            "paid": format_taka(data["paid_total"], lang) if data.get("paid_total") else ""}


def plan(event, *, migrant_phone: str | None, preferences: dict[str, dict], now: datetime,
         case_phones: tuple[str, ...] = ()) -> list[dict]:
    """The SMS `event` should send: none, or one per phone that follows it. `case_phones`: for a
    document, the phones of the open cases it was sent for (an heir follows a deceased worker's
    documents). `preferences` by phone: {"language": "bn"|"en", "opted_out": bool}; a phone
    with none gets Bangla."""
    if event.type not in NOTIFY:
        return []
    phones = [recipient_phone(event, migrant_phone)]
    if kind_of(event.type) is None:
        phones += list(case_phones)
    is_urgent = urgent(event, now)
    planned = []
    for phone in dict.fromkeys(p for p in phones if p):
        preference = preferences.get(phone) or {}
        if preference.get("opted_out"):
            continue
        language = "en" if preference.get("language") == "en" else "bn"
        planned.append({"_id": key(event.id, phone), "event_id": event.id, "to": phone, "language": language,
                        "text": text(event, language), "urgent": is_urgent, "send_at": send_at(now, is_urgent),
                        "state": "queued"})
    return planned


def send_at(now: datetime, urgent: bool) -> datetime:
    """When an SMS may leave (UTC): now if urgent or outside quiet hours, else 08:00 in Dhaka
    the same morning (before 08:00) or the next (from 22:00)."""
    now = instant(now).astimezone(timezone.utc)
    local = now.astimezone(DHAKA)
    if urgent or QUIET_UNTIL <= local.time() < QUIET_FROM:
        return now
    morning = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(morning, QUIET_UNTIL, tzinfo=DHAKA).astimezone(timezone.utc)
