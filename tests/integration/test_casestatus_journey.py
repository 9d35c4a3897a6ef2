"""A migrant's case status end to end (issue 11), on the real broker and database: every step
taken through the real services' APIs (in process), their relays publishing, their consumers
learning of each other, and the case-status consumer (the module `python -m
services.casestatus.consumer` runs, in a worker thread so its clock can be set) writing the
timeline and queuing the SMS, which the sender sends.

A migrant is registered (registration); her medical report is uploaded and rejected
(documents); a medical aid claim is filed, its papers verified, approved and paid (claims);
a relative files a complaint for her and a hearing is scheduled (complaints). Her timeline
reads in both languages, in Dhaka's time and Bangla digits, with what happens next in each
open case; one SMS per event and recipient, to the right phones; an event delivered twice
adds nothing; the payment made at night is held until eight in the morning."""
from __future__ import annotations

import io
import logging
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.casestatus import api as casestatus_api
from services.casestatus import bootstrap as casestatus_bootstrap
from services.casestatus import consumer as casestatus_consumer
from services.casestatus.notification_repository import stores
from services.casestatus.sender import Sender, SenderConfig
from services.claims import api as claims_api
from services.claims.bootstrap import unit_of_work as claims_uow
from services.claims.consumer import consumer as claims_consumer
from services.complaints import api as complaints_api
from services.complaints.bootstrap import unit_of_work as complaints_uow
from services.complaints.consumer import consumer as complaints_consumer
from services.documents import api as documents_api
from services.documents.bootstrap import unit_of_work as documents_uow
from services.documents.consumer import consumer as documents_consumer
from services.registration import api as registration_api
from shared import mongo
from shared.auth import issue_token
from shared.consumer import Worker
from shared.events import Envelope
from shared.outbox import OutboxStore
from shared.relay import Relay
from shared.sms import DevSms, read_outbox
from tests.consumer_probe import publish
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

DHAKA = timezone(timedelta(hours=6))
MIGRANT_PHONE, RELATIVE_PHONE = "+8801712345678", "+8801811000002"
WORKER = {"name_en": "Rahima Akter", "name_bn": "রহিমা আক্তার", "date_of_birth": "1995-04-12", "sex": "female",
          "nid": "1995123456789", "passport_number": "BX0123456", "phone": "01712-345678", "district": "Cumilla",
          "upazila": "Daudkandi", "destination_country": "SA", "occupation": "Domestic worker"}
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 20
BN_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
MONTHS_BN = ["জানুয়ারি", "ফেব্রুয়ারি", "মার্চ", "এপ্রিল", "মে", "জুন", "জুলাই", "আগস্ট", "সেপ্টেম্বর", "অক্টোবর",
             "নভেম্বর", "ডিসেম্বর"]


def day_text(on: date, lang: str) -> str:
    if lang == "bn":
        return f"{on.day} {MONTHS_BN[on.month - 1]} {on.year}".translate(BN_DIGITS)
    return f"{on.day} {MONTHS_EN[on.month - 1]} {on.year}"


def when_text(at: str, lang: str) -> str:
    """What a reader in Dhaka sees for an instant the API answered (UTC)."""
    local = datetime.fromisoformat(at).astimezone(DHAKA)
    clock = local.strftime("%H:%M")
    return f"{day_text(local.date(), lang)}, {clock.translate(BN_DIGITS) if lang == 'bn' else clock}"


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def bearer(token: str, if_match: str | None = None) -> dict:
    return {"Authorization": f"Bearer {token}", **({"If-Match": if_match} if if_match else {})}


class World:
    """The five services' APIs in process, their relays and consumers on the broker."""

    def __init__(self, infra, clock: Clock):
        names = ("registration", "documents", "claims", "complaints", "casestatus")
        self.settings = {name: infra.settings(name) for name in names}
        s = self.settings
        casestatus_uow = casestatus_bootstrap.unit_of_work(s["casestatus"])
        for consumer, uow, settings in ((casestatus_consumer.consumer, casestatus_uow, s["casestatus"]),
                                        (documents_consumer, documents_uow(s["documents"]), s["documents"]),
                                        (claims_consumer, claims_uow(s["claims"]), s["claims"]),
                                        (complaints_consumer, complaints_uow(s["complaints"]), s["complaints"])):
            worker = Worker(consumer, uow, settings)
            infra.background(worker, worker.run)
            assert worker.ready.wait(15), f"{settings.service}'s consumer did not start"
        for name in names[:4]:
            relay = Relay(OutboxStore(mongo.database(s[name])), s[name])
            infra.background(relay, relay.run)
        self.registration = registration_api.create(s["registration"], configure_logging=False).test_client()
        self.documents = documents_api.create(s["documents"], configure_logging=False).test_client()
        self.claims = claims_api.create(s["claims"], configure_logging=False).test_client()
        self.complaints = complaints_api.create(s["complaints"], configure_logging=False).test_client()
        self.casestatus = casestatus_api.create(s["casestatus"], configure_logging=False).test_client()
        self.db = {name: mongo.database(s[name]) for name in names}
        self.clock = clock
        self.officer = self.token("welfare_officer")
        self.lawyer = self.token("legal_aid")

    def token(self, role: str, **claims) -> str:
        return issue_token(self.settings["registration"], subject=f"{role}-1", role=role, **claims)

    # -- the steps, through each service's API ---------------------------------------------
    def register(self) -> str:
        answer = self.registration.post("/api/v1/migrants", json=WORKER, headers=bearer(self.officer))
        assert answer.status_code == 201, answer.json
        reference = answer.json["reference"]
        for name in ("documents", "claims", "complaints"):  # each learns her from registration's event
            wait_for(lambda: self.db[name].migrants.find_one({"_id": reference}) is not None
                     or self.db[name].owners.find_one({"_id": reference}) is not None, 30,
                     f"{name} did not learn of the migrant")
        return reference

    def upload(self, reference: str, doc_type: str, case_id: str | None = None) -> str:
        form = {"owner": reference, "doc_type": doc_type, "file": (io.BytesIO(PDF), f"{doc_type}.pdf")}
        if case_id:
            form["case_id"] = case_id
        answer = self.documents.post("/api/v1/documents", data=form, content_type="multipart/form-data",
                                     headers=bearer(self.officer))
        assert answer.status_code == 201, answer.json
        return answer.json["document_id"]

    def decide(self, document_id: str, decision: str, version: int = 1, reason: str | None = None) -> None:
        body = {"decision": decision, "version": version, **({"reason": reason} if reason else {})}
        answer = self.documents.post(f"/api/v1/documents/{document_id}/verification", json=body,
                                     headers=bearer(self.officer))
        assert answer.status_code == 200, answer.json

    def claim_step(self, claim_id: str, rule: str, body: dict) -> dict:
        etag = self.claims.get(f"/api/v1/claims/{claim_id}", headers=bearer(self.officer)).headers["ETag"]
        answer = self.claims.post(f"/api/v1/claims/{claim_id}/{rule}", json=body, headers=bearer(self.officer, etag))
        assert answer.status_code in (200, 201), answer.json
        return answer.json

    def complaint_step(self, complaint_id: str, rule: str, body: dict) -> dict:
        etag = self.complaints.get(f"/api/v1/complaints/{complaint_id}", headers=bearer(self.lawyer)).headers["ETag"]
        answer = self.complaints.post(f"/api/v1/complaints/{complaint_id}/{rule}", json=body,
                                      headers=bearer(self.lawyer, etag))
        assert answer.status_code in (200, 201), answer.json
        return answer.json

    # -- what case status made of it -------------------------------------------------------
    def published(self) -> list[dict]:
        """Every event the four services published, as their outboxes hold them."""
        return [row["envelope"] for name in ("registration", "documents", "claims", "complaints")
                for row in self.db[name].outbox.find({}, {"envelope": 1})]

    def applied(self) -> int:
        return self.db["casestatus"].inbox.count_documents({"consumer": "casestatus"})

    def settle(self) -> None:
        """Until case status applied everything published so far."""
        wait_for(lambda: self.applied() >= len(self.published()), 60,
                 lambda: f"case status applied {self.applied()} of {len(self.published())} events")

    def timeline(self, reference: str, lang: str, token: str | None = None) -> dict:
        answer = self.casestatus.get(f"/api/v1/migrants/{reference}/timeline?lang={lang}&limit=100",
                                     headers=bearer(token or self.token("migrant", migrant_ref=reference)))
        assert answer.status_code == 200, answer.json
        return answer.json

    def notifications(self) -> list[dict]:
        return list(self.db["casestatus"].notifications.find({}))


@pytest.fixture
def world(infra, monkeypatch):
    today = datetime.now(DHAKA).date()
    clock = Clock(datetime.combine(today, time(12, 0), tzinfo=DHAKA).astimezone(timezone.utc))
    monkeypatch.setattr(casestatus_consumer.service, "clock", clock)  # when SMS may leave (quiet hours)
    return World(infra, clock)


def test_a_migrants_journey_across_the_services_is_her_timeline_and_her_sms(world, tmp_path, caplog):
    today = datetime.now(DHAKA).date()
    hearing_on = today + timedelta(days=10)

    # Registration; a medical report uploaded and rejected; a medical aid claim filed.
    reference = world.register()
    report = world.upload(reference, "medical_report")
    world.decide(report, "rejected", reason="The scan cannot be read")
    filed = world.claims.post("/api/v1/claims", headers=bearer(world.officer), json={
        "type": "medical_aid", "migrant_reference": reference, "district": "Cumilla",
        "event": {"date": (today - timedelta(days=20)).isoformat(), "country": "SA", "requested_amount": 80000}})
    assert filed.status_code == 201, filed.json
    claim_id = filed.json["claim_id"]
    # Her brother files a complaint for her; a hearing is scheduled.
    complaint = world.complaints.post("/api/v1/complaints", headers=bearer(world.lawyer), json={
        "complainant": {"migrant_reference": reference, "name": "Jamal Akter", "phone": "01811-000002"},
        "channel": "udc", "category": "unpaid_wages", "district": "Cumilla", "amount_claimed": 120000,
        "respondents": [{"kind": "recruiting_agency", "name": "Al-Noor Overseas", "licence": "RL-1234"}],
        "narrative": "Four months of wages unpaid in Riyadh."})
    assert complaint.status_code == 201, complaint.json
    complaint_id, receipt = complaint.json["complaint_id"], complaint.json["receipt_number"]
    world.complaint_step(complaint_id, "scrutiny", {})
    world.complaint_step(complaint_id, "acknowledgement", {"committee": ["Deputy Director (Legal), BMET"]})
    world.complaint_step(complaint_id, "notice", {})
    world.complaint_step(complaint_id, "hearings", {"date": hearing_on.isoformat(), "venue": "DEMO Cumilla",
                                                    "parties": ["complainant", "recruiting_agency"]})
    world.settle()

    # What happens next: the claim's papers by name (the rejected one with its reason), the hearing.
    english = world.timeline(reference, "en")
    steps = {case["case_id"]: case for case in english["open_cases"]}
    assert steps[claim_id]["status"] == "documents_pending"
    assert steps[claim_id]["steps"][:2] == [
        "Send these documents: Passport copy, Emigration clearance (smart card).",
        "Submit again: Medical report or bill (The scan cannot be read)."]
    assert [(m["doc_types"], m["state"], m["reason"]) for m in steps[claim_id]["missing_documents"]] == [
        (["medical_report"], "rejected", "The scan cannot be read"), (["passport_copy"], "missing", None),
        (["emigration_clearance"], "missing", None)]
    assert steps[complaint_id]["next_hearing"] == {"date": hearing_on.isoformat(), "venue": "DEMO Cumilla"}
    assert steps[complaint_id]["steps"][0] == \
        f"Come to the hearing on {day_text(hearing_on, 'en')} at DEMO Cumilla. Bring your papers."
    bangla = world.timeline(reference, "bn")
    bn_steps = {case["case_id"]: case for case in bangla["open_cases"]}
    assert bn_steps[complaint_id]["steps"][0] == \
        f"শুনানিতে আসুন: {day_text(hearing_on, 'bn')}, DEMO Cumilla। আপনার কাগজপত্র সঙ্গে আনুন।"

    # The claim's papers: a new version of the report, the other two; verified, it is reviewed and approved.
    answer = world.documents.post(f"/api/v1/documents/{report}/versions", content_type="multipart/form-data",
                                  data={"file": (io.BytesIO(PDF + b"%readable"), "report.pdf"), "case_id": claim_id},
                                  headers=bearer(world.officer))
    assert answer.status_code == 201, answer.json
    world.decide(report, "verified", version=2)
    for doc_type in ("passport_copy", "emigration_clearance"):
        world.decide(world.upload(reference, doc_type, claim_id), "verified")
    wait_for(lambda: world.db["claims"].claims.find_one({"_id": claim_id}, {"status": 1})["status"] == "under_review",
             30, "the claim's checklist did not fill")
    approved = world.claim_step(claim_id, "approval", {"eligibility_override": "Board decision 14/2026"})
    assert approved["approved_amount"] == 80000
    world.claim_step(claim_id, "payment-order", {})
    world.settle()
    steps = {case["case_id"]: case for case in world.timeline(reference, "en")["open_cases"]}
    assert steps[claim_id]["amount"] == 80000 and steps[claim_id]["missing_documents"] == []
    assert steps[claim_id]["steps"][0] == "Tk 80,000 will be sent to you."
    bn_steps = {case["case_id"]: case for case in world.timeline(reference, "bn")["open_cases"]}
    assert bn_steps[claim_id]["steps"][0] == "৮০,০০০ টাকা পাঠানো হবে।"

    # Two payments are recorded at 23:00 in Dhaka: their SMS wait for the morning.
    night = datetime.combine(today, time(23, 0), tzinfo=DHAKA).astimezone(timezone.utc)
    world.clock.now = night
    for amount, payment in ((30000, "BKASH-26-0901"), (50000, "BKASH-26-0902")):
        world.claim_step(claim_id, "payments", {"amount": amount, "method": "mobile_wallet",
                                                "account": "01712345678", "reference": payment})
    world.settle()

    # The timeline, newest first, in both languages, in Dhaka's time.
    english, bangla = world.timeline(reference, "en"), world.timeline(reference, "bn")
    published = {e["id"]: e for e in world.published()}
    assert [item["id"] for item in english["items"]] == [item["id"] for item in bangla["items"]]
    assert {item["id"] for item in english["items"]} <= set(published)
    assert [item["occurred_at"] for item in english["items"]] == \
        sorted((item["occurred_at"] for item in english["items"]), reverse=True)
    for en, bn in zip(english["items"], bangla["items"]):
        assert en["when"] == when_text(en["occurred_at"], "en")
        assert bn["when"] == when_text(bn["occurred_at"], "bn")
        assert not any(c.isdigit() and c.isascii() for c in bn["when"])
    told = {(item["type"], item["text"]) for item in english["items"]}
    assert {("registration.migrant.registered", "You were registered as a migrant worker."),
            ("documents.document.rejected", "Your Medical report or bill was not accepted. Reason: The scan "
                                            "cannot be read. Please submit it again."),
            ("claims.claim.submitted", "Your application was received."),
            ("claims.claim.approved", "Your application was approved: Tk 80,000."),
            ("claims.claim.payment_recorded", "A payment of Tk 30,000 was sent."),
            ("claims.claim.paid", "The full amount was paid."),
            ("complaints.complaint.hearing_scheduled",
             f"Hearing 1 is set for {day_text(hearing_on, 'en')} at DEMO Cumilla.")} <= told, told
    told_bn = {(item["type"], item["text"]) for item in bangla["items"]}
    assert {("registration.migrant.registered", "আপনি প্রবাসী কর্মী হিসেবে নিবন্ধিত হয়েছেন।"),
            ("claims.claim.approved", "আপনার আবেদন মঞ্জুর হয়েছে: ৮০,০০০ টাকা।"),
            ("claims.claim.payment_recorded", "৩০,০০০ টাকা পাঠানো হয়েছে।")} <= told_bn, told_bn
    assert [item["type"] for item in reversed(english["items"])][:3] == [
        "registration.migrant.registered", "documents.document.uploaded", "documents.document.rejected"]
    paid = {case["case_id"]: case for case in english["open_cases"]}[claim_id]
    assert (paid["status"], paid["amount"], paid["missing_documents"]) == ("paid", 80000, []), paid

    # One SMS per event and recipient, to the phone that follows each.
    by_type = {published[n["event_id"]]["type"]: n for n in world.notifications()}
    assert sorted(by_type) == ["claims.claim.approved", "claims.claim.paid", "claims.claim.payment_recorded",
                               "complaints.complaint.hearing_scheduled", "documents.document.rejected"]
    assert len(world.notifications()) == len(by_type)
    assert {t: n["to"] for t, n in by_type.items()} == {
        "claims.claim.approved": MIGRANT_PHONE, "claims.claim.paid": MIGRANT_PHONE,
        "claims.claim.payment_recorded": MIGRANT_PHONE, "documents.document.rejected": MIGRANT_PHONE,
        "complaints.complaint.hearing_scheduled": RELATIVE_PHONE}
    assert by_type["claims.claim.payment_recorded"]["text"] == f"প্রবাসী: আপনার আবেদন {claim_id}-এর ৩০,০০০ টাকা পাঠানো হয়েছে।"
    assert by_type["claims.claim.paid"]["text"] == \
        f"প্রবাসী: আপনার আবেদন {claim_id}-এর ৫০,০০০ টাকা পাঠানো হয়েছে; সম্পূর্ণ ৮০,০০০ টাকা পরিশোধ হয়েছে।"
    assert by_type["complaints.complaint.hearing_scheduled"]["text"] == \
        f"প্রবাসী: আপনার অভিযোগ {receipt}-এর শুনানি {day_text(hearing_on, 'bn')} তারিখে, DEMO Cumilla-এ।"

    # An event delivered twice (a copy published by hand) adds no entry and no SMS.
    entries, sms = world.db["casestatus"].entries.count_documents({}), len(world.notifications())
    approval = next(e for e in published.values() if e["type"] == "claims.claim.approved")
    with caplog.at_level(logging.INFO, logger="probashi.consumer"):
        publish(world.settings["casestatus"], Envelope.from_dict(approval))
        wait_for(lambda: any(r.getMessage() == "duplicate delivery ignored" and r.event_id == approval["id"]
                             for r in caplog.records), 30, "the copy did not reach the consumer")
    assert world.db["casestatus"].entries.count_documents({}) == entries
    assert len(world.notifications()) == sms

    # Quiet hours: at 23:30 the sender sends what was queued by day, and holds the payment's two.
    outbox = str(tmp_path / "sms.jsonl")
    config = SenderConfig(interval_seconds=0.1)
    at_night = Sender(*stores(world.db["casestatus"]), DevSms(outbox), config, clock=lambda: night + timedelta(minutes=30))
    while at_night.tick()[1]:
        pass
    sent = {(m["to"], m["text"]) for m in read_outbox(outbox)}
    assert sent == {(n["to"], n["text"]) for t, n in by_type.items() if not t.startswith("claims.claim.pa")}
    morning = datetime.combine(today + timedelta(days=1), time(8, 0), tzinfo=DHAKA).astimezone(timezone.utc)
    held = world.db["casestatus"].notifications.find({"state": "queued"})
    assert sorted((n["event_id"], n["send_at"].replace(tzinfo=timezone.utc)) for n in held) == sorted(
        (by_type[t]["event_id"], morning) for t in ("claims.claim.paid", "claims.claim.payment_recorded"))
    at_eight = Sender(*stores(world.db["casestatus"]), DevSms(outbox), config, clock=lambda: morning)
    at_eight.tick()
    assert len(read_outbox(outbox)) == 5
    assert {n["state"] for n in world.notifications()} == {"sent"}

