"""The claims service against the real database and broker: filing to payment, the
checklist that fills itself from the documents service, never paid twice, and refusals
that leave nothing behind."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest

from services.claims import api as claims_api
from services.claims import bootstrap as claims_bootstrap
from services.claims.bootstrap import unit_of_work
from services.claims.config import ClaimsConfig
from services.claims.consumer import consumer as claims_consumer
from services.claims.repository import ClaimRepository
from services.documents import api as documents_api
from services.documents.bootstrap import unit_of_work as documents_uow
from services.documents.consumer import consumer as documents_consumer
from shared import mongo
from shared.auth import Principal, issue_token
from shared.consumer import Worker
from shared.events import Envelope
from shared.outbox import OutboxStore
from shared.relay import Relay

from tests.waiting import wait_for

pytestmark = pytest.mark.integration

REF, OTHER = "PB-2345-6789", "PB-ABCD-EFGH"
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 50
STORES = ("claims", "history", "outbox", "payment_references")
THRESHOLD = 100_000
OFFICER = Principal("officer-1", "welfare_officer")
OVERRIDE = {"eligibility_override": "The board extends the grant to workers who joined after leaving"}


def heir(n, numerator, denominator):
    return {"name_en": f"Heir {n}", "name_bn": f"ওয়ারিশ {n}", "relation": "son", "nid": f"19901234567{n:02d}",
            "phone": f"+88017123456{n:02d}", "share": {"numerator": numerator, "denominator": denominator},
            "payout": {"method": "bank" if n == 1 else "mobile_wallet", "provider": "Sonali Bank",
                       "account_number": f"000123{n}"}}


def death_grant(reference=REF, **overrides):
    return {"type": "death_grant", "migrant_reference": reference, "district": "Cumilla",
            "event": {"date": "2026-10-01", "country": "SA"}, "heirs": [heir(1, 1, 2), heir(2, 1, 2)], **overrides}


def registration_event(action, reference, version, **data):
    return Envelope.new(type=f"registration.migrant.{action}", source="registration", subject_type="migrant",
                        subject_id=reference, aggregate_version=version, data={"reference": reference, **data})


def document_event(action, document_id, doc_type, owner=REF, version=1, **data):
    return Envelope.new(type=f"documents.document.{action}", source="documents", subject_type="document",
                        subject_id=document_id, aggregate_version=version,
                        data={"document_id": document_id, "owner": owner, "doc_type": doc_type, **data})


class Desk:
    """The claims API in process, its database, and its consumer applying events directly."""

    def __init__(self, app, settings, db, uow):
        self.http, self.settings, self.db, self.uow = app.test_client(), settings, db, uow

    def headers(self, role="welfare_officer", user=None, if_match=None, **claims):
        centre = "UDC Daudkandi" if role == "udc_operator" else None
        token = issue_token(self.settings, subject=user or f"{role}-1", role=role, udc_centre=centre, **claims)
        return {"Authorization": f"Bearer {token}", **({"If-Match": if_match} if if_match else {})}

    def file(self, body=None, role="welfare_officer", **claims):
        return self.http.post("/api/v1/claims", json=body or death_grant(), headers=self.headers(role, **claims))

    def get(self, claim_id, role="welfare_officer", **claims):
        return self.http.get(f"/api/v1/claims/{claim_id}", headers=self.headers(role, **claims))

    def step(self, claim_id, rule, body=None, user=None, if_match=None):
        if if_match is None:
            if_match = self.get(claim_id).headers["ETag"]
        return self.http.post(f"/api/v1/claims/{claim_id}/{rule}", json=body if body is not None else {},
                              headers=self.headers(user=user, if_match=if_match))

    def apply(self, event):
        claims_consumer.process(self.uow, event)

    def stored(self) -> dict:
        return {name: self.db[name].count_documents({}) for name in STORES}

    def outbox_types(self) -> list[str]:
        """Claim events in the order they were raised (per claim, by its version)."""
        return [row["type"] for row in self.db.outbox.find({"aggregate": {"$regex": "^claim:"}})
                .sort([("created_at", 1), ("aggregate_version", 1)])]


@pytest.fixture
def desk(infra):
    settings = infra.settings("claims")
    app = claims_api.create(settings, configure_logging=False, config=ClaimsConfig(second_approval_above=THRESHOLD))
    desk = Desk(app, settings, mongo.database(settings), unit_of_work(settings))
    for n, reference in enumerate((REF, OTHER)):
        desk.apply(registration_event("registered", reference, 1, name_en="Rahim Uddin", name_bn="রহিম উদ্দিন",
                                      phone=f"+88017123456{n}9", registered_by={"user": "op", "role": "welfare_officer"}))
    desk.apply(registration_event("membership_activated", REF, 2, number="WEWB-1", valid_until="2030-01-01",
                                  by={"user": "o", "role": "welfare_officer"}))
    return desk


def verify_all(desk, owner=REF):
    for n, doc_type in enumerate(("death_certificate", "passport_copy", "heirship_certificate"), start=1):
        desk.apply(document_event("uploaded", f"DOC-{owner}-{n}", doc_type, owner))
        desk.apply(document_event("verified", f"DOC-{owner}-{n}", doc_type, owner, version=2, reason=None))


def test_a_death_grant_with_two_heirs_moves_to_review_as_its_documents_are_verified(desk):
    filed = desk.file()
    assert filed.status_code == 201, filed.json
    claim = filed.json
    assert filed.headers["Location"] == f"/api/v1/claims/{claim['claim_id']}" and filed.headers["ETag"] == '"1"'
    assert claim["status"] == "documents_pending" and len(claim["heirs"]) == 2
    # Membership was activated (today) after the death: shown, and no bar to filing.
    assert {r["condition"]: r["met"] for r in claim["eligibility"]} == {
        "membership_active_on_event_date": False, "clearance_recorded": False, "filed_within_days": True}
    assert "not active on 2026-10-01" in claim["eligibility"][0]["detail"]
    assert claim["eligibility"][0]["detail_code"] == "membership_not_active"  # for a reader in Bangla
    assert claim["eligibility"][0]["detail_args"]["on"] == "2026-10-01"

    desk.apply(document_event("uploaded", "DOC-1", "death_certificate"))
    desk.apply(document_event("rejected", "DOC-2", "passport_copy", reason="Name differs from the NID"))
    now = desk.get(claim["claim_id"]).json
    assert [(i["status"], i["reason"]) for i in now["checklist"]] == [
        ("uploaded", None), ("rejected", "Name differs from the NID"), ("missing", None)]
    assert now["status"] == "documents_pending"

    verify_all(desk)
    ready = desk.get(claim["claim_id"]).json
    assert ready["status"] == "under_review" and all(i["status"] == "verified" for i in ready["checklist"])
    assert desk.outbox_types()[-1] == "claims.claim.ready_for_review"
    last = desk.db.outbox.find_one({"type": "claims.claim.ready_for_review"})["envelope"]["data"]
    assert last == {"case_id": claim["claim_id"], "status": "under_review", "claim_type": "death_grant",
                    "document_ids": [f"DOC-{REF}-1", f"DOC-{REF}-2", f"DOC-{REF}-3"],
                    "migrant_reference": REF, "claimant_phone": "+8801712345601", "approved_amount": None}
    history = desk.http.get(f"/api/v1/claims/{claim['claim_id']}/history", headers=desk.headers()).json["items"]
    assert history[0]["type"] == "claims.claim.ready_for_review" and history[-1]["type"] == "claims.claim.submitted"
    assert len(history) == desk.db.outbox.count_documents({"envelope.subject.id": claim["claim_id"]})


def test_a_passport_verified_before_filing_ticks_its_item_at_once(desk):
    desk.apply(document_event("uploaded", "PASS-1", "passport_copy"))
    desk.apply(document_event("verified", "PASS-1", "passport_copy", version=2, reason=None))
    claim = desk.file().json
    passport = next(i for i in claim["checklist"] if i["doc_types"] == ["passport_copy"])
    assert (passport["status"], passport["document_id"]) == ("verified", "PASS-1")


def test_a_second_death_grant_for_the_same_worker_is_409_naming_the_first_and_leaves_nothing(desk):
    first = desk.file().json
    before = desk.stored()
    again = desk.file(death_grant(district="Dhaka"))
    assert again.status_code == 409 and again.json["existing_claim"] == first["claim_id"]
    assert first["claim_id"] in again.json["detail"]
    assert desk.stored() == before
    assert desk.file(death_grant(reference=OTHER)).status_code == 201  # another worker's is their own
    withdrawn = desk.step(first["claim_id"], "withdrawal", {"reason": "Filed against the wrong heirs"})
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    assert desk.file().status_code == 201  # a withdrawn claim no longer holds the place


def approved_claim(desk):
    claim = desk.file().json
    verify_all(desk)
    refused = desk.step(claim["claim_id"], "approval", {})
    assert refused.status_code == 422 and "eligibility_override" in refused.json["errors"]
    recommended = desk.step(claim["claim_id"], "approval", OVERRIDE)
    assert recommended.status_code == 200 and recommended.json["status"] == "recommended", recommended.json
    return claim["claim_id"], recommended


def test_approval_above_the_threshold_needs_a_second_officer(desk):
    claim_id, recommended = approved_claim(desk)
    assert recommended.json["approved_amount"] is None
    before = desk.stored()
    same = desk.step(claim_id, "approval", OVERRIDE)
    assert same.status_code == 403 and same.json["recommended_by"] == "welfare_officer-1"
    assert desk.stored() == before
    approved = desk.step(claim_id, "approval", {}, user="officer-2")
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert approved.json["approved_amount"] == 300000
    assert approved.json["decision"]["by"] == "welfare_officer-1"
    assert approved.json["decision"]["approved_by"] == "officer-2"
    decided = {row["type"]: row["envelope"]["data"]["approved_amount"] for row in desk.db.outbox.find(
        {"type": {"$in": ["claims.claim.recommended", "claims.claim.approved"]}})}
    assert decided == {"claims.claim.recommended": None, "claims.claim.approved": 300000}


def test_payments_beyond_the_approved_amount_are_refused_and_the_claim_is_paid_when_whole(desk):
    claim_id, _ = approved_claim(desk)
    desk.step(claim_id, "approval", {}, user="officer-2")
    assert desk.step(claim_id, "payment-order").json["status"] == "payment_ordered"
    pay = {"amount": 150000, "method": "bank", "account": "0001231", "reference": "BEFTN-0001", "heir_id": 1}
    assert desk.step(claim_id, "payments", pay).json["paid_total"] == 150000
    before = desk.stored()
    for refused, status in (({**pay, "heir_id": 2, "amount": 150001}, 409),   # beyond the approved amount
                            ({**pay, "heir_id": 1, "amount": 1, "reference": "BEFTN-0002"}, 409),  # beyond the share
                            ({**pay, "heir_id": 2}, 409)):                     # a reference already used
        answer = desk.step(claim_id, "payments", refused)
        assert answer.status_code == status, answer.json
    assert desk.stored() == before
    paid = desk.step(claim_id, "payments", {**pay, "heir_id": 2, "reference": "BEFTN-0003",
                                            "method": "mobile_wallet", "account": "01712345602"})
    assert (paid.json["status"], paid.json["paid_total"]) == ("paid", 300000)
    assert desk.outbox_types()[-1] == "claims.claim.paid"
    payments = [e["envelope"]["data"] for e in desk.db.outbox.find(
        {"type": {"$in": ["claims.claim.payment_recorded", "claims.claim.paid"]}}).sort("envelope.aggregate_version")]
    assert [(d["status"], d["approved_amount"], d["payment_amount"], d["paid_total"]) for d in payments] == [
        ("payment_ordered", 300000, 150000, 150000), ("paid", 300000, 150000, 300000)]
    assert desk.step(claim_id, "closure", {"note": "Both heirs confirmed by SMS"}).json["status"] == "closed"


def test_an_illegal_step_is_409_naming_the_allowed_ones_and_every_step_needs_if_match(desk):
    claim_id = desk.file().json["claim_id"]
    before = desk.stored()
    early = desk.step(claim_id, "payment-order")
    assert early.status_code == 409 and early.json["allowed"] == ["awaiting_information", "under_review", "withdrawn"]
    unpaid = desk.step(claim_id, "payments", {"amount": 1, "method": "bank", "account": "0001", "reference": "R-1",
                                              "heir_id": 1})
    assert unpaid.status_code == 409 and unpaid.json["claim_status"] == "documents_pending"
    missing = desk.http.post(f"/api/v1/claims/{claim_id}/closure", json={}, headers=desk.headers())
    assert missing.status_code == 428
    stale = desk.step(claim_id, "withdrawal", {"reason": "duplicate"}, if_match='"7"')
    assert stale.status_code == 412
    assert desk.stored() == before


@pytest.mark.parametrize("why, body, role, claims, status", [
    ("shares not adding up", death_grant(heirs=[heir(1, 1, 2), heir(2, 1, 3)]), "welfare_officer", {}, 422),
    ("a death without its country", death_grant(event={"date": "2026-10-01"}), "welfare_officer", {}, 422),
    ("heirs on a worker's own claim", {**death_grant(), "type": "legal_aid", "event": {"country": "SA"}},
     "welfare_officer", {}, 422),
    ("an unknown migrant", death_grant(reference="PB-ZZZZ-ZZZZ"), "welfare_officer", {}, 404),
    ("an unknown type", {**death_grant(), "type": "lottery"}, "welfare_officer", {}, 422),
    ("a migrant filing a death grant", death_grant(), "migrant", {"migrant_ref": REF}, 403),
    ("a migrant filing for someone else", {"type": "medical_aid", "migrant_reference": OTHER, "district": "Dhaka",
                                           "event": {"date": "2026-10-01", "requested_amount": 5000}},
     "migrant", {"migrant_ref": REF}, 403),
    ("a legal aid officer", death_grant(), "legal_aid", {}, 403),
])
def test_every_refusal_leaves_nothing_behind(desk, why, body, role, claims, status):
    before = desk.stored()
    answer = desk.file(body, role=role, **claims)
    assert answer.status_code == status, (why, answer.json)
    assert answer.mimetype == "application/problem+json"
    assert desk.stored() == before


def test_a_migrant_files_their_own_medical_aid_and_sees_only_their_own_claims(desk):
    mine = desk.file({"type": "medical_aid", "migrant_reference": REF, "district": "Dhaka",
                      "event": {"date": "2026-10-01", "requested_amount": 5000}}, role="migrant", migrant_ref=REF)
    assert mine.status_code == 201, mine.json
    theirs = desk.file(death_grant(reference=OTHER)).json
    assert desk.get(mine.json["claim_id"], "migrant", migrant_ref=REF).status_code == 200
    assert desk.get(theirs["claim_id"], "migrant", migrant_ref=REF).status_code == 404
    listed = desk.http.get("/api/v1/claims", headers=desk.headers("migrant", migrant_ref=REF)).json["items"]
    assert [c["claim_id"] for c in listed] == [mine.json["claim_id"]]
    assert desk.db.audit.count_documents({"subject_id": theirs["claim_id"]}) == 0
    desk.get(theirs["claim_id"])
    assert desk.db.audit.find_one({"subject_id": theirs["claim_id"], "action": "read"})["actor"]["role"] == \
        "welfare_officer"


def test_a_udc_operator_files_on_someones_behalf_with_the_centre_recorded(desk):
    filed = desk.file(death_grant(), role="udc_operator")
    assert filed.status_code == 201 and filed.json["filed_by"]["udc_centre"] == "UDC Daudkandi"


def test_the_queue_filters_and_pages(desk):
    ids = [desk.file(death_grant(reference=ref, district=district)).json["claim_id"]
           for ref, district in ((REF, "Cumilla"), (OTHER, "Sylhet"))]
    desk.step(ids[0], "assignment", {"officer": "officer-7"})
    by = lambda query: [c["claim_id"] for c in desk.http.get(f"/api/v1/claims?{query}",  # noqa: E731
                                                               headers=desk.headers()).json["items"]]
    assert by("district=Sylhet") == [ids[1]]
    assert by("assignee=officer-7") == [ids[0]]
    assert by("status=documents_pending&type=death_grant") == list(reversed(ids))
    first = desk.http.get("/api/v1/claims?limit=1", headers=desk.headers()).json
    second = desk.http.get(f"/api/v1/claims?limit=1&cursor={first['next_cursor']}", headers=desk.headers()).json
    assert [c["claim_id"] for c in first["items"] + second["items"]] == list(reversed(ids))
    assert second["next_cursor"] is None


def test_documents_verified_in_the_vault_reach_the_claim_and_the_vault_holds_them_while_it_is_open(infra, desk):
    """Real processes of both services talking through RabbitMQ: the documents API and
    relay, the claims consumer and relay, the documents consumer (legal hold)."""
    vault_settings = infra.settings("documents")
    vault = documents_api.create(vault_settings, configure_logging=False).test_client()
    vault_uow = documents_uow(vault_settings)
    documents_consumer.process(vault_uow, registration_event("registered", REF, 1))
    for settings, consumer, uow in ((desk.settings, claims_consumer, desk.uow),
                                    (vault_settings, documents_consumer, vault_uow)):
        worker = Worker(consumer, uow, settings)
        infra.background(worker, worker.run)
        assert worker.ready.wait(15)
    for settings in (desk.settings, vault_settings):
        relay = Relay(OutboxStore(mongo.database(settings)), settings)
        infra.background(relay, relay.run)

    claim_id = desk.file().json["claim_id"]
    officer = {"Authorization": "Bearer " + issue_token(vault_settings, subject="officer-1", role="welfare_officer")}
    admin = {"Authorization": "Bearer " + issue_token(vault_settings, subject="admin-1", role="admin")}
    documents = []
    for doc_type in ("death_certificate", "passport_copy", "heirship_certificate"):
        uploaded = vault.post("/api/v1/documents", content_type="multipart/form-data", headers=officer,
                              data={"owner": REF, "doc_type": doc_type, "file": (io.BytesIO(PDF), "d.pdf")})
        assert uploaded.status_code == 201, uploaded.json
        documents.append(uploaded.json["document_id"])
        verified = vault.post(f"/api/v1/documents/{documents[-1]}/verification", headers=officer,
                              json={"decision": "verified", "version": 1})
        assert verified.status_code == 200, verified.json
    wait_for(lambda: desk.get(claim_id).json["status"] == "under_review", 30,
             lambda: f"the claim did not move to review: {desk.get(claim_id).json['checklist']}")

    vault_db = mongo.database(vault_settings)
    wait_for(lambda: (vault_db.cases.find_one({"_id": claim_id}) or {}).get("document_ids") == documents, 30,
             "the vault did not learn which documents the claim relies on")
    reason = {"reason": "Uploaded against the wrong migrant"}
    held = vault.delete(f"/api/v1/documents/{documents[0]}", json=reason, headers=admin)
    assert held.status_code == 409 and held.json["holds"] == [claim_id]

    desk.step(claim_id, "withdrawal", {"reason": "The family withdrew"})
    desk.step(claim_id, "closure", {})
    wait_for(lambda: (vault_db.cases.find_one({"_id": claim_id}) or {}).get("status") == "closed", 30,
             "the vault did not learn the claim closed")
    assert vault.delete(f"/api/v1/documents/{documents[0]}", json=reason, headers=admin).status_code == 204


@pytest.mark.parametrize("filters", [{}, {"status": "under_review"}, {"type": "death_grant"},
                                     {"district": "Cumilla"}, {"assignee": "officer-7"},
                                     {"migrant_reference": REF}])
def test_every_queue_filter_and_a_later_page_are_served_by_an_index(desk, filters):
    for after in (None, [datetime(2026, 11, 1, tzinfo=timezone.utc), "CLM-2026-ZZZZZZZZ"]):
        plans = json.dumps(ClaimRepository(desk.db).explain_search(filters, after), default=str)
        assert "COLLSCAN" not in plans and "IXSCAN" in plans, (filters, plans)


def test_a_claim_id_drawn_twice_is_drawn_again(desk):
    ids = iter(["CLM-2026-AAAAAAAA", "CLM-2026-AAAAAAAA", "CLM-2026-BBBBBBBB"])
    service = claims_bootstrap.build(desk.settings)
    service.make_id = lambda: next(ids)
    first = service.file(OFFICER, {"type": "legal_aid", "migrant_reference": REF, "district": "Cumilla",
                                   "event": {"country": "SA"}})
    second = service.file(OFFICER, {"type": "legal_aid", "migrant_reference": REF, "district": "Cumilla",
                                    "event": {"country": "SA"}})
    assert (first["claim_id"], second["claim_id"]) == ("CLM-2026-AAAAAAAA", "CLM-2026-BBBBBBBB")


def test_a_clearance_registration_publishes_after_filing_is_reflected_in_the_claims_eligibility(desk):
    claim = desk.file().json
    assert {r["condition"]: r["met"] for r in claim["eligibility"]}["clearance_recorded"] is False
    desk.apply(registration_event("step_recorded", REF, 3, step="emigration_clearance", date="2024-12-01",
                                  by={"user": "o", "role": "welfare_officer"}))
    now = desk.get(claim["claim_id"]).json
    assert {r["condition"]: r["met"] for r in now["eligibility"]}["clearance_recorded"] is True
    assert now["version"] == 2 and desk.outbox_types()[-1] == "claims.claim.eligibility_updated"
