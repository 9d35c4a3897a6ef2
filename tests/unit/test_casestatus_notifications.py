"""Notifications (services/casestatus/notifications.py): who is told what, in their language,
once per event and phone, never to someone who opted out, never of a restricted complaint's
matter, and not in Dhaka's quiet hours unless urgent."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.casestatus import notifications
from services.casestatus.dates import DHAKA

from .casestatus_builders import HEIR_PHONE, PHONE, START, award, claim, complaint, decided, hearing, journey

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)  # 12:00 in Dhaka


def plan(event, preferences=None, now=NOW, migrant_phone=PHONE):
    return notifications.plan(event, migrant_phone=migrant_phone, preferences=preferences or {}, now=now)


def dhaka(y, m, d, hh, mm):
    return datetime(y, m, d, hh, mm, tzinfo=DHAKA)


# -- quiet hours ---------------------------------------------------------------------------

@pytest.mark.parametrize("local, held_until", [
    (dhaka(2026, 11, 28, 21, 59), None),                          # still the day: now
    (dhaka(2026, 11, 28, 22, 0), dhaka(2026, 11, 29, 8, 0)),      # quiet from 22:00: next morning
    (dhaka(2026, 11, 28, 23, 59), dhaka(2026, 11, 29, 8, 0)),
    (dhaka(2026, 11, 29, 0, 0), dhaka(2026, 11, 29, 8, 0)),       # past midnight: this morning
    (dhaka(2026, 11, 29, 5, 30), dhaka(2026, 11, 29, 8, 0)),      # 23:30 UTC the day before
    (dhaka(2026, 11, 29, 7, 59), dhaka(2026, 11, 29, 8, 0)),
    (dhaka(2026, 11, 29, 8, 0), None),                            # from 08:00: now
    (dhaka(2026, 12, 31, 23, 0), dhaka(2027, 1, 1, 8, 0)),        # across the year's end
])
def test_send_at_holds_what_is_not_urgent_until_eight_in_dhaka(local, held_until):
    now = local.astimezone(timezone.utc)
    expected = now if held_until is None else held_until.astimezone(timezone.utc)
    assert notifications.send_at(now, urgent=False) == expected
    assert notifications.send_at(now, urgent=True) == now
    assert notifications.send_at(now, urgent=False).tzinfo is not None


def test_the_dhaka_morning_is_the_previous_utc_day():
    at = notifications.send_at(datetime(2026, 11, 28, 16, 0, tzinfo=timezone.utc), urgent=False)  # 22:00 Dhaka
    assert at == datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)
    at = notifications.send_at(datetime(2026, 11, 28, 18, 30, tzinfo=timezone.utc), urgent=False)  # 00:30 on the 29th
    assert at == datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


def test_a_hearing_set_for_tomorrow_is_urgent_and_leaves_at_night():
    night = dhaka(2026, 11, 28, 23, 0).astimezone(timezone.utc)
    soon = hearing("scheduled", night, 5, on="2026-11-29")
    later = hearing("scheduled", night, 5, on="2026-12-10")
    assert plan(soon, now=night)[0]["urgent"] and plan(soon, now=night)[0]["send_at"] == night
    assert not plan(later, now=night)[0]["urgent"]
    assert plan(later, now=night)[0]["send_at"] == dhaka(2026, 11, 29, 8, 0).astimezone(timezone.utc)


# -- who, what, once ---------------------------------------------------------------------

def test_the_steps_that_matter_notify_and_others_do_not():
    told = {e.type for e in journey() if plan(e)}
    assert told == {"documents.document.rejected", "complaints.complaint.hearing_scheduled",
                    "complaints.complaint.hearing_adjourned", "claims.claim.approved"}
    later = START + timedelta(days=30)
    for event in (claim("payment_recorded", "payment_ordered", later, 5), claim("paid", "paid", later, 6),
                  claim("closed", "closed", later, 7), award("award_issued", "award_issued", later, 8),
                  complaint("closed", "closed", later, 12)):
        assert len(plan(event)) == 1, event.type


def test_a_rejected_document_tells_the_migrant_why_in_their_language():
    rejected = decided("DOC-MED", "medical_report", START, 2, "rejected", "The scan cannot be read")
    [bn] = plan(rejected)
    assert bn["to"] == PHONE and bn["language"] == "bn"
    assert bn["text"] == "প্রবাসী: আপনার চিকিৎসা প্রতিবেদন বা বিল গ্রহণ করা হয়নি। কারণ: The scan cannot be read। আবার জমা দিন।"
    [en] = plan(rejected, {PHONE: {"language": "en"}})
    assert en["text"] == ("Probashi: your Medical report or bill was not accepted. Reason: The scan cannot be read. "
                          "Please submit it again.")


def test_a_claim_tells_its_claimant_and_a_complaint_its_complainant():
    heirs_claim = claim("approved", "approved", START, 3, claim_type="death_grant", phone=HEIR_PHONE)
    assert plan(heirs_claim)[0]["to"] == HEIR_PHONE
    no_phone = claim("approved", "approved", START, 3, phone=None)
    assert plan(no_phone)[0]["to"] == PHONE  # the migrant's registered phone
    assert plan(no_phone, migrant_phone=None) == []


def test_a_moved_hearing_gives_the_new_date_and_place():
    moved = hearing("adjourned", START, 6, next_date="2026-12-12")
    assert plan(moved)[0]["text"] == "প্রবাসী: আপনার অভিযোগ CP-2345-678X-এর শুনানি পিছিয়ে ১২ ডিসেম্বর ২০২৬ তারিখে, DEMO Cumilla-এ।"
    assert plan(moved, {PHONE: {"language": "en"}})[0]["text"] == (
        "Probashi: the hearing on your complaint CP-2345-678X is moved to 12 December 2026 at DEMO Cumilla.")


def test_an_award_gives_the_amount_and_deadline():
    text = plan(award("award_issued", "award_issued", START, 8), {PHONE: {"language": "en"}})[0]["text"]
    assert text == "Probashi: award on your complaint CP-2345-678X: Tk 1,00,000 to be paid by 31 January 2027."


def test_a_claim_payment_names_the_taka_paid_when_the_event_carries_it():
    paid = claim("payment_recorded", "payment_ordered", START, 5, approved_amount=150000, payment_amount=75000,
                 paid_total=75000)
    assert plan(paid)[0]["text"] == "প্রবাসী: আপনার আবেদন CLM-1-এর ৭৫,০০০ টাকা পাঠানো হয়েছে।"
    assert plan(paid, {PHONE: {"language": "en"}})[0]["text"] == "Probashi: Tk 75,000 for your application CLM-1 was sent."
    older = claim("payment_recorded", "payment_ordered", START, 5)  # raised before claims published the amount
    assert plan(older, {PHONE: {"language": "en"}})[0]["text"] == "Probashi: a payment for your application CLM-1 was sent."


def test_the_last_payment_names_its_taka_and_the_whole_paid():
    last = claim("paid", "paid", START, 6, approved_amount=150000, payment_amount=75000, paid_total=150000)
    assert plan(last, {PHONE: {"language": "en"}})[0]["text"] == (
        "Probashi: Tk 75,000 for your application CLM-1 was sent; the full Tk 1,50,000 is now paid.")
    assert plan(last)[0]["text"] == "প্রবাসী: আপনার আবেদন CLM-1-এর ৭৫,০০০ টাকা পাঠানো হয়েছে; সম্পূর্ণ ১,৫০,০০০ টাকা পরিশোধ হয়েছে।"
    older = claim("paid", "paid", START, 6)
    assert plan(older, {PHONE: {"language": "en"}})[0]["text"] == \
        "Probashi: the full amount for your application CLM-1 was paid."


def test_an_event_delivered_twice_has_one_key_per_recipient():
    approved = claim("approved", "approved", START, 3)
    first, again = plan(approved), plan(approved, now=NOW + timedelta(minutes=5))
    assert [n["_id"] for n in first] == [n["_id"] for n in again]
    assert first[0]["_id"] == notifications.key(approved.id, PHONE)
    assert notifications.key(approved.id, HEIR_PHONE) != first[0]["_id"]
    assert PHONE not in first[0]["_id"]
    other = claim("paid", "paid", START, 6)
    assert plan(other)[0]["_id"] != first[0]["_id"]


def test_opting_out_stops_them():
    assert plan(claim("approved", "approved", START, 3), {PHONE: {"opted_out": True, "language": "en"}}) == []


def test_a_restricted_complaints_sms_says_nothing_of_the_matter():
    secret = award("award_issued", "award_issued", START, 8, restricted=True)
    for language in ("bn", "en"):
        [sms] = plan(secret, {PHONE: {"language": language}})
        text = sms["text"]
        assert text == notifications.RESTRICTED[language == "bn"]
        for revealing in ("CP-2345-678X", "complaint", "অভিযোগ", "award", "1,00,000", "১,০০,০০০", "hearing"):
            assert revealing not in text
    moved = hearing("adjourned", START, 6, next_date="2026-12-12", restricted=True)
    assert "DEMO" not in plan(moved)[0]["text"]


def test_a_rejected_document_also_tells_the_phones_of_its_cases_each_once():
    rejected = decided("DOC-MED", "medical_report", START, 2, "rejected", "Unreadable")
    sent = notifications.plan(rejected, migrant_phone=PHONE, preferences={HEIR_PHONE: {"language": "en"}}, now=NOW,
                              case_phones=(HEIR_PHONE, PHONE, HEIR_PHONE))
    assert [(n["to"], n["language"]) for n in sent] == [(PHONE, "bn"), (HEIR_PHONE, "en")]
    assert len({n["_id"] for n in sent}) == 2


def test_a_journey_delivered_twice_plans_each_notification_key_once():
    events = journey()
    keys = [n["_id"] for e in events + events[::-1] for n in plan(e)]
    assert len(keys) == 2 * len(set(keys)) == 2 * 4
