"""What happens next (services/casestatus/next_steps.py): the facts folded from a case's
events, the same whatever order or how often they arrive, and the sentences made from them."""
from __future__ import annotations

import copy
import random
from datetime import timedelta

import pytest

from services.casestatus import next_steps

from .casestatus_builders import (HEIR_PHONE, START, award, claim, complaint, decided, hearing, journey, stored)


def steps(events):
    return next_steps.all_next_steps(next_steps.fold_all(events))


@pytest.mark.parametrize("seed", range(5))
def test_shuffled_events_give_the_same_next_steps(seed):
    events = journey()
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    assert next_steps.fold_all(shuffled) == next_steps.fold_all(events)
    assert steps(shuffled) == steps(events)


def test_an_event_folded_twice_changes_nothing():
    events = journey()
    once = next_steps.fold_all(events)
    kept = copy.deepcopy(once)
    assert next_steps.fold_all(events + events) == once
    assert next_steps.fold_all(events[5:9], once) == once
    assert once == kept  # folding returns new facts; the stored ones are not changed


def test_a_late_older_event_does_not_undo_a_newer_one():
    approved = claim("approved", "approved", START + timedelta(hours=2), 3)
    late = claim("ready_for_review", "under_review", START + timedelta(hours=1), 2)
    facts = next_steps.fold_all([approved, late])
    assert facts["cases"]["CLM-1"]["latest"]["status"] == "approved"


def test_a_claim_waiting_for_documents_names_the_missing_and_the_rejected_ones():
    result = steps(journey()[:8])["CLM-1"]
    assert result["status"] == "documents_pending"
    assert [(i["doc_types"], i["state"]) for i in result["missing_documents"]] == [
        (["medical_report"], "rejected"), (["emigration_clearance"], "missing")]
    assert result["text"]["en"][:2] == ["Send these documents: Emigration clearance (smart card).",
                                        "Submit again: Medical report or bill (The scan cannot be read)."]
    assert result["text"]["bn"][0] == "এই কাগজগুলো জমা দিন: বহির্গমন ছাড়পত্র (স্মার্ট কার্ড)।"
    assert result["text"]["en"][-1].startswith("Contact: Wage Earners' Welfare Board")


def test_a_new_copy_of_a_rejected_document_clears_it_and_a_deleted_one_is_missing_again():
    events = journey()[:8] + [stored("DOC-MED", "medical_report", START + timedelta(days=1), 3,
                                     action="version_added")]
    assert [i["state"] for i in steps(events)["CLM-1"]["missing_documents"]] == ["missing"]
    from .casestatus_builders import STAFF, envelope
    deleted = envelope("documents.document.deleted", ("document", "DOC-PASS"), 3, {
        "document_id": "DOC-PASS", "owner": "PB-2345-6789", "doc_type": "passport_copy", "versions": [1],
        "reason": "Uploaded to the wrong person", "by": STAFF}, START + timedelta(days=2))
    missing = steps(events + [deleted])["CLM-1"]["missing_documents"]
    assert [i["doc_types"] for i in missing] == [["passport_copy"], ["emigration_clearance"]]


def test_the_next_hearing_is_the_date_it_was_moved_to():
    result = steps(journey())["CMP-1"]
    assert result["next_hearing"] == {"date": "2026-12-12", "venue": "DEMO Cumilla"}
    assert result["text"]["en"][0] == "Come to the hearing on 12 December 2026 at DEMO Cumilla. Bring your papers."
    assert result["text"]["bn"][0].startswith("শুনানিতে আসুন: ১২ ডিসেম্বর ২০২৬")


def held_second():
    """The hearing the first was adjourned to, held."""
    return hearing("held", START + timedelta(days=22), 7, no=2, on="2026-12-12", respondent_attended=True)


def test_no_hearing_to_come_once_it_was_held():
    result = steps(journey() + [held_second()])["CMP-1"]
    assert result["next_hearing"] is None
    assert result["text"]["en"][0] == "The committee will decide after the hearing."


def test_an_award_gives_the_amount_and_what_is_still_owed():
    later = START + timedelta(days=30)
    events = journey() + [held_second(), award("award_issued", "award_issued", later, 8),
                          award("compliance_monitoring", "compliance_monitoring", later, 9),
                          award("payment_received", "compliance_monitoring", later, 10, paid_total=40000,
                                payment_amount=40000)]
    result = steps(events)["CMP-1"]
    assert result["amount"] == 100000
    assert result["text"]["en"][0] == "The agency is to pay you Tk 60,000 by 31 January 2027."
    assert result["text"]["bn"][0] == "এজেন্সি ৩১ জানুয়ারি ২০২৭-এর মধ্যে আপনাকে ৬০,০০০ টাকা দেবে।"


def test_a_referred_complaint_names_the_body_that_holds_it_as_the_office():
    later = START + timedelta(days=30)
    referred = complaint("referred", "referred", later, 8, referral_no=1, body="mission_labour_wing",
                         referral_state="pending", due_at="2027-01-10T06:00:00Z")
    result = steps(journey() + [held_second(), referred])["CMP-1"]
    assert result["office"]["en"] == "Mission labour wing"
    assert result["text"]["en"][0] == "Your complaint is with Mission labour wing, which is to act by 10 January 2027."


def test_an_ended_case_has_no_next_steps():
    closed = claim("closed", "closed", START + timedelta(days=40), 9)
    assert "CLM-1" not in steps(journey() + [closed])
    assert "CMP-1" in steps(journey() + [closed])


def test_each_case_is_folded_apart():
    other = claim("submitted", "documents_pending", START, 1, claim_id="CLM-2", claim_type="death_grant",
                  phone=HEIR_PHONE)
    result = steps(journey() + [other])
    assert result["CLM-1"]["status"] == "approved"
    assert [i["doc_types"] for i in result["CLM-2"]["missing_documents"]] == [["death_certificate"],
                                                                              ["heirship_certificate"]]


def test_a_document_decision_folds_the_same_before_or_after_its_upload():
    up = stored("DOC-X", "visa", START, 1)
    ok = decided("DOC-X", "visa", START + timedelta(hours=1), 2)
    assert next_steps.fold_all([ok, up]) == next_steps.fold_all([up, ok])
    assert next_steps.fold_all([up, ok])["documents"]["DOC-X"]["status"] == "verified"


def test_a_decided_complaint_has_no_hearing_to_come_even_if_the_last_hearing_event_says_scheduled():
    decided_award = award("award_issued", "award_issued", START + timedelta(days=30), 8)
    assert steps(journey() + [decided_award])["CMP-1"]["next_hearing"] is None


def test_an_approved_claim_names_the_amount_to_be_sent_in_bangla_digits_grouped_by_lakh():
    result = steps(journey())["CLM-1"]
    assert (result["status"], result["amount"]) == ("approved", 150000)
    assert result["text"]["en"][0] == "Tk 1,50,000 will be sent to you."
    assert result["text"]["bn"][0] == "১,৫০,০০০ টাকা পাঠানো হবে।"
    grant = claim("approved", "approved", START, 3, claim_id="CLM-2", claim_type="death_grant",
                  approved_amount=300000)
    assert steps([grant])["CLM-2"]["text"]["bn"][0] == "৩,০০,০০০ টাকা পাঠানো হবে।"


def test_a_claims_payments_keep_the_approved_amount_not_an_award():
    later = START + timedelta(days=30)
    events = journey() + [claim("payment_ordered", "payment_ordered", later, 4, approved_amount=150000),
                          claim("payment_recorded", "payment_ordered", later, 5, approved_amount=150000,
                                payment_amount=50000, paid_total=50000)]
    facts = next_steps.fold_all(events)
    assert "award" not in facts["cases"]["CLM-1"]
    result = next_steps.all_next_steps(facts)["CLM-1"]
    assert result["amount"] == 150000 and result["text"]["en"][0] == "Tk 1,50,000 will be sent to you."


def test_a_claim_event_raised_before_claims_published_the_amount_says_the_approved_amount():
    from .casestatus_builders import MIGRANT, PHONE, envelope
    old = envelope("claims.claim.approved", ("claim", "CLM-1"), 3, {
        "case_id": "CLM-1", "status": "approved", "document_ids": [], "claim_type": "medical_aid",
        "migrant_reference": MIGRANT, "claimant_phone": PHONE}, START)
    result = steps([old])["CLM-1"]
    assert result["amount"] is None
    assert result["text"]["en"][0] == "The approved amount will be sent to you."


def test_a_complaints_latest_facts_hold_its_assignee_whatever_order_events_arrive_in():
    later = START + timedelta(days=1)
    assigned = complaint("assigned", "hearing", later, 7, assignee="legal_aid-7")
    held = hearing("held", later + timedelta(days=1), 8, no=2, on="2026-12-12", respondent_attended=True,
                   assignee="legal_aid-7")
    events = journey() + [assigned, held]
    for order in (events, list(reversed(events))):
        latest = next_steps.fold_all(order)["cases"]["CMP-1"]["latest"]
        assert (latest["assignee"], latest["type"]) == ("legal_aid-7", "complaints.complaint.hearing_held")
    assert next_steps.fold_all(journey())["cases"]["CMP-1"]["latest"]["assignee"] is None  # no one yet
    assert next_steps.fold_all(journey())["cases"]["CLM-1"]["latest"]["assignee"] is None  # claims name none
