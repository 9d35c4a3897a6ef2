"""The case-status service layer (services/casestatus/service.py) through its consumer's
handlers, with in-memory repositories: a journey's timeline and SMS, a duplicate, events out
of order, catch-up from snapshots without SMS, and who reads which timeline."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from services.casestatus import consumer as casestatus_consumer
from services.casestatus.service import CaseStatusService
from shared.auth import Principal
from shared.errors import Forbidden, Invalid, NotFound
from shared.events import Envelope, Subject

from .casestatus_builders import (MIGRANT, PHONE, START, complaint, decided, hearing, journey, registered,
                                  stored)
from .casestatus_fakes import FakeAudit, FakeReads, FakeUnitOfWork

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)  # noon in Dhaka: no quiet hours
MIGRANT_P = Principal("migrant-1", "migrant", migrant_ref=MIGRANT)
OFFICER = Principal("officer-1", "welfare_officer")
LEGAL_AID = Principal("legal-1", "legal_aid")
ADMIN = Principal("admin-1", "admin")


class Desk:
    def __init__(self, monkeypatch):
        monkeypatch.setattr(casestatus_consumer.service, "clock", lambda: NOW)
        self.uow = FakeUnitOfWork()
        self.audit = FakeAudit()
        self.service = CaseStatusService(self.uow, FakeReads(self.uow), self.audit, clock=lambda: NOW)

    def apply(self, *events):
        return [casestatus_consumer.consumer.process(self.uow, e) for e in events]

    @property
    def entries(self):
        return self.uow.state["entries"]

    @property
    def sms(self):
        return sorted(self.uow.state["notifications"].values(), key=lambda s: s["event_id"])

    def timeline(self, principal=MIGRANT_P, lang="bn", limit=100, cursor=None):
        return self.service.migrant_timeline(principal, MIGRANT, lang, limit, cursor)


@pytest.fixture
def desk(monkeypatch):
    return Desk(monkeypatch)


def test_a_journey_is_a_timeline_newest_first_in_both_languages_with_what_happens_next(desk):
    events = journey()
    assert desk.apply(*events) == [True] * len(events)
    answer = desk.timeline(lang="en")
    assert [item["id"] for item in answer["items"]] == [e.id for e in reversed(events)]
    assert answer["items"][-1]["text"] == "You were registered as a migrant worker."
    assert answer["items"][0]["text"] == "Your application was approved."
    bangla = desk.timeline(lang="bn")
    assert bangla["items"][-1]["text"] == "আপনি প্রবাসী কর্মী হিসেবে নিবন্ধিত হয়েছেন।"
    assert bangla["items"][-1]["when"] == "২০ নভেম্বর ২০২৬, ১০:০০"
    steps = {case["case_id"]: case for case in answer["open_cases"]}
    assert steps["CMP-1"]["next_hearing"] == {"date": "2026-12-12", "venue": "DEMO Cumilla"}
    assert steps["CLM-1"]["status"] == "approved"
    # An SMS each for what matters: the rejected document, the hearing set and moved, the approval.
    assert sorted(s["event_id"].split(":")[0] for s in desk.sms) == [
        "claims.claim.approved", "complaints.complaint.hearing_adjourned", "complaints.complaint.hearing_scheduled",
        "documents.document.rejected"]
    assert {s["to"] for s in desk.sms} == {PHONE} and {s["migrant"] for s in desk.sms} == {MIGRANT}


def test_pages_follow_the_cursor_to_the_end_without_gaps_or_repeats(desk):
    events = journey()
    desk.apply(*events)
    seen, cursor = [], None
    while True:
        page = desk.timeline(limit=4, cursor=cursor)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [e.id for e in reversed(events)]
    with pytest.raises(Invalid):
        desk.timeline(cursor="bm90IGEgY3Vyc29y")


def test_an_event_delivered_twice_is_one_entry_and_one_sms(desk):
    rejected = decided("DOC-MED", "medical_report", START, 2, "rejected", "The scan cannot be read")
    assert desk.apply(registered(), rejected, rejected) == [True, True, False]
    assert len(desk.entries) == 2 and len(desk.sms) == 1


@pytest.mark.parametrize("seed", range(3))
def test_events_out_of_order_give_the_same_order_and_the_same_next_steps(desk, monkeypatch, seed):
    events = journey()
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    assert all(desk.apply(*shuffled))  # a late event still applies (an entry in its place)
    in_order = Desk(monkeypatch)
    in_order.apply(*events)
    assert [i["id"] for i in desk.timeline()["items"]] == [i["id"] for i in in_order.timeline()["items"]]
    assert desk.timeline()["open_cases"] == in_order.timeline()["open_cases"]


def test_a_late_event_is_on_the_timeline_but_sends_no_sms(desk):
    scheduled = hearing("scheduled", START, 5)
    moved = hearing("adjourned", START + timedelta(hours=1), 6, next_date="2026-12-12")
    desk.apply(registered(), moved, scheduled)
    assert {scheduled.id, moved.id} <= set(desk.entries)
    assert [s["event_id"] for s in desk.sms] == [moved.id]  # not the date it was moved from


def test_a_verdict_that_arrives_before_its_upload_still_reaches_the_case_family(desk):
    from .casestatus_builders import claim
    desk.apply(registered(), claim("submitted", "documents_pending", START, 1))
    verdict = decided("DOC-MED", "medical_report", START + timedelta(hours=2), 2, "rejected", "Blurred")
    desk.apply(verdict, stored("DOC-MED", "medical_report", START + timedelta(hours=1), 1, case_id="CLM-1"))
    family = Principal("family:+8801711111111", "family", cases=("CLM-1",))
    items = desk.service.case_timeline(family, "CLM-1", "en", 20, None)["items"]
    assert verdict.id in [i["id"] for i in items]


# -- catch-up ------------------------------------------------------------------------------

def snapshot(event_type, subject, version, data):
    return Envelope(id=f"snap-{subject[1]}-{version}", type=event_type, schema_version=1,
                    source=event_type.split(".")[0], occurred_at="2026-11-28T06:00:00Z", subject=Subject(*subject),
                    aggregate_version=version, correlation_id="replay-1", causation_id="replay-1", data=data)


def snapshots():
    return [
        snapshot("registration.migrant.snapshot", ("migrant", MIGRANT), 3, {
            "reference": MIGRANT, "name_en": "Rahim", "name_bn": "রহিম", "phone": PHONE,
            "registered_by": {"user": "op", "role": "udc_operator"}, "registered_at": "2026-01-05T04:00:00Z",
            "steps": [{"step": "fingerprint", "date": "2026-01-10"}], "membership": None}),
        snapshot("documents.document.snapshot", ("document", "DOC-MED"), 2, {
            "document_id": "DOC-MED", "owner": MIGRANT, "doc_type": "medical_report", "version": 1,
            "status": "rejected", "reason": "Blurred", "case_ids": ["CLM-1"], "content_sha256": "a" * 64,
            "deleted": False}),
        snapshot("claims.claim.snapshot", ("claim", "CLM-1"), 4, {
            "case_id": "CLM-1", "status": "approved", "document_ids": [], "claim_type": "medical_aid",
            "migrant_reference": MIGRANT, "claimant_phone": PHONE, "filed_at": "2026-02-01T04:00:00Z",
            "filed_on": "2026-02-01", "updated_at": "2026-03-01T04:00:00Z", "approved_amount": 50000,
            "paid_total": 0}),
        snapshot("complaints.complaint.snapshot", ("complaint", "CMP-1"), 6, {
            "case_id": "CMP-1", "status": "hearing", "document_ids": [], "receipt_number": "CP-2345-678X",
            "migrant_reference": MIGRANT, "complainant_phone": PHONE, "category": "unpaid_wages",
            "agency_licences": ["RL-1234"], "restricted": False, "assignee": None,
            "filed_at": "2026-02-10T04:00:00Z", "updated_at": "2026-03-05T04:00:00Z",
            "next_hearing": {"date": "2026-12-12", "venue": "DEMO Cumilla"}, "outcome": None, "paid_total": 0}),
    ]


def test_catch_up_builds_the_timeline_and_what_happens_next_without_any_sms(desk):
    learn = casestatus_consumer.service.learn_snapshot
    for event in snapshots():
        desk.uow.run(lambda tx: learn(event, tx))
    answer = desk.timeline(lang="en")
    texts = [item["text"] for item in answer["items"]]
    assert texts == ["Your complaint (CP-2345-678X), filed on 10 February 2026, is now: at the hearing stage.",
                     "Your application, filed on 1 February 2026, is now: approved.",
                     "Your complaint was received.", "Your application was received.",
                     "Pre-departure step done: Fingerprint enrolment (10 January 2026).",
                     "You were registered as a migrant worker."]
    assert all(item["replayed"] for item in answer["items"])
    steps = {case["case_id"]: case for case in answer["open_cases"]}
    assert steps["CLM-1"]["amount"] == 50000 and steps["CLM-1"]["steps"][0] == "Tk 50,000 will be sent to you."
    assert steps["CMP-1"]["next_hearing"] == {"date": "2026-12-12", "venue": "DEMO Cumilla"}
    assert desk.sms == []
    before = len(desk.entries)
    # The same states replayed again add nothing (past the inbox too: the entries' ids are the states').
    for event in snapshots():
        desk.uow.run(lambda tx: learn(event, tx))
    assert len(desk.entries) == before and desk.sms == []


# -- who reads what ------------------------------------------------------------------------

def test_a_migrant_reads_only_their_own_timeline_and_a_family_member_none(desk):
    desk.apply(registered())
    with pytest.raises(Forbidden):
        desk.service.migrant_timeline(Principal("m-2", "migrant", migrant_ref="PB-9999-9999"), MIGRANT, "bn", 20,
                                      None)
    with pytest.raises(Forbidden):
        desk.timeline(Principal("family:+8801711111111", "family", cases=("CLM-1",)))
    with pytest.raises(NotFound):
        desk.service.migrant_timeline(OFFICER, "PB-0000-0000", "bn", 20, None)


def test_staff_reads_are_audited(desk):
    desk.apply(registered(), complaint("received", "received", START, 1))
    desk.timeline(OFFICER)
    desk.service.case_timeline(OFFICER, "CMP-1", "bn", 20, None)
    desk.timeline(MIGRANT_P)
    assert [r[1:] for r in desk.audit.records] == [("read_timeline", "migrant", MIGRANT),
                                                   ("read_case_timeline", "case", "CMP-1")]


def test_a_restricted_complaint_shows_only_to_its_assignee_admins_and_the_complainant(desk):
    received = complaint("received", "received", START, 1, restricted=True)
    assigned = complaint("assigned", "received", START + timedelta(hours=1), 2, restricted=True, assignee="legal-1")
    desk.apply(registered(), received, assigned)
    restricted_ids = {received.id, assigned.id}

    def seen(principal):
        answer = desk.timeline(principal)
        return {i["id"] for i in answer["items"]}, [c["case_id"] for c in answer["open_cases"]]

    assert seen(OFFICER) == ({registered().id}, [])
    assert seen(Principal("legal-2", "legal_aid"))[0] == {registered().id}
    for principal in (LEGAL_AID, ADMIN, MIGRANT_P):
        ids, cases = seen(principal)
        assert restricted_ids <= ids and cases == ["CMP-1"], principal
    with pytest.raises(Forbidden):
        desk.service.case_timeline(OFFICER, "CMP-1", "bn", 20, None)
    assert desk.audit.records[-1][1] == "read_case_timeline_refused"
    named = Principal("family:+8801799999999", "family", cases=("CMP-1",))
    with pytest.raises(Forbidden):  # named, but not the phone that filed it
        desk.service.case_timeline(named, "CMP-1", "bn", 20, None)
    filer = Principal(f"family:{PHONE}", "family", cases=("CMP-1",))
    assert len(desk.service.case_timeline(filer, "CMP-1", "bn", 20, None)["items"]) == 2


def test_a_family_member_reads_the_named_case_only(desk):
    desk.apply(*journey())
    family = Principal("family:+8801811111111", "family", cases=("CLM-1",))
    answer = desk.service.case_timeline(family, "CLM-1", "en", 50, None)
    assert answer["next_steps"]["status"] == "approved"
    assert {i["case"]["id"] for i in answer["items"] if i["case"]} == {"CLM-1"}
    assert any(i["type"] == "documents.document.rejected" for i in answer["items"])  # sent for the claim
    with pytest.raises(Forbidden):
        desk.service.case_timeline(family, "CMP-1", "en", 50, None)
