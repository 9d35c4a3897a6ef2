"""The complaints service against the real database and broker: intake with a receipt
number, hearings, an award followed until it is paid or enforced, confidential complaints,
evidence from the vault (held there while the complaint is open), linking, and refusals
that leave nothing behind."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from services.complaints import api as complaints_api
from services.complaints import bootstrap as complaints_bootstrap
from services.complaints.config import ComplaintsConfig
from services.complaints.consumer import consumer as complaints_consumer
from services.complaints.repository import ComplaintRepository
from services.documents import api as documents_api
from services.documents.bootstrap import unit_of_work as documents_uow
from services.documents.consumer import consumer as documents_consumer
from shared import mongo
from shared.auth import issue_token
from shared.consumer import Worker
from shared.events import Envelope
from shared.fields import today_in_bangladesh
from shared.outbox import OutboxStore
from shared.relay import Relay

from tests.waiting import wait_for

pytestmark = pytest.mark.integration

REF, OTHER = "PB-2345-6789", "PB-ABCD-EFGH"
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 50
STORES = ("complaints", "complaint_history", "outbox")
LAWYER = "legal_aid"


def intake(reference=REF, **overrides):
    return {"complainant": {"migrant_reference": reference, "name": "Rahim Uddin", "phone": "01712345678"},
            "channel": "udc", "category": "unpaid_wages",
            "respondents": [{"kind": "recruiting_agency", "name": "Example Overseas", "licence": "RL-1234"},
                            {"kind": "sub_agent", "name": "Karim dalal", "phone": "01811111111"},
                            {"kind": "employer_abroad", "name": "Gulf Build LLC", "country": "SA"}],
            "amount_claimed": 250000, "narrative": "Eight months of wages were never paid by the employer.",
            "district": "Cumilla", **overrides}


def registration_event(action, reference, version, **data):
    return Envelope.new(type=f"registration.migrant.{action}", source="registration", subject_type="migrant",
                        subject_id=reference, aggregate_version=version, data={"reference": reference, **data})


def document_event(action, document_id, owner=REF, version=1, doc_type="job_contract"):
    return Envelope.new(type=f"documents.document.{action}", source="documents", subject_type="document",
                        subject_id=document_id, aggregate_version=version,
                        data={"document_id": document_id, "owner": owner, "doc_type": doc_type})


def claim_submitted(claim_id, reference):
    return Envelope.new(type="claims.claim.submitted", source="claims", subject_type="claim", subject_id=claim_id,
                        aggregate_version=1, data={"case_id": claim_id, "status": "documents_pending",
                                                   "document_ids": [], "claim_type": "legal_aid",
                                                   "migrant_reference": reference, "claimant_phone": None})


def day(n: int) -> str:
    return (today_in_bangladesh() + timedelta(days=n)).isoformat()


class Desk:
    """The complaints API in process, its database, and its consumer applying events directly.
    `today` is the service's Dhaka date, which a test may move forward (deadlines)."""

    def __init__(self, app, settings, db, uow, service):
        self.http, self.settings, self.db, self.uow, self.service = app.test_client(), settings, db, uow, service

    def headers(self, role=LAWYER, user=None, if_match=None, **claims):
        centre = "UDC Daudkandi" if role == "udc_operator" else None
        token = issue_token(self.settings, subject=user or f"{role}-1", role=role, udc_centre=centre, **claims)
        return {"Authorization": f"Bearer {token}", **({"If-Match": if_match} if if_match else {})}

    def file(self, body=None, role=LAWYER, **claims):
        return self.http.post("/api/v1/complaints", json=body or intake(), headers=self.headers(role, **claims))

    def get(self, complaint_id, role=LAWYER, **claims):
        return self.http.get(f"/api/v1/complaints/{complaint_id}", headers=self.headers(role, **claims))

    def list(self, query="", role=LAWYER, **claims):
        return self.http.get(f"/api/v1/complaints?{query}", headers=self.headers(role, **claims))

    def step(self, complaint_id, rule, body=None, role="admin", if_match=None, **claims):
        if if_match is None:
            if_match = self.get(complaint_id, "admin").headers["ETag"]
        return self.http.post(f"/api/v1/complaints/{complaint_id}/{rule}", json=body if body is not None else {},
                              headers=self.headers(role, if_match=if_match, **claims))

    def walk(self, complaint_id, *steps):
        for rule, body in steps:
            answer = self.step(complaint_id, rule, body)
            assert answer.status_code == 200, (rule, answer.json)
        return answer.json

    def apply(self, event):
        complaints_consumer.process(self.uow, event)

    def stored(self) -> dict:
        return {name: self.db[name].count_documents({}) for name in STORES}

    def events(self, complaint_id) -> list[dict]:
        """The complaint's events in the order they were raised (by its version)."""
        return [row["envelope"] for row in self.db.outbox.find({"aggregate": f"complaint:{complaint_id}"})
                .sort([("aggregate_version", 1), ("created_at", 1)])]


@pytest.fixture
def desk(infra):
    settings = infra.settings("complaints")
    service = complaints_bootstrap.build(settings, ComplaintsConfig(hearing_cap=3))
    app = complaints_api.create(settings, configure_logging=False, service=service)
    desk = Desk(app, settings, mongo.database(settings), complaints_bootstrap.unit_of_work(settings), service)
    for n, reference in enumerate((REF, OTHER)):
        desk.apply(registration_event("registered", reference, 1, name_en="Rahim Uddin", name_bn="রহিম উদ্দিন",
                                      phone=f"+88017123456{n}9", registered_by={"user": "op", "role": "admin"}))
    return desk


TO_NOTICE = (("scrutiny", {}), ("acknowledgement", {"committee": ["Deputy Director (Legal)", "Legal aid officer"]}),
             ("notice", {}))
PARTIES = ["complainant", "recruiting_agency"]


def hearing(n=7, **more):
    return {"date": day(n), "venue": "BMET Dhaka, room 3", "parties": PARTIES, **more}


HELD = {"attendance": {"complainant": True, "recruiting_agency": True}, "minutes": "Both parties were heard."}


def test_a_complaint_goes_from_intake_through_two_hearings_to_an_award_paid_in_two_instalments(desk):
    filed = desk.file()
    assert filed.status_code == 201, filed.json
    complaint = filed.json
    complaint_id, receipt = complaint["complaint_id"], complaint["receipt_number"]
    assert filed.headers["Location"] == f"/api/v1/complaints/{complaint_id}" and filed.headers["ETag"] == '"1"'
    assert complaint["status"] == "received" and receipt.startswith("CP-")
    assert complaint["complainant"]["phone"] == "+8801712345678" and complaint["agency_licences"] == ["RL-1234"]
    assert complaint["target_days"] == {"scrutiny": 7, "acknowledgement": 15, "disposal": 90}
    assert complaint["linked_claims"] == []
    found = desk.list(f"receipt_number={receipt}").json["items"]
    assert [c["complaint_id"] for c in found] == [complaint_id]

    desk.walk(complaint_id, *TO_NOTICE, ("assignment", {"assignee": "legal_aid-7"}))
    adjourned = desk.walk(complaint_id, ("hearings", hearing(7)),
                          ("hearings/adjournment", {"next_date": day(14), "reason": "The agency asked for time"}))
    assert [(h["hearing_no"], h["state"]) for h in adjourned["hearings"]] == [(1, "adjourned"), (2, "scheduled")]
    held = desk.walk(complaint_id, ("hearings/held", HELD))
    assert held["status"] == "hearing" and held["hearings"][1]["state"] == "held"
    awarded = desk.walk(complaint_id, ("outcome", {"kind": "award_issued", "amount": 120000, "payment_deadline": day(60),
                                                   "instalments": [{"due_on": day(30), "amount": 60000},
                                                                   {"due_on": day(60), "amount": 60000}],
                                                   "terms": "Paid to the complainant's bank account"}))
    assert awarded["status"] == "award_issued" and len(awarded["outcome"]["instalments"]) == 2
    desk.walk(complaint_id, ("compliance-monitoring", {}))
    first = desk.walk(complaint_id, ("payments", {"amount": 60000, "paid_on": day(0), "reference": "BEFTN-1"}))
    assert (first["status"], first["paid_total"]) == ("compliance_monitoring", 60000)
    paid = desk.walk(complaint_id, ("payments", {"amount": 60000, "paid_on": day(0), "reference": "BEFTN-2"}))
    assert (paid["status"], paid["paid_total"]) == ("complied", 120000)
    closed = desk.walk(complaint_id, ("closure", {"note": "The complainant confirmed both payments"}))
    assert closed["status"] == "closed"

    events = desk.events(complaint_id)
    assert [e["type"].rsplit(".", 1)[1] for e in events] == [
        "received", "scrutiny_started", "acknowledged", "notice_sent", "assigned", "hearing_scheduled",
        "hearing_adjourned", "hearing_held", "award_issued", "compliance_monitoring", "payment_received",
        "payment_received", "complied", "closed"]
    assert [e["aggregate_version"] for e in events] == list(range(1, 15))
    assert all(e["data"]["receipt_number"] == receipt and e["data"]["complainant_phone"] == "+8801712345678"
               and e["data"]["case_id"] == complaint_id for e in events)
    assert [e["data"]["assignee"] for e in events] == [None] * 4 + ["legal_aid-7"] * 10
    assert events[6]["data"]["next_date"] == day(14) and events[7]["data"]["respondent_attended"] is True
    assert (events[11]["data"]["payment_amount"], events[11]["data"]["paid_total"]) == (60000, 120000)
    history = desk.http.get(f"/api/v1/complaints/{complaint_id}/history?limit=100", headers=desk.headers()).json
    assert [h["type"] for h in history["items"]] == [e["type"] for e in reversed(events)]
    assert history["items"][0]["summary"] == "Closed" and history["items"][0]["summary_bn"]


def awarded(desk, deadline=30):
    complaint_id = desk.file().json["complaint_id"]
    desk.walk(complaint_id, *TO_NOTICE, ("hearings", hearing(7)), ("hearings/held", HELD),
              ("outcome", {"kind": "settled", "amount": 90000, "payment_deadline": day(deadline)}),
              ("compliance-monitoring", {}))
    return complaint_id


def test_an_award_unpaid_past_its_deadline_goes_to_not_complied_then_enforcement(desk):
    complaint_id = awarded(desk, deadline=30)
    early = desk.step(complaint_id, "non-compliance")
    assert early.status_code == 409 and "has not passed" in early.json["detail"]
    desk.walk(complaint_id, ("payments", {"amount": 10000, "paid_on": day(0)}))
    desk.service.today = lambda: today_in_bangladesh() + timedelta(days=31)
    late = desk.walk(complaint_id, ("non-compliance", {}))
    assert late["status"] == "not_complied" and late["non_compliance"]["owed"] == 80000
    enforced = desk.walk(complaint_id, ("enforcement", {"action": "recommend_licence_suspension",
                                                        "note": "Recommended to BMET: suspend RL-1234"}))
    assert enforced["status"] == "enforcement"
    assert enforced["enforcement"]["action"] == "recommend_licence_suspension" and enforced["enforcement"]["owed"] == 80000
    last = desk.events(complaint_id)[-1]
    assert last["type"] == "complaints.complaint.enforcement"
    assert last["data"]["enforcement_action"] == "recommend_licence_suspension"
    assert (last["data"]["amount"], last["data"]["paid_total"]) == (90000, 10000)


def test_a_fourth_hearing_needs_a_reason_past_the_cap_of_three(desk):
    complaint_id = desk.file().json["complaint_id"]
    desk.walk(complaint_id, *TO_NOTICE, ("hearings", hearing(7)),
              ("hearings/adjournment", {"next_date": day(14), "reason": "The respondent was ill"}),
              ("hearings/adjournment", {"next_date": day(21), "reason": "A witness could not come"}),
              ("hearings/held", HELD))
    before = desk.stored()
    refused = desk.step(complaint_id, "hearings", hearing(28))
    assert refused.status_code == 409 and refused.json["cap"] == 3 and refused.json["hearings"] == 3
    assert desk.stored() == before
    accepted = desk.step(complaint_id, "hearings", hearing(28, over_cap_reason="The employer's records arrived"))
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["hearings"][3]["over_cap_reason"] == "The employer's records arrived"


def test_a_restricted_complaint_is_seen_only_by_its_assignee_admins_and_the_complainant(desk):
    secret = desk.file(intake(restricted=True, category="abuse_unsafe_work")).json["complaint_id"]
    open_one = desk.file().json["complaint_id"]
    desk.walk(secret, ("assignment", {"assignee": "legal_aid-7"}))

    assert desk.get(secret, LAWYER, user="legal_aid-2").status_code == 404
    assert desk.get(secret, "welfare_officer").status_code == 404
    listed = desk.list(role=LAWYER, user="legal_aid-2").json["items"]
    assert [c["complaint_id"] for c in listed] == [open_one]
    assert desk.http.get(f"/api/v1/complaints/{secret}/history", headers=desk.headers(user="legal_aid-2")) \
        .status_code == 404
    assert desk.step(secret, "scrutiny", role=LAWYER, user="legal_aid-2").status_code == 404
    queue = desk.http.get("/api/v1/queue", headers=desk.headers(user="legal_aid-2")).json["items"]
    assert [c["complaint_id"] for c in queue] == [open_one]

    assert desk.http.get("/api/v1/queue?assignee=legal_aid-7", headers=desk.headers(user="legal_aid-2")) \
        .json["items"] == []
    queue = desk.http.get("/api/v1/queue", headers=desk.headers(user="legal_aid-7")).json["items"]
    assert sorted(c["complaint_id"] for c in queue) == sorted([secret, open_one])
    assert desk.get(secret, LAWYER, user="legal_aid-7").status_code == 200
    assert secret in [c["complaint_id"] for c in desk.list(role=LAWYER, user="legal_aid-7").json["items"]]
    assert desk.get(secret, "admin").status_code == 200
    assert desk.get(secret, "migrant", migrant_ref=REF).status_code == 200
    assert desk.get(secret, "migrant", migrant_ref=OTHER).status_code == 404

    audit = list(desk.db.audit.find({"subject_id": secret}))
    assert {(a["actor"]["user"], a["action"]) for a in audit} >= {
        ("legal_aid-2", "read_refused"), ("welfare_officer-1", "read_refused"), ("legal_aid-7", "read"),
        ("admin-1", "read")}
    assert not any(a["actor"]["role"] == "migrant" for a in audit)


def test_evidence_must_be_the_complainants_own_and_is_named_in_the_next_event(desk):
    complaint_id = desk.file().json["complaint_id"]
    desk.apply(document_event("uploaded", "DOC-MINE"))
    desk.apply(document_event("uploaded", "DOC-THEIRS", owner=OTHER))
    before = desk.stored()
    theirs = desk.step(complaint_id, "evidence", {"document_id": "DOC-THEIRS"})
    assert theirs.status_code == 422 and "document_id" in theirs.json["errors"]
    assert desk.step(complaint_id, "evidence", {"document_id": "DOC-NONE"}).status_code == 404
    assert desk.stored() == before
    mine = desk.step(complaint_id, "evidence", {"document_id": "DOC-MINE"})
    assert mine.status_code == 200 and [e["document_id"] for e in mine.json["evidence"]] == ["DOC-MINE"]
    assert desk.events(complaint_id)[-1]["data"]["document_ids"] == ["DOC-MINE"]
    desk.walk(complaint_id, ("scrutiny", {}))
    assert desk.events(complaint_id)[-1]["data"]["document_ids"] == ["DOC-MINE"]


def test_evidence_attached_to_an_open_complaint_is_held_by_the_vault_until_it_closes(infra, desk):
    """Real processes talking through RabbitMQ: the documents API and relay, the complaints
    consumer and relay, the documents consumer (legal hold)."""
    vault_settings = infra.settings("documents")
    vault = documents_api.create(vault_settings, configure_logging=False).test_client()
    vault_uow = documents_uow(vault_settings)
    documents_consumer.process(vault_uow, registration_event("registered", REF, 1))
    for settings, consumer, uow in ((desk.settings, complaints_consumer, desk.uow),
                                    (vault_settings, documents_consumer, vault_uow)):
        worker = Worker(consumer, uow, settings)
        infra.background(worker, worker.run)
        assert worker.ready.wait(15)
    for settings in (desk.settings, vault_settings):
        relay = Relay(OutboxStore(mongo.database(settings)), settings)
        infra.background(relay, relay.run)

    officer = {"Authorization": "Bearer " + issue_token(vault_settings, subject="legal-1", role="legal_aid")}
    admin = {"Authorization": "Bearer " + issue_token(vault_settings, subject="admin-1", role="admin")}
    uploaded = vault.post("/api/v1/documents", content_type="multipart/form-data", headers=officer,
                          data={"owner": REF, "doc_type": "job_contract", "file": (io.BytesIO(PDF), "c.pdf")})
    assert uploaded.status_code == 201, uploaded.json
    document_id = uploaded.json["document_id"]
    wait_for(lambda: desk.db.documents.find_one({"_id": document_id}) is not None, 30,
             "the complaints service did not learn the document's owner")

    complaint_id = desk.file().json["complaint_id"]
    assert desk.step(complaint_id, "evidence", {"document_id": document_id}).status_code == 200
    vault_db = mongo.database(vault_settings)
    wait_for(lambda: (vault_db.cases.find_one({"_id": complaint_id}) or {}).get("document_ids") == [document_id], 30,
             "the vault did not learn which documents the complaint relies on")
    reason = {"reason": "Uploaded against the wrong migrant"}
    held = vault.delete(f"/api/v1/documents/{document_id}", json=reason, headers=admin)
    assert held.status_code == 409 and held.json["holds"] == [complaint_id]

    desk.walk(complaint_id, *TO_NOTICE, ("hearings", hearing(7)), ("hearings/held", HELD),
              ("dismissal", {"reason": "The agency proved the wages were paid"}), ("closure", {}))
    wait_for(lambda: (vault_db.cases.find_one({"_id": complaint_id}) or {}).get("status") == "closed", 30,
             "the vault did not learn the complaint closed")
    assert vault.delete(f"/api/v1/documents/{document_id}", json=reason, headers=admin).status_code == 204


def without(body: dict, *path):
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


@pytest.mark.parametrize("why, body, status", [
    ("no narrative", without(intake(), "narrative"), 422),
    ("no complainant phone", without(intake(), "complainant", "phone"), 422),
    ("no respondents", intake(respondents=[]), 422),
    ("an agency without its licence", intake(respondents=[{"kind": "recruiting_agency", "name": "X"}]), 422),
    ("amount as text", intake(amount_claimed="250000"), 422),
    ("restricted as text", intake(restricted="yes"), 422),
    ("a bad phone", intake(complainant={"migrant_reference": REF, "name": "R", "phone": "12345"}), 422),
    ("a bad licence", intake(respondents=[{"kind": "recruiting_agency", "name": "X", "licence": "ABC-1"}]), 422),
    ("an unknown category", intake(category="lottery"), 422),
    ("an unknown channel", intake(channel="pigeon"), 422),
    ("a short narrative", intake(narrative="Not paid."), 422),
    ("an unknown field", intake(priority="high"), 422),
    ("an unknown migrant", intake(reference="PB-ZZZZ-ZZZZ"), 404),
])
def test_bad_input_leaves_nothing_behind(desk, why, body, status):
    before = desk.stored()
    answer = desk.file(body)
    assert answer.status_code == status, (why, answer.json)
    assert answer.mimetype == "application/problem+json"
    assert desk.stored() == before == {"complaints": 0, "complaint_history": 0, "outbox": 0}


def test_who_files_a_migrant_for_themselves_a_udc_operator_with_their_centre_not_an_admin(desk):
    mine = desk.file(role="migrant", migrant_ref=REF)
    assert mine.status_code == 201, mine.json
    assert desk.file(intake(reference=OTHER), role="migrant", migrant_ref=REF).status_code == 403
    assert desk.file(role="admin").status_code == 403
    by_udc = desk.file(intake(reference=OTHER), role="udc_operator")
    assert by_udc.status_code == 201 and by_udc.json["filed_by"]["udc_centre"] == "UDC Daudkandi"
    assert desk.file(intake(udc_centre="UDC Daudkandi")).status_code == 422  # only an operator names a centre
    listed = desk.list(role="migrant", migrant_ref=REF).json["items"]
    assert [c["complaint_id"] for c in listed] == [mine.json["complaint_id"]]
    assert desk.list(f"migrant_reference={OTHER}", role="migrant", migrant_ref=REF).status_code == 403
    assert desk.get(by_udc.json["complaint_id"], "migrant", migrant_ref=REF).status_code == 404
    withdrawn = desk.step(mine.json["complaint_id"], "withdrawal", {"reason": "Settled privately"}, role="migrant",
                          migrant_ref=REF)
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    theirs = desk.step(by_udc.json["complaint_id"], "withdrawal", {"reason": "x!"}, role="migrant", migrant_ref=REF)
    assert theirs.status_code == 404


def test_an_illegal_step_is_409_naming_the_allowed_ones_and_every_step_needs_if_match(desk):
    complaint_id = desk.file().json["complaint_id"]
    before = desk.stored()
    early = desk.step(complaint_id, "notice")
    assert early.status_code == 409 and early.json["allowed"] == ["scrutiny", "withdrawn"]
    assert early.json["complaint_status"] == "received"
    missing = desk.http.post(f"/api/v1/complaints/{complaint_id}/scrutiny", json={}, headers=desk.headers("admin"))
    assert missing.status_code == 428
    assert desk.step(complaint_id, "scrutiny", if_match='"7"').status_code == 412
    assert desk.step(complaint_id, "scrutiny", role="welfare_officer").status_code == 403
    assert desk.step("CMP-2026-ZZZZZZZZ", "scrutiny", if_match='"1"').status_code == 404
    assert desk.stored() == before
    assert desk.step(complaint_id, "scrutiny", if_match='"1"').headers["ETag"] == '"2"'


def test_referrals_each_with_their_own_state_and_due_date(desk):
    complaint_id = desk.file().json["complaint_id"]
    desk.walk(complaint_id, *TO_NOTICE, ("hearings", hearing(7)), ("hearings/held", HELD))
    referred = desk.walk(complaint_id, ("referrals", {"body": "police_expatriate_help_cell",
                                                      "note": "The sub-agent kept the passport"}))
    assert referred["status"] == "referred" and referred["referrals"][0]["state"] == "pending"
    event = desk.events(complaint_id)[-1]["data"]
    assert (event["referral_no"], event["body"], event["referral_state"]) == (1, "police_expatriate_help_cell",
                                                                               "pending")
    assert desk.step(complaint_id, "referrals/2", {"state": "accepted"}).status_code == 404
    assert desk.step(complaint_id, "referrals/1", {"state": "declined"}).status_code == 422  # needs a note
    early = desk.step(complaint_id, "closure", {})
    assert early.status_code == 409
    declined = desk.walk(complaint_id, ("referrals/1", {"state": "declined", "note": "Not a police matter"}))
    assert declined["referrals"][0]["state"] == "declined"
    assert desk.events(complaint_id)[-1]["type"] == "complaints.complaint.referral_updated"
    assert desk.walk(complaint_id, ("closure", {}))["status"] == "closed"
    reopened = desk.walk(complaint_id, ("reopening", {"reason": "The passport is still withheld"}))
    assert reopened["status"] == "reopened" and len(reopened["reopenings"]) == 1


def test_complaints_against_the_same_agency_or_sub_agent_are_shown_together(desk):
    first = desk.file().json["complaint_id"]
    same_agent = desk.file(intake(reference=OTHER, respondents=[
        {"kind": "sub_agent", "name": "Karim", "phone": "+8801811111111"}])).json["complaint_id"]
    same_agency = desk.file(intake(respondents=[{"kind": "recruiting_agency", "name": "EO", "licence": "1234"}])) \
        .json["complaint_id"]
    other = desk.file(intake(respondents=[{"kind": "recruiting_agency", "name": "Z", "licence": "RL-9"}])) \
        .json["complaint_id"]
    secret = desk.file(intake(restricted=True)).json["complaint_id"]
    related = desk.http.get(f"/api/v1/complaints/{first}/related", headers=desk.headers()).json
    assert [c["complaint_id"] for c in related["items"]] == [same_agency, same_agent]
    as_admin = desk.http.get(f"/api/v1/complaints/{first}/related?limit=2", headers=desk.headers("admin")).json
    assert [c["complaint_id"] for c in as_admin["items"]] == [secret, same_agency]
    rest = desk.http.get(f"/api/v1/complaints/{first}/related?limit=2&cursor={as_admin['next_cursor']}",
                         headers=desk.headers("admin")).json
    assert [c["complaint_id"] for c in rest["items"]] == [same_agent] and rest["next_cursor"] is None
    assert other not in [c["complaint_id"] for c in related["items"]]
    by_licence = desk.list("agency_licence=RL-1234").json["items"]
    assert [c["complaint_id"] for c in by_licence] == [same_agency, first]
    by_phone = desk.list("sub_agent_phone=%2B8801811111111").json["items"]
    assert [c["complaint_id"] for c in by_phone] == [same_agent, first]


def test_a_complaint_is_linked_to_a_welfare_claim_of_the_same_migrant_only(desk):
    complaint_id = desk.file().json["complaint_id"]
    desk.apply(claim_submitted("CLM-2026-AAAAAAAA", REF))
    desk.apply(claim_submitted("CLM-2026-BBBBBBBB", OTHER))
    before = desk.stored()
    theirs = desk.step(complaint_id, "linked-claims", {"claim_id": "CLM-2026-BBBBBBBB"})
    assert theirs.status_code == 422 and "claim_id" in theirs.json["errors"]
    unknown = desk.step(complaint_id, "linked-claims", {"claim_id": "CLM-2026-CCCCCCCC"})
    assert unknown.status_code == 422
    assert desk.stored() == before
    linked = desk.walk(complaint_id, ("linked-claims", {"claim_id": "CLM-2026-AAAAAAAA"}))
    assert [c["claim_id"] for c in linked["linked_claims"]] == ["CLM-2026-AAAAAAAA"]
    assert desk.events(complaint_id)[-1]["type"] == "complaints.complaint.claim_linked"


def test_the_list_filters_and_pages(desk):
    ids = [desk.file(intake(reference=ref, district=district, category=category)).json["complaint_id"]
           for ref, district, category in ((REF, "Cumilla", "unpaid_wages"), (OTHER, "Sylhet", "passport_withheld"))]
    desk.walk(ids[0], ("assignment", {"assignee": "legal_aid-7"}), ("scrutiny", {}))
    by = lambda query: [c["complaint_id"] for c in desk.list(query).json["items"]]  # noqa: E731
    assert by("district=Sylhet") == [ids[1]]
    assert by("assignee=legal_aid-7") == [ids[0]]
    assert by("status=scrutiny") == [ids[0]]
    assert by("category=passport_withheld") == [ids[1]]
    assert by(f"migrant_reference={OTHER}") == [ids[1]]
    first = desk.list("limit=1").json
    second = desk.list(f"limit=1&cursor={first['next_cursor']}").json
    assert [c["complaint_id"] for c in first["items"] + second["items"]] == list(reversed(ids))
    assert second["next_cursor"] is None
    queue = desk.http.get("/api/v1/queue?limit=1", headers=desk.headers()).json
    more = desk.http.get(f"/api/v1/queue?limit=1&cursor={queue['next_cursor']}", headers=desk.headers()).json
    assert sorted(c["complaint_id"] for c in queue["items"] + more["items"]) == sorted(ids)


FILTERS = [{"status": "received"}, {"category": "unpaid_wages"}, {"district": "Cumilla"}, {"assignee": "legal_aid-7"},
           {"agency_licences": "RL-1234"}, {"respondents.phone": "+8801811111111"},
           {"complainant.migrant_reference": REF}, {"receipt_number": "CP-2345-678X"}]


# An admin's query is the filter; staff's add `restricted` (service._alternatives), a migrant's is their reference.
@pytest.mark.parametrize("query", [{}, *FILTERS, {"restricted": False}, {"restricted": True},
                                   *({**f, "restricted": seen} for f in FILTERS for seen in (False, True))])
def test_every_list_filter_and_a_later_page_are_served_by_an_index(desk, query):
    for n in range(3):
        desk.file()
    for after in (None, [datetime(2026, 11, 1, tzinfo=timezone.utc), "CMP-2026-ZZZZZZZZ"]):
        plans = json.dumps(ComplaintRepository(desk.db).explain_search(query, after), default=str)
        assert "COLLSCAN" not in plans and "IXSCAN" in plans, (query, plans)


def test_the_api_describes_itself(desk):
    document = desk.http.get("/openapi.json").json
    paths = document["paths"]
    assert {"/api/v1/complaints", "/api/v1/complaints/{complaint_id}", "/api/v1/complaints/{complaint_id}/related",
            "/api/v1/queue", "/api/v1/complaints/{complaint_id}/referrals/{referral_no}"} <= set(paths)
    assert "If-Match" in [p["name"] for p in paths["/api/v1/complaints/{complaint_id}/hearings"]["post"]["parameters"]
                          if p["in"] == "header"]


def test_phones_and_licences_are_taken_as_registration_takes_them_and_stored_normalised(desk):
    """What a UDC operator types every day (shared.spellings, the rule registration uses too)."""
    def body(phone, licence, agent_phone):
        return intake(complainant={"migrant_reference": REF, "name": "Rahim Uddin", "phone": phone},
                      respondents=[{"kind": "recruiting_agency", "name": "Example Overseas", "licence": licence},
                                   {"kind": "sub_agent", "name": "Karim dalal", "phone": agent_phone}])

    spelled = [("01712-345678", "RL 1234", "+88 01811 111111"), ("+88 01712 345678", "rl-1234", "০১৮১১-১১১১১১"),
               ("০১৭১২৩৪৫৬৭৮", "RL 1234", "(+880) 1811 111111")]
    filed = []
    for phone, licence, agent_phone in spelled:
        answer = desk.file(body(phone, licence, agent_phone), role="udc_operator")
        assert answer.status_code == 201, (phone, licence, agent_phone, answer.json)
        stored = desk.get(answer.json["complaint_id"], "admin").json
        assert stored["complainant"]["phone"] == "+8801712345678"
        assert [r.get("licence") or r.get("phone") for r in stored["respondents"]] == ["RL-1234", "+8801811111111"]
        assert stored["agency_licences"] == ["RL-1234"]
        filed.insert(0, answer.json["complaint_id"])
    # The filters take the same spellings.
    assert [c["complaint_id"] for c in desk.list("agency_licence=rl%201234").json["items"]] == filed
    assert [c["complaint_id"] for c in desk.list("sub_agent_phone=01811-111111").json["items"]] == filed
    before = desk.stored()
    for phone in ("01712\n345678", "01712345678\n"):  # the normaliser would drop it; the pattern refuses it
        refused = desk.file(body(phone, "RL 1234", "01811111111"), role="udc_operator")
        assert refused.status_code == 422 and "phone" in json.dumps(refused.json), refused.json
    refused = desk.file(body("01712345678", "RL 1234", "01811\n111111"), role="udc_operator")
    assert refused.status_code == 422, refused.json
    assert desk.stored() == before


def test_the_categories_are_public_with_their_names_in_both_languages(desk):
    answer = desk.http.get("/api/v1/complaint-categories")  # no token: the portal's form offers them
    assert answer.status_code == 200
    items = {c["code"]: c for c in answer.json["items"]}
    assert items["unpaid_wages"] == {"code": "unpaid_wages", "name_en": "Unpaid wages", "name_bn": "বেতন না পাওয়া"}
    assert set(items) == set(desk.service.lists.categories)
