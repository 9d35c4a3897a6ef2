"""The complaint lifecycle (services/complaints/domain.py): every allowed step, every refusal
naming the allowed ones, withdrawal, closing and reopening, evidence and the events' data."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.complaints import domain
from shared.errors import Conflict, Forbidden, Invalid

from .complaints_builders import LISTS, MIGRANT, NOW, STAFF, at_notice, day, heard, received


def test_the_steps_before_a_hearing_go_in_order_and_each_moves_the_version_and_stage():
    c = received()
    c = domain.start_scrutiny(c, actor=STAFF, now=NOW + timedelta(hours=1))
    assert (c["status"], c["version"], c["stage_since"]) == (domain.SCRUTINY, 2, NOW + timedelta(hours=1))
    c = domain.acknowledge(c, committee=["DD"], actor=STAFF, now=NOW)
    assert c["status"] == domain.ACKNOWLEDGED and c["acknowledgement"]["committee"] == ["DD"]
    assert domain.send_notice(c, actor=STAFF, now=NOW)["status"] == domain.NOTICE_TO_RESPONDENT


def test_an_illegal_step_is_a_conflict_naming_the_allowed_steps():
    with pytest.raises(domain.IllegalStep) as caught:
        domain.send_notice(received(), actor=STAFF, now=NOW)
    assert caught.value.status == 409
    assert caught.value.extra == {"complaint_status": "received", "allowed": ["scrutiny", "withdrawn"]}
    assert "it can become: scrutiny, withdrawn" in caught.value.detail


def test_every_status_has_its_steps_and_only_withdrawn_is_final():
    assert set(domain.ALLOWED) == set(domain.STATUSES)
    assert all(to in domain.STATUSES for steps in domain.ALLOWED.values() for to in steps)
    assert [s for s, steps in domain.ALLOWED.items() if not steps] == [domain.WITHDRAWN]


def test_acknowledgement_names_the_committee():
    c = domain.start_scrutiny(received(), actor=STAFF, now=NOW)
    with pytest.raises(Invalid):
        domain.acknowledge(c, committee=[], actor=STAFF, now=NOW)
    with pytest.raises(Invalid):
        domain.acknowledge(c, committee=[" "], actor=STAFF, now=NOW)


def test_the_complainant_withdraws_with_a_reason_while_nothing_is_decided():
    c = domain.withdraw(received(actor=MIGRANT), reason="Paid by the agency", actor=MIGRANT, now=NOW)
    assert c["status"] == domain.WITHDRAWN and c["withdrawal"]["reason"] == "Paid by the agency"
    with pytest.raises(Invalid):
        domain.withdraw(received(), reason=" ", actor=STAFF, now=NOW)
    with pytest.raises(Forbidden):
        domain.withdraw(received(), reason="x", actor={**MIGRANT, "migrant_ref": "PB-9999-9999"}, now=NOW)
    with pytest.raises(domain.IllegalStep):
        domain.withdraw(c, reason="again", actor=MIGRANT, now=NOW)


def test_a_dismissal_follows_a_held_hearing_with_a_reason_and_then_closes():
    with pytest.raises(domain.IllegalStep):
        domain.dismiss(at_notice(), reason="no case", actor=STAFF, now=NOW)
    with pytest.raises(Invalid):
        domain.dismiss(heard(), reason="", actor=STAFF, now=NOW)
    c = domain.dismiss(heard(), reason="No evidence of payment", actor=STAFF, now=NOW)
    assert c["outcome"]["kind"] == domain.DISMISSED
    assert domain.close(c, note=None, actor=STAFF, now=NOW)["status"] == domain.CLOSED


def closed():
    c = domain.dismiss(heard(), reason="No evidence", actor=STAFF, now=NOW)
    return domain.close(c, note="done", actor=STAFF, now=NOW)


def test_a_closed_complaint_reopens_within_the_configured_days_with_a_reason_and_is_heard_again():
    c = domain.reopen(closed(), reason="Payment slip found", window_days=30, actor=STAFF, now=NOW + timedelta(days=30))
    assert c["status"] == domain.REOPENED and c["closure"] is None
    assert c["reopenings"][0]["reason"] == "Payment slip found" and c["reopenings"][0]["closed_at"] == NOW
    assert domain.ALLOWED[domain.REOPENED] == {domain.HEARING, domain.WITHDRAWN}


def test_reopening_after_the_window_or_without_a_reason_or_while_open_is_refused():
    with pytest.raises(Conflict, match="within 30 days"):
        domain.reopen(closed(), reason="late", window_days=30, actor=STAFF, now=NOW + timedelta(days=30, seconds=1))
    with pytest.raises(Invalid):
        domain.reopen(closed(), reason=" ", window_days=30, actor=STAFF, now=NOW)
    with pytest.raises(domain.IllegalStep):
        domain.reopen(heard(), reason="x", window_days=30, actor=STAFF, now=NOW)


def test_assignment_to_staff_on_an_open_complaint_only():
    c = domain.assign(received(), staff="legal-2", actor=STAFF, now=NOW)
    assert c["assignee"] == "legal-2" and c["version"] == 2 and c["status"] == domain.RECEIVED
    with pytest.raises(Invalid):
        domain.assign(received(), staff="", actor=STAFF, now=NOW)
    with pytest.raises(domain.IllegalStep):
        domain.assign(closed(), staff="legal-2", actor=STAFF, now=NOW)


def doc(doc_id, owner="PB-2345-6789"):
    return {"_id": doc_id, "owner": owner, "doc_type": "employment_contract"}


def test_evidence_is_the_complainants_own_documents_once_each_and_travels_in_every_event():
    c = domain.attach_evidence(received(), doc("D1"), actor=STAFF, now=NOW)
    assert domain.attach_evidence(c, doc("D1"), actor=STAFF, now=NOW) is c
    c = domain.attach_evidence(c, doc("D2"), actor=STAFF, now=NOW)
    data = domain.event_data(c)
    assert data["document_ids"] == ["D1", "D2"]
    assert {k: data[k] for k in ("case_id", "status", "receipt_number", "complainant_phone")} == {
        "case_id": "CMP-1", "status": "received", "receipt_number": "CP-2345-678X",
        "complainant_phone": "+8801712345678"}
    assert data["agency_licences"] == ["RL-1234"] and data["category"] == "unpaid_wages"


def emitted(event_type: str, data: dict) -> dict:
    from shared.uow import Tx
    return Tx(None, None, "complaints").emit(event_type, subject_type=domain.SUBJECT, subject_id="CMP-1",
                                             aggregate_version=1, data=data).data


def test_every_event_carries_the_assignee_null_until_staff_is_assigned_within_its_contract():
    from services.complaints import awards, hearings, referrals, replay
    assert emitted(domain.RECEIVED_EVENT, domain.event_data(received(restricted=True)))["assignee"] is None
    c = domain.assign(received(restricted=True), staff="legal-2", actor=STAFF, now=NOW)
    assert emitted(domain.ASSIGNED_EVENT, domain.event_data(c))["assignee"] == "legal-2"
    c = domain.assign(heard(), staff="legal-2", actor=STAFF, now=NOW)
    assert emitted(domain.HEARING_HELD_EVENT, hearings.event_data(c, 1))["assignee"] == "legal-2"
    referred = referrals.refer(c, body="mission_labour_wing", note="Recover wages", target_days=30,
                               lists=LISTS, actor=STAFF, now=NOW)
    assert emitted(domain.REFERRED_EVENT, referrals.event_data(referred, 1))["assignee"] == "legal-2"
    decided = awards.decide(c, kind=domain.AWARD_ISSUED, amount=100000, payment_deadline=day(60), instalments=None,
                            terms=None, actor=STAFF, now=NOW, today=day(8))
    assert emitted(domain.AWARD_ISSUED_EVENT, awards.event_data(decided))["assignee"] == "legal-2"
    snapshot = emitted(replay.SNAPSHOT, replay.snapshot_data(decided))
    assert (snapshot["assignee"], snapshot["restricted"]) == ("legal-2", False)
    assert "assignee" in replay.STORED_FIELDS  # the replay reads what the snapshot says


def test_evidence_of_another_migrant_or_unknown_or_on_a_closed_complaint_is_refused():
    with pytest.raises(Invalid, match="see errors"):
        domain.attach_evidence(received(), doc("D9", owner="PB-9999-9999"), actor=STAFF, now=NOW)
    with pytest.raises(Invalid):
        domain.attach_evidence(received(), None, actor=STAFF, now=NOW)
    with pytest.raises(domain.IllegalStep):
        domain.attach_evidence(closed(), doc("D1"), actor=STAFF, now=NOW)


def test_event_names_are_the_complaints_namespace_and_unique():
    assert len(set(domain.EVENT_TYPES)) == len(domain.EVENT_TYPES)
    assert all(t.startswith("complaints.complaint.") for t in domain.EVENT_TYPES)
    for name in ("received", "acknowledged", "assigned", "hearing_scheduled", "hearing_held", "referred",
                 "referral_updated", "settled", "award_issued", "payment_received", "closed", "reopened",
                 "withdrawn", "overdue"):
        assert f"complaints.complaint.{name}" in domain.EVENT_TYPES


def test_every_status_but_the_first_is_entered_with_an_event_of_its_own():
    assert set(domain.STATUS_EVENTS) == set(domain.STATUSES) - {domain.RECEIVED}
    assert set(domain.STATUS_EVENTS.values()) <= set(domain.EVENT_TYPES)
    assert domain.STATUS_EVENTS[domain.HEARING] == domain.HEARING_SCHEDULED_EVENT


def test_a_restricted_complaint_is_visible_only_to_its_assignee_admins_and_the_complainant():
    c = domain.assign(received(restricted=True), staff="legal-2", actor=STAFF, now=NOW)
    assert domain.visible_to(c, {"user": "legal-2", "role": "legal_aid"})
    assert domain.visible_to(c, {"user": "root", "role": "admin"})
    assert domain.visible_to(c, MIGRANT)
    assert not domain.visible_to(c, STAFF)  # legal aid, but not assigned
    assert not domain.visible_to(c, {"user": "w", "role": "welfare_officer"})
    assert not domain.visible_to(c, {**MIGRANT, "migrant_ref": "PB-9999-9999"})
    open_one = received()
    assert domain.visible_to(open_one, STAFF) and not domain.visible_to(open_one, {**MIGRANT, "migrant_ref": "X"})


def test_a_step_the_status_does_not_allow_is_refused_as_such_even_with_a_missing_reason():
    with pytest.raises(domain.IllegalStep):
        domain.dismiss(received(), reason="", actor=STAFF, now=NOW)
    withdrawn = domain.withdraw(received(), reason="r", actor=STAFF, now=NOW)
    with pytest.raises(domain.IllegalStep):
        domain.withdraw(withdrawn, reason="", actor=STAFF, now=NOW)
