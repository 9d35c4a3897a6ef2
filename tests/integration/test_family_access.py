"""A family member's token sees the cases it names, and nothing else (issue 10), against
the real database and broker: the worker is registered through registration's API, and
claims, complaints and documents learn of them through RabbitMQ.

A death-grant heir reads the claim they are heir to and its history, lists exactly it, and
gets 404 for the worker's other claim; a family complainant likewise for their complaint.
Neither reaches the worker's registration record or documents (403), nor takes any step
(403). Staff and migrant reads are as before, and only staff reads are audited."""
from __future__ import annotations

import io

import pytest

from services.claims import api as claims_api
from services.claims.bootstrap import unit_of_work as claims_uow
from services.claims.consumer import consumer as claims_consumer
from services.claims.schemas import ClaimSchema
from services.complaints import api as complaints_api
from services.complaints.bootstrap import unit_of_work as complaints_uow
from services.complaints.consumer import consumer as complaints_consumer
from services.complaints.schemas import ComplaintSchema
from services.documents import api as documents_api
from services.documents.bootstrap import unit_of_work as documents_uow
from services.documents.consumer import consumer as documents_consumer
from services.registration import api as registration_api
from shared import mongo
from shared.auth import issue_token
from shared.consumer import Worker
from shared.outbox import OutboxStore
from shared.relay import Relay

from tests.waiting import wait_for

pytestmark = pytest.mark.integration

WORKER = {"name_en": "Karim Mia", "name_bn": "করিম মিয়া", "date_of_birth": "1990-07-15", "sex": "male",
          "nid": "1234567890123", "passport_number": "EA1234567", "phone": "+8801812345678",
          "district": "Sylhet", "upazila": "Beanibazar", "destination_country": "QA", "occupation": "Driver"}
HEIR_PHONE, SISTER_PHONE = "+8801711000001", "+8801911000002"
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 50


def heir(n, phone):
    return {"name_en": f"Heir {n}", "name_bn": f"ওয়ারিশ {n}", "relation": "son", "nid": f"19901234567{n:02d}",
            "phone": phone, "share": {"numerator": 1, "denominator": 2},
            "payout": {"method": "mobile_wallet", "provider": "bKash", "account_number": f"0171100000{n}"}}


def complaint(reference, complainant):
    return {"complainant": {"migrant_reference": reference, **complainant}, "channel": "udc",
            "category": "unpaid_wages", "amount_claimed": 250000, "district": "Sylhet",
            "respondents": [{"kind": "recruiting_agency", "name": "Example Overseas", "licence": "RL-1234"}],
            "narrative": "Eight months of wages were never paid by the employer."}


class Client:
    """One service's API in process, called with a token for a role."""

    def __init__(self, app, settings):
        self.http, self.settings = app.test_client(), settings

    def headers(self, role, subject=None, if_match=None, **claims):
        token = issue_token(self.settings, subject=subject or f"{role}-1", role=role, **claims)
        return {"Authorization": f"Bearer {token}", **({"If-Match": if_match} if if_match else {})}

    def get(self, path, role="welfare_officer", **claims):
        return self.http.get(f"/api/v1{path}", headers=self.headers(role, **claims))

    def post(self, path, body=None, role="welfare_officer", if_match=None, **claims):
        return self.http.post(f"/api/v1{path}", json=body if body is not None else {},
                              headers=self.headers(role, if_match=if_match, **claims))


class World:
    """Registration, claims, complaints and documents, with the worker registered through
    registration's API and known to the others through the broker."""

    def __init__(self, infra):
        self.settings = {name: infra.settings(name) for name in ("registration", "claims", "complaints", "documents")}
        self.registration = Client(registration_api.create(self.settings["registration"], configure_logging=False),
                                   self.settings["registration"])
        self.claims = Client(claims_api.create(self.settings["claims"], configure_logging=False),
                             self.settings["claims"])
        self.complaints = Client(complaints_api.create(self.settings["complaints"], configure_logging=False),
                                 self.settings["complaints"])
        self.documents = Client(documents_api.create(self.settings["documents"], configure_logging=False),
                                self.settings["documents"])
        for name, consumer, uow in (("claims", claims_consumer, claims_uow), ("complaints", complaints_consumer,
                                                                             complaints_uow),
                                    ("documents", documents_consumer, documents_uow)):
            worker = Worker(consumer, uow(self.settings[name]), self.settings[name])
            infra.background(worker, worker.run)
            assert worker.ready.wait(15), f"the {name} consumer did not start"
        relay = Relay(OutboxStore(mongo.database(self.settings["registration"])), self.settings["registration"])
        infra.background(relay, relay.run)

        registered = self.registration.post("/migrants", WORKER)
        assert registered.status_code == 201, registered.json
        self.reference = registered.json["reference"]
        for name, learned in (("claims", "migrants"), ("complaints", "migrants"), ("documents", "owners")):
            collection = self.db(name)[learned]
            wait_for(lambda: collection.find_one({"_id": self.reference}) is not None, 30,
                     f"the {name} service did not learn of the registered worker")

    def db(self, service):
        return mongo.database(self.settings[service])

    def audited(self, service) -> int:
        return self.db(service).audit.count_documents({})


@pytest.fixture
def world(infra):
    return World(infra)


def test_an_heirs_token_sees_the_death_grant_claim_they_are_heir_to_and_not_the_workers_other_records(world):
    ref = world.reference
    grant = world.claims.post("/claims", {"type": "death_grant", "migrant_reference": ref, "district": "Sylhet",
                                          "event": {"date": "2026-10-01", "country": "QA"},
                                          "heirs": [heir(1, HEIR_PHONE), heir(2, "+8801711000003")]})
    assert grant.status_code == 201, grant.json
    grant = grant.json
    assert grant["claimant_phone"] == HEIR_PHONE  # the phone the heir signs in with (identity learns it)
    medical = world.claims.post("/claims", {"type": "medical_aid", "migrant_reference": ref, "district": "Sylhet",
                                            "event": {"date": "2026-10-01", "requested_amount": 5000}})
    assert medical.status_code == 201, medical.json
    medical = medical.json
    worker_complaint = world.complaints.post("/complaints", complaint(ref, {"name": "Karim Mia",
                                                                            "phone": WORKER["phone"]}),
                                             role="legal_aid")
    assert worker_complaint.status_code == 201, worker_complaint.json
    document = world.documents.http.post(
        "/api/v1/documents", content_type="multipart/form-data", headers=world.documents.headers("welfare_officer"),
        data={"owner": ref, "doc_type": "death_certificate", "file": (io.BytesIO(PDF), "d.pdf")})
    assert document.status_code == 201, document.json
    document_id = document.json["document_id"]

    family = {"role": "family", "subject": f"family:{HEIR_PHONE}", "cases": [grant["claim_id"], "CLM-2026-NOTFILED"]}
    audited = world.audited("claims")
    read = world.claims.get(f"/claims/{grant['claim_id']}", **family)
    assert read.status_code == 200 and read.json["claim_id"] == grant["claim_id"] and read.headers["ETag"] == '"1"'
    history = world.claims.get(f"/claims/{grant['claim_id']}/history", **family)
    assert history.status_code == 200 and [e["type"] for e in history.json["items"]] == ["claims.claim.submitted"]
    listed = world.claims.get("/claims", **family)
    assert listed.status_code == 200 and [c["claim_id"] for c in listed.json["items"]] == [grant["claim_id"]]
    assert [c["claim_id"] for c in world.claims.get(f"/claims?migrant_reference={ref}&limit=1",
                                                    **family).json["items"]] == [grant["claim_id"]]
    assert world.audited("claims") == audited  # a family member's reads are not staff reads

    # The worker's other records: as if they did not exist, or not for this sign-in.
    for other in (f"/claims/{medical['claim_id']}", f"/claims/{medical['claim_id']}/history"):
        missing = world.claims.get(other, **family)
        assert missing.status_code == 404 and "No claim with that number" in missing.json["detail"]
    assert world.complaints.get(f"/complaints/{worker_complaint.json['complaint_id']}", **family).status_code == 404
    assert world.complaints.get("/complaints", **family).json["items"] == []
    for service, path in ((world.registration, f"/migrants/{ref}"), (world.registration, f"/migrants/{ref}/history"),
                          (world.registration, "/migrants"), (world.documents, f"/migrants/{ref}/documents"),
                          (world.documents, f"/documents/{document_id}"),
                          (world.documents, f"/documents/{document_id}/content"),
                          (world.claims, "/queue"), (world.claims, "/claim-reports")):
        refused = service.get(path, **family)
        assert refused.status_code == 403, (path, refused.status_code)

    # No step, note or filing, even with the claim's current ETag.
    claim_path = f"/claims/{grant['claim_id']}"
    for rule, body in (("withdrawal", {"reason": "We no longer need it"}), ("closure", {}),
                       ("information-received", {}), ("notes", {"text": "Please hurry"})):
        refused = world.claims.post(f"{claim_path}/{rule}", body, if_match='"1"', **family)
        assert refused.status_code == 403, (rule, refused.json)
    assert world.claims.post("/claims", {"type": "medical_aid", "migrant_reference": ref}, **family).status_code \
        == 403
    assert world.claims.get(claim_path).json["version"] == 1

    # Staff and the migrant read as before; staff reads are audited.
    assert world.claims.get(claim_path).status_code == 200
    assert world.db("claims").audit.find_one({"subject_id": grant["claim_id"], "action": "read"})["actor"] == {
        "user": "welfare_officer-1", "role": "welfare_officer"}
    own = {"role": "migrant", "migrant_ref": ref}
    assert {c["claim_id"] for c in world.claims.get("/claims", **own).json["items"]} == {
        grant["claim_id"], medical["claim_id"]}
    assert world.claims.get(f"/claims/{medical['claim_id']}", **own).status_code == 200
    assert world.registration.get(f"/migrants/{ref}", **own).status_code == 200


def test_a_family_complainants_token_sees_their_complaint_and_not_the_workers_own(world):
    ref = world.reference
    theirs = world.complaints.post("/complaints", complaint(ref, {"name": "Amena Begum", "phone": SISTER_PHONE,
                                                                  "relation": "family"}), role="legal_aid")
    assert theirs.status_code == 201, theirs.json
    theirs = theirs.json
    workers = world.complaints.post("/complaints", complaint(ref, {"name": "Karim Mia", "phone": WORKER["phone"]}),
                                    role="legal_aid").json
    grant = world.claims.post("/claims", {"type": "death_grant", "migrant_reference": ref, "district": "Sylhet",
                                          "event": {"date": "2026-10-01", "country": "QA"},
                                          "heirs": [heir(1, HEIR_PHONE), heir(2, "+8801711000003")]}).json

    family = {"role": "family", "subject": f"family:{SISTER_PHONE}", "cases": [theirs["complaint_id"]]}
    audited = world.audited("complaints")
    path = f"/complaints/{theirs['complaint_id']}"
    read = world.complaints.get(path, **family)
    assert read.status_code == 200 and read.json["complainant"]["phone"] == SISTER_PHONE
    history = world.complaints.get(f"{path}/history", **family)
    assert history.status_code == 200 and [e["type"] for e in history.json["items"]] == [
        "complaints.complaint.received"]
    listed = world.complaints.get("/complaints", **family)
    assert listed.status_code == 200 and [c["complaint_id"] for c in listed.json["items"]] == [theirs["complaint_id"]]
    assert world.complaints.get(f"{path}/related", **family).json["items"] == []  # the worker's own is not theirs
    assert world.audited("complaints") == audited

    for other in (f"/complaints/{workers['complaint_id']}", f"/complaints/{workers['complaint_id']}/history"):
        assert world.complaints.get(other, **family).status_code == 404, other
    assert world.claims.get(f"/claims/{grant['claim_id']}", **family).status_code == 404
    assert world.claims.get("/claims", **family).json["items"] == []
    for service, where in ((world.registration, f"/migrants/{ref}"), (world.documents, f"/migrants/{ref}/documents"),
                           (world.complaints, "/queue")):
        assert service.get(where, **family).status_code == 403, where

    for rule, body in (("withdrawal", {"reason": "Paid in the end"}), ("scrutiny", {}),
                       ("closure", {"note": "Settled"})):
        refused = world.complaints.post(f"{path}/{rule}", body, if_match='"1"', **family)
        assert refused.status_code == 403, (rule, refused.json)
    assert world.complaints.post("/complaints", complaint(ref, {"name": "Amena Begum", "phone": SISTER_PHONE,
                                                                 "relation": "family"}), **family).status_code == 403
    assert world.complaints.get(path, role="legal_aid").json["version"] == 1

    # Staff and the migrant read as before; staff reads are audited.
    assert world.complaints.get(path, role="legal_aid").status_code == 200
    assert world.db("complaints").audit.count_documents({"subject_id": theirs["complaint_id"], "action": "read",
                                                         "actor.role": "legal_aid"}) >= 1
    own = {"role": "migrant", "migrant_ref": ref}
    assert {c["complaint_id"] for c in world.complaints.get("/complaints", **own).json["items"]} == {
        theirs["complaint_id"], workers["complaint_id"]}


def test_one_token_may_name_claims_and_a_complaint_each_service_shows_its_own_page_by_page(world):
    ref = world.reference
    grant = world.claims.post("/claims", {"type": "death_grant", "migrant_reference": ref, "district": "Sylhet",
                                          "event": {"date": "2026-10-01", "country": "QA"},
                                          "heirs": [heir(1, HEIR_PHONE), heir(2, "+8801711000003")]}).json
    medical = world.claims.post("/claims", {"type": "medical_aid", "migrant_reference": ref, "district": "Sylhet",
                                            "event": {"date": "2026-10-01", "requested_amount": 5000}}).json
    theirs = world.complaints.post("/complaints", complaint(ref, {"name": "Heir 1", "phone": HEIR_PHONE,
                                                                  "relation": "family"}), role="legal_aid").json
    family = {"role": "family", "subject": f"family:{HEIR_PHONE}",
              "cases": [theirs["complaint_id"], grant["claim_id"], medical["claim_id"]]}
    first = world.claims.get("/claims?limit=1", **family).json
    assert [c["claim_id"] for c in first["items"]] == [medical["claim_id"]] and first["next_cursor"]
    rest = world.claims.get(f"/claims?limit=1&cursor={first['next_cursor']}", **family).json
    assert [c["claim_id"] for c in rest["items"]] == [grant["claim_id"]] and rest["next_cursor"] is None
    assert [c["complaint_id"] for c in world.complaints.get("/complaints", **family).json["items"]] == [
        theirs["complaint_id"]]


# -- what a family member's token shows of a case (services/claims/views.py, services/complaints/views.py) --

OTHER_HEIR = heir(2, "+8801711000003")
OFFICERS_NOTE = "The second wife disputes the share"


def serialised(*answers) -> str:
    return "\n".join(answer.get_data(as_text=True) for answer in answers)


def claim_step(world, claim_id, rule, body, subject="welfare_officer-1"):
    etag = world.claims.get(f"/claims/{claim_id}").headers["ETag"]
    answer = world.claims.post(f"/claims/{claim_id}/{rule}", body, if_match=etag, subject=subject)
    assert answer.status_code in (200, 201), (rule, answer.json)
    return answer.json


def paid_death_grant(world) -> dict:
    """A death grant with two heirs, its documents verified, an officer's note, assigned,
    approved (recommended and approved by two officers) and paid to both heirs."""
    from services.claims.consumer import consumer
    from shared.events import Envelope

    ref = world.reference
    filed = world.claims.post("/claims", {"type": "death_grant", "migrant_reference": ref, "district": "Sylhet",
                                          "event": {"date": "2026-10-01", "country": "QA"},
                                          "heirs": [heir(1, HEIR_PHONE), OTHER_HEIR],
                                          "note": "Filed at the airport welfare desk"})
    assert filed.status_code == 201, filed.json
    claim_id = filed.json["claim_id"]
    uow = claims_uow(world.settings["claims"])
    for n, doc_type in enumerate(("death_certificate", "passport_copy", "heirship_certificate"), start=1):
        for version, action in ((1, "uploaded"), (2, "verified")):
            consumer.process(uow, Envelope.new(
                type=f"documents.document.{action}", source="documents", subject_type="document",
                subject_id=f"DOC-FAMILY-{n}", aggregate_version=version,
                data={"document_id": f"DOC-FAMILY-{n}", "owner": ref, "doc_type": doc_type, "reason": None}))
    assert world.claims.get(f"/claims/{claim_id}").json["status"] == "under_review"
    world.claims.post(f"/claims/{claim_id}/notes", {"text": OFFICERS_NOTE}, subject="officer-notes")
    claim_step(world, claim_id, "assignment", {"officer": "officer-assigned"})
    approval = {"eligibility_override": "Membership confirmed with the welfare desk"}
    if claim_step(world, claim_id, "approval", approval)["status"] == "recommended":
        claim_step(world, claim_id, "approval", {}, subject="officer-second")
    claim_step(world, claim_id, "payment-order", {})
    for n, beneficiary in enumerate((heir(1, HEIR_PHONE), OTHER_HEIR), start=1):
        claim_step(world, claim_id, "payments", {"amount": 150000, "method": "mobile_wallet", "heir_id": n,
                                                 "account": beneficiary["payout"]["account_number"],
                                                 "reference": f"BKASH-TRX-{n}"})
    paid = world.claims.get(f"/claims/{claim_id}").json
    assert paid["status"] == "paid", paid["status"]
    return paid


def test_an_heirs_token_never_shows_the_other_heirs_nid_account_or_phone_while_staff_and_the_migrant_see_them(
        world):
    claim = paid_death_grant(world)
    claim_id, ref = claim["claim_id"], world.reference
    family = {"role": "family", "subject": f"family:{HEIR_PHONE}", "cases": [claim_id]}
    answers = [world.claims.get(f"/claims/{claim_id}", **family), world.claims.get("/claims", **family),
               world.claims.get(f"/claims?migrant_reference={ref}", **family),
               world.claims.get(f"/claims/{claim_id}/history", **family)]
    assert all(answer.status_code == 200 for answer in answers), [a.status_code for a in answers]
    seen = serialised(*answers)
    others = (OTHER_HEIR["nid"], OTHER_HEIR["payout"]["account_number"], OTHER_HEIR["phone"], "BKASH-TRX-2")
    staff = ("welfare_officer-1", "officer-notes", "officer-assigned", "officer-second", OFFICERS_NOTE,
             "Filed at the airport welfare desk")
    for hidden in (*others, *staff):
        assert hidden not in seen, hidden

    # What the heir needs is there: where it stands, what was approved, what they were paid.
    read = answers[0].json
    assert (read["status"], read["approved_amount"], read["paid_total"]) == ("paid", 300000, 300000)
    mine, other = read["heirs"]
    assert mine["nid"] == heir(1, HEIR_PHONE)["nid"] and set(other) == {"heir_id", "name_en", "name_bn", "share"}
    assert [p.get("account") for p in read["payments"]] == [heir(1, HEIR_PHONE)["payout"]["account_number"], None]
    assert {c["doc_types"][0] for c in read["checklist"]} >= {"death_certificate"}
    assert answers[0].headers["ETag"] == f'"{read["version"]}"'
    assert [e["summary"] for e in answers[3].json["items"]][-1] == "Claim filed"
    # What the OpenAPI document states of a claim holds for the narrowed one too.
    assert ClaimSchema().validate(read) == {} and ClaimSchema().validate(world.claims.get(f"/claims/{claim_id}").json) \
        == {}

    # The other heir's own token shows them their own, and not the first heir's.
    theirs = serialised(world.claims.get(f"/claims/{claim_id}", role="family", subject=f"family:{OTHER_HEIR['phone']}",
                                         cases=[claim_id]))
    assert OTHER_HEIR["nid"] in theirs and heir(1, HEIR_PHONE)["nid"] not in theirs

    # Staff and the migrant read the whole record.
    for reader in ({}, {"role": "migrant", "migrant_ref": ref}):
        whole = serialised(world.claims.get(f"/claims/{claim_id}", **reader), world.claims.get("/claims", **reader))
        for shown in (*others, OFFICERS_NOTE, "officer-assigned"):
            assert shown in whole, (reader, shown)


def test_a_family_complainants_token_shows_no_staff_ids_notes_or_a_confidential_narrative(world):
    ref = world.reference
    sister = {"name": "Amena Begum", "phone": SISTER_PHONE, "relation": "family"}
    open_one = world.complaints.post("/complaints", complaint(ref, sister), role="legal_aid",
                                     subject="legal-intake").json
    confidential = world.complaints.post("/complaints", {**complaint(ref, sister), "restricted": True,
                                                         "narrative": "What happened at the employer's house"},
                                         role="legal_aid", subject="legal-intake").json
    path = f"/complaints/{open_one['complaint_id']}"
    for rule, body in (("assignment", {"assignee": "legal-assigned"}), ("scrutiny", {}),
                       ("acknowledgement", {"committee": ["Committee Member Rahman"]})):
        etag = world.complaints.get(path, role="legal_aid").headers["ETag"]
        answer = world.complaints.post(f"{path}/{rule}", body, role="legal_aid", if_match=etag,
                                       subject="legal-assigned")
        assert answer.status_code == 200, (rule, answer.json)

    family = {"role": "family", "subject": f"family:{SISTER_PHONE}",
              "cases": [open_one["complaint_id"], confidential["complaint_id"]]}
    answers = [world.complaints.get(path, **family), world.complaints.get("/complaints", **family),
               world.complaints.get(f"{path}/history", **family), world.complaints.get(f"{path}/related", **family),
               world.complaints.get(f"/complaints/{confidential['complaint_id']}", **family)]
    assert all(answer.status_code == 200 for answer in answers), [a.status_code for a in answers]
    seen = serialised(*answers)
    for hidden in ("legal-intake", "legal-assigned", "Committee Member Rahman",
                   "What happened at the employer's house"):
        assert hidden not in seen, hidden
    read = answers[0].json
    assert read["status"] == "acknowledged" and read["complainant"]["phone"] == SISTER_PHONE
    assert read["narrative"] == complaint(ref, sister)["narrative"] and "assignee" not in read
    assert "narrative" not in answers[4].json and answers[4].json["restricted"] is True
    assert ComplaintSchema().validate(read) == {} and ComplaintSchema().validate(answers[4].json) == {}
    assert {c["complaint_id"] for c in answers[1].json["items"]} == {open_one["complaint_id"],
                                                                     confidential["complaint_id"]}

    # Staff read the whole record.
    whole = serialised(world.complaints.get(path, role="legal_aid"),
                       world.complaints.get(f"/complaints/{confidential['complaint_id']}", role="admin"))
    for shown in ("legal-intake", "legal-assigned", "Committee Member Rahman", "What happened at the employer's house"):
        assert shown in whole, shown


def test_an_heir_adds_a_paper_to_the_claim_they_are_heir_to_and_nowhere_else(world, infra):
    """The vault learns each case's migrant from the claims' events (through the broker); an heir's
    token adds a document for that migrant with the case named, and is refused anything else."""
    relay = Relay(OutboxStore(mongo.database(world.settings["claims"])), world.settings["claims"])
    infra.background(relay, relay.run)
    ref = world.reference
    grant = world.claims.post("/claims", {"type": "death_grant", "migrant_reference": ref, "district": "Sylhet",
                                          "event": {"date": "2026-10-01", "country": "QA"},
                                          "heirs": [heir(1, HEIR_PHONE), heir(2, "+8801711000003")]}).json
    other = world.registration.post("/migrants", {**WORKER, "nid": "9876543210", "passport_number": "EB7654321",
                                                  "phone": "+8801912345678"}).json["reference"]
    cases = world.db("documents").cases
    wait_for(lambda: (cases.find_one({"_id": grant["claim_id"]}) or {}).get("owner") == ref, 30,
             "the vault did not learn the claim's migrant")
    family = world.documents.headers("family", subject=f"family:{HEIR_PHONE}", cases=[grant["claim_id"]])

    def send(**fields):
        return world.documents.http.post("/api/v1/documents", content_type="multipart/form-data", headers=family,
                                         data={"owner": ref, "doc_type": "death_certificate",
                                               "file": (io.BytesIO(PDF), "death.pdf"), **fields})

    added = send(case_id=grant["claim_id"])
    assert added.status_code == 201, added.json
    assert added.json["owner"] == ref and added.json["versions"][0]["uploaded_by"]["role"] == "family"
    assert send().status_code == 403  # no case named
    assert send(case_id=grant["claim_id"], owner=other).status_code == 403  # their case, another's records
    assert send(case_id="CLM-2026-NOTFILED").status_code == 403  # a case the vault does not know
    assert world.db("documents").documents.count_documents({"owner": ref}) == 1
    listed = world.documents.http.get(f"/api/v1/migrants/{ref}/documents", headers=family)
    assert listed.status_code == 403  # reading stays closed to family sign-ins
