"""Referrals (services/complaints/referrals.py): bodies from the list, their own states, due
dates and clock; a referred complaint closes or is heard again only when the bodies are done."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.complaints import domain, hearings, referrals
from shared.errors import Conflict, Invalid

from .complaints_builders import LISTS, NOW, PARTIES, STAFF, TODAY, at_notice, day, heard


def referred(c=None, body="mission_labour_wing", **kwargs):
    return referrals.refer(c or heard(), body=body, note="Recover wages from the employer", target_days=30,
                           lists=LISTS, actor=STAFF, now=NOW, **kwargs)


def test_a_referral_starts_pending_with_its_own_due_date_and_moves_the_complaint():
    c = referred()
    referral = c["referrals"][0]
    assert c["status"] == domain.REFERRED
    assert (referral["referral_no"], referral["state"], referral["due_at"]) == (1, "pending", NOW + timedelta(30))
    data = referrals.event_data(c, 1)
    assert (data["body"], data["referral_state"], data["case_id"]) == ("mission_labour_wing", "pending", "CMP-1")


def test_referral_is_refused_before_a_hearing_to_an_unknown_body_or_without_a_note():
    with pytest.raises(domain.IllegalStep):
        referred(at_notice())
    with pytest.raises(Invalid):
        referred(body="un")
    with pytest.raises(Invalid):
        referrals.refer(heard(), body="ngo", note=" ", target_days=30, lists=LISTS, actor=STAFF, now=NOW)


def test_a_second_body_is_added_alongside_but_not_the_same_body_twice():
    c = referred(referred(), body="police_expatriate_help_cell")
    assert [r["body"] for r in c["referrals"]] == ["mission_labour_wing", "police_expatriate_help_cell"]
    with pytest.raises(Conflict, match="already with mission labour wing"):
        referred(c)


def step(c, to, no=1, note=None):
    return referrals.update(c, referral_no=no, to=to, note=note, actor=STAFF, now=NOW + timedelta(days=2))


def test_each_referral_has_its_own_states_with_history():
    c = step(step(referred(), referrals.ACCEPTED), referrals.COMPLETED, note="Wages recovered")
    referral = c["referrals"][0]
    assert referral["state"] == referrals.COMPLETED
    assert [h["state"] for h in referral["history"]] == ["pending", "accepted", "completed"]
    assert c["status"] == domain.REFERRED


def test_illegal_referral_steps_name_the_allowed_ones_and_a_decline_needs_a_reason():
    with pytest.raises(domain.IllegalStep) as caught:
        step(referred(), referrals.COMPLETED)
    assert caught.value.extra == {"referral_state": "pending", "allowed": ["accepted", "declined"]}
    with pytest.raises(Invalid):
        step(referred(), referrals.DECLINED)
    with pytest.raises(Invalid):
        step(referred(), referrals.ACCEPTED, no=5)


def test_the_delay_is_on_the_body_past_its_due_date_until_it_finishes():
    c = referred()
    referral = c["referrals"][0]
    assert not referrals.overdue(referral, NOW + timedelta(days=30))
    assert referrals.overdue(referral, NOW + timedelta(days=30, seconds=1))
    done = step(step(c, referrals.ACCEPTED), referrals.COMPLETED)["referrals"][0]
    assert not referrals.overdue(done, NOW + timedelta(days=90))


def test_a_referred_complaint_closes_or_is_heard_again_only_once_no_body_holds_it():
    c = referred()
    with pytest.raises(Conflict, match="closes once each referral"):
        domain.close(c, note=None, actor=STAFF, now=NOW)
    with pytest.raises(Conflict, match="heard again once"):
        hearings.schedule(c, on=day(40), venue="BMET", parties=PARTIES, actor=STAFF, now=NOW, today=TODAY)
    declined = step(c, referrals.DECLINED, note="Outside our jurisdiction")
    again = hearings.schedule(declined, on=day(40), venue="BMET", parties=PARTIES, actor=STAFF, now=NOW, today=TODAY)
    assert again["status"] == domain.HEARING and len(again["hearings"]) == 2
    assert domain.close(declined, note=None, actor=STAFF, now=NOW)["status"] == domain.CLOSED


def test_referring_a_complaint_not_yet_heard_is_an_illegal_step_even_with_a_bad_body():
    with pytest.raises(domain.IllegalStep):
        referred(at_notice(), body="un")
