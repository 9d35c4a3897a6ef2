"""Timeline entries (services/casestatus/entries.py): every contract type placed, a journey
read in both languages, the same timeline whatever order or how often events arrive, and who
may see an entry."""
from __future__ import annotations

import random

import pytest

from services.casestatus import entries
from shared.auth import Principal
from shared.contracts import event_types

from .casestatus_builders import MIGRANT, PHONE, START, complaint, decided, journey, registered


def test_every_contract_type_has_an_entry_or_is_skipped_with_a_reason():
    unplaced = [t for t in event_types() if t not in entries.TEXTS and t not in entries.SKIPPED]
    both = sorted(set(entries.TEXTS) & set(entries.SKIPPED))
    stale = sorted((set(entries.TEXTS) | set(entries.SKIPPED)) - set(event_types()))
    assert (unplaced, both, stale) == ([], [], [])
    assert all(reason.strip() for reason in entries.SKIPPED.values())


def test_the_steps_the_issue_names_have_entries():
    for event_type in ("registration.migrant.registered", "registration.migrant.step_recorded",
                       "documents.document.uploaded", "documents.document.verified", "documents.document.rejected",
                       "claims.claim.approved", "claims.claim.payment_recorded", "claims.claim.paid",
                       "complaints.complaint.hearing_scheduled", "complaints.complaint.award_issued",
                       "complaints.complaint.payment_received"):
        assert event_type in entries.TEXTS, event_type


def test_a_skipped_type_makes_no_entry():
    from .casestatus_builders import envelope
    done = envelope("replay.completed", ("replay", "r-1"), 1,
                    {"request_id": "r-1", "source": "registration", "served": 3, "reply_to": "q"}, START)
    assert entries.entry(done) is None


def test_an_entry_says_what_happened_and_when_in_both_languages():
    entry = entries.entry(decided("DOC-MED", "medical_report", START, 2, "rejected", "The scan cannot be read"))
    assert entry["text"]["en"] == ("Your Medical report or bill was not accepted. Reason: The scan cannot be read. "
                                   "Please submit it again.")
    assert entry["text"]["bn"].startswith("আপনার চিকিৎসা প্রতিবেদন বা বিল গ্রহণ করা হয়নি।")
    # 04:00 UTC is 10:00 in Dhaka; Bangla digits and month in the Bangla text.
    assert entry["when"] == {"en": "20 November 2026, 10:00", "bn": "২০ নভেম্বর ২০২৬, ১০:০০"}
    assert entry["migrant_reference"] == MIGRANT


def test_a_case_entry_names_its_case_as_the_person_knows_it():
    entry = entries.entry(complaint("received", "received", START, 1))
    assert entry["case"]["id"] == "CMP-1"
    assert entry["case"]["title"] == {"en": "Complaint: Unpaid wages (CP-2345-678X)",
                                      "bn": "অভিযোগ: বেতন না পাওয়া (CP-2345-678X)"}
    claim_entry = entries.entry(journey()[2])
    assert claim_entry["case"]["title"]["bn"] == "আহত বা অসুস্থ প্রত্যাগত কর্মীর চিকিৎসা সহায়তা"


def test_hearing_entries_give_the_date_and_place():
    events = {e.type: e for e in journey()}
    moved = entries.entry(events["complaints.complaint.hearing_adjourned"])
    assert moved["text"]["en"] == "Hearing 1 was postponed; the next hearing is on 12 December 2026 at DEMO Cumilla."
    assert "১২ ডিসেম্বর ২০২৬" in moved["text"]["bn"] and "১ নম্বর" in moved["text"]["bn"]


def _ids(events):
    return [e["_id"] for e in entries.timeline(entries.entry(x) for x in events)]


@pytest.mark.parametrize("seed", range(5))
def test_shuffled_events_give_the_same_timeline_in_the_order_things_happened(seed):
    events = journey()
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    assert shuffled != events
    assert _ids(shuffled) == _ids(events) == [e.id for e in events]


def test_an_event_delivered_twice_is_one_entry():
    events = journey()
    assert _ids(events + events[3:7]) == _ids(events)
    assert len(_ids(events + events)) == len(events)


def test_events_at_the_same_instant_keep_the_case_order():
    first = complaint("scrutiny_started", "scrutiny", START, 2)
    second = complaint("acknowledged", "acknowledged", START, 3)
    assert _ids([second, first]) == [first.id, second.id]


def _principal(role, **kwargs):
    return Principal(subject=kwargs.pop("subject", "someone"), role=role, **kwargs)


def test_a_migrant_sees_their_own_entries_only():
    audience = entries.entry(registered())["audience"]
    assert entries.may_see(audience, _principal("migrant", migrant_ref=MIGRANT))
    assert not entries.may_see(audience, _principal("migrant", migrant_ref="PB-9999-9999"))


def test_a_family_member_sees_the_cases_their_sign_in_names_and_nothing_else():
    family = _principal("family", cases=("CMP-1",))
    assert entries.may_see(entries.entry(complaint("received", "received", START, 1))["audience"], family)
    assert not entries.may_see(entries.entry(registered())["audience"], family)
    assert not entries.may_see(entries.entry(journey()[2])["audience"], family)  # CLM-1: not theirs


def test_a_restricted_complaint_shows_only_to_those_who_may_see_it():
    audience = entries.entry(complaint("received", "received", START, 1, restricted=True))["audience"]
    assert audience["restricted"]
    assert entries.may_see(audience, _principal("migrant", migrant_ref=MIGRANT))
    assert entries.may_see(audience, _principal("admin"))
    assert not entries.may_see(audience, _principal("legal_aid"))
    family = _principal("family", cases=("CMP-1",))
    assert not entries.may_see(audience, family)                     # named, but did not file it
    assert entries.may_see(audience, family, phone=PHONE)            # filed it from this phone
    open_audience = entries.entry(complaint("received", "received", START, 1))["audience"]
    assert entries.may_see(open_audience, _principal("legal_aid"))
    # Its assignee (from the complaint's latest facts) sees it; other staff do not.
    assert entries.may_see(audience, _principal("legal_aid", subject="legal-7"), assignee="legal-7")
    assert not entries.may_see(audience, _principal("legal_aid", subject="legal-8"), assignee="legal-7")
    assert not entries.may_see(audience, _principal("migrant", migrant_ref="PB-9999-9999", subject="legal-7"),
                               assignee="legal-7")


def test_a_document_verdict_shows_to_family_of_the_case_its_upload_was_for():
    rejected = decided("DOC-MED", "medical_report", START, 2, "rejected", "The scan cannot be read")
    family = _principal("family", cases=("CLM-1",))
    assert not entries.may_see(entries.entry(rejected)["audience"], family)
    assert entries.may_see(entries.entry(rejected, cases=("CLM-1",))["audience"], family)
