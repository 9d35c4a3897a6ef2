"""What a family member's token shows of a complaint (services/complaints/views.py): status,
hearings' dates and venues, referrals' bodies and states, the decision and what was paid;
no staff notes or minutes, no officers' ids, no narrative of a confidential complaint."""
from __future__ import annotations

import json
from datetime import timedelta

from services.complaints import awards, domain, referrals, views
from services.complaints.service import view, view_for
from shared.auth import Principal
from shared.redaction import family_history_line

from tests.unit.complaints_builders import LISTS, NOW, STAFF, day, monitored, received

SISTER = "+8801911000002"
BODY = next(iter(LISTS.referral_bodies))
FAMILY = Principal(f"family:{SISTER}", "family", cases=("CMP-1",))
BY_SISTER = {"migrant_reference": "PB-2345-6789", "name": "Amena Begum", "phone": "01911000002",
             "relation": "family"}


def paid_award() -> dict:
    """Filed by the worker's sister: heard, referred, awarded, assigned, partly paid."""
    complaint = monitored()
    complaint = {**complaint, "complainant": received(complainant=BY_SISTER)["complainant"]}
    complaint = domain.assign(complaint, staff="legal-9", actor=STAFF, now=NOW)
    complaint = awards.record_payment(complaint, amount=40000, paid_on=day(9), reference="BANK-77", actor=STAFF,
                                      now=NOW + timedelta(days=9), today=day(9))
    return complaint


def test_the_family_member_sees_status_hearings_the_award_and_payments():
    complaint = paid_award()
    shown = views.family_view(view(complaint), FAMILY)
    assert shown["status"] == complaint["status"] and shown["receipt_number"] == "CP-2345-678X"
    assert shown["complainant"] == {"migrant_reference": "PB-2345-6789", "name": "Amena Begum", "phone": SISTER,
                                    "relation": "family"}
    hearing = shown["hearings"][0]
    assert hearing["date"] == day(7).isoformat() and hearing["venue"] == "BMET Dhaka" and hearing["state"] == "held"
    assert shown["outcome"]["amount"] == 100000 and shown["outcome"]["payment_deadline"] == day(60).isoformat()
    assert shown["payments"][0]["amount"] == 40000 and shown["paid_total"] == 40000
    assert shown["narrative"].startswith("Eight months")
    assert shown["version"] == complaint["version"]


def test_no_staff_ids_notes_minutes_or_committee_names():
    complaint = paid_award()
    complaint = {**complaint, "closure": {"by": "legal-1", "at": NOW, "note": "Settled over the phone"}}
    shown = views.family_view(view(complaint), FAMILY)
    text = json.dumps(shown, default=str)
    for internal in ("legal-1", "legal-9", "Both heard.", "Deputy Director", "Settled over the phone"):
        assert internal not in text, internal
    for field in ("assignee", "assigned_by", "due_order", "alarm_at"):
        assert field not in shown, field
    assert shown["filed_by"] == {"role": "legal_aid", "at": "2026-11-28T09:00:00Z"}
    assert shown["acknowledgement"] == {"at": "2026-11-28T09:00:00Z"}


def test_referrals_show_their_body_and_states_not_the_notes_to_them():
    complaint = referrals.refer(paid_award() | {"status": domain.HEARING}, body=BODY,
                                note="Call the agency owner first", target_days=30, lists=LISTS, actor=STAFF,
                                now=NOW)
    complaint = referrals.update(complaint, referral_no=1, to=referrals.DECLINED, note="Out of our remit",
                                 actor=STAFF, now=NOW)
    shown = views.family_view(view(complaint), FAMILY)
    referral = shown["referrals"][0]
    assert referral["body"] == BODY and referral["state"] == referrals.DECLINED
    assert [h["state"] for h in referral["history"]] == [referrals.PENDING, referrals.DECLINED]
    text = json.dumps(shown, default=str)
    assert "Call the agency owner" not in text and "Out of our remit" not in text and "legal-1" not in text


def test_a_restricted_complaints_narrative_is_not_shown():
    shown = views.family_view(view({**paid_award(), "restricted": True}), FAMILY)
    assert "narrative" not in shown and "Eight months" not in json.dumps(shown, default=str)


def test_the_complainant_in_full_only_to_the_phone_that_signed_in():
    stranger = Principal("family:+8801711000009", "family", cases=("CMP-1",))
    shown = views.family_view(view(paid_award()), stranger)
    assert shown["complainant"] == {"migrant_reference": "PB-2345-6789", "name": "Amena Begum", "relation": "family"}


def test_history_lines_keep_what_happened_and_drop_anything_else():
    entry = {"_id": "e1", "event_id": "e1", "complaint_id": "CMP-1", "type": domain.CLOSED_EVENT,
             "status": "closed", "occurred_at": NOW, "summary": "Closed", "summary_bn": "নিষ্পত্তি",
             "actor": {"user": "legal-1"}}
    assert "actor" not in family_history_line(entry) and "complaint_id" not in family_history_line(entry)
    assert family_history_line(entry)["summary"] == "Closed"


def test_staff_and_the_migrant_see_the_whole_complaint():
    complaint = paid_award()
    for principal in (Principal("legal-1", "legal_aid"), Principal("m-1", "migrant", migrant_ref="PB-2345-6789")):
        assert view_for(principal, complaint) == view(complaint)
    assert "legal-9" in json.dumps(view_for(Principal("admin-1", "admin"), complaint), default=str)
