"""Sign-in end to end (issue 10), against the real database and broker, every token issued
by identity and verified by the other services against identity's JWKS over HTTP.

A worker is registered through registration's API; a welfare officer, whose account an
admin created, files a death grant through claims naming an heir's phone; identity's
consumer learns that phone over the broker. The heir asks for a code, reads it from the
development SMS outbox, verifies it, and with the token identity answered reads that claim
and its history, and nothing else of the worker's."""
from __future__ import annotations

import re

import pytest

from services.claims import api as claims_api
from services.claims.bootstrap import unit_of_work as claims_uow
from services.claims.consumer import consumer as claims_consumer
from services.identity import api as identity_api
from services.identity.bootstrap import unit_of_work as identity_uow
from services.identity.config import IdentityConfig
from services.identity.consumer import consumer as identity_consumer
from services.registration import api as registration_api
from shared import mongo
from shared.auth import issue_token
from shared.consumer import Worker
from shared.outbox import OutboxStore
from shared.relay import Relay
from shared.sms import read_outbox

from tests.integration.test_identity_tokens import serving
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

CONFIG = IdentityConfig(argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1)
ADMIN_PASSWORD, OFFICER_PASSWORD = "prothom-admin-pasword-26", "amar-notun-pasword-2026"
WORKER = {"name_en": "Karim Mia", "name_bn": "করিম মিয়া", "date_of_birth": "1990-07-15", "sex": "male",
          "nid": "1234567890123", "passport_number": "EA1234567", "phone": "+8801812345678",
          "district": "Sylhet", "upazila": "Beanibazar", "destination_country": "QA", "occupation": "Driver"}
HEIR_PHONE = "+8801711000001"


def heir(n, phone):
    return {"name_en": f"Heir {n}", "name_bn": f"ওয়ারিশ {n}", "relation": "son", "nid": f"19901234567{n:02d}",
            "phone": phone, "share": {"numerator": 1, "denominator": 2},
            "payout": {"method": "mobile_wallet", "provider": "bKash", "account_number": f"0171100000{n}"}}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(infra, tmp_path, monkeypatch):
    """Identity served over HTTP (its JWKS) with its consumer; registration and claims trusting
    that JWKS (claims trusts nothing else); the relays and claims' consumer on the broker."""
    outbox = str(tmp_path / "sms-outbox.jsonl")
    monkeypatch.setenv("SMS_ADAPTER", "dev")
    monkeypatch.setenv("SMS_DEV_OUTBOX", outbox)
    identity_settings = infra.settings("identity")
    identity = identity_api.create(identity_settings, configure_logging=False, config=CONFIG)
    worker = Worker(identity_consumer, identity_uow(identity_settings), identity_settings)
    infra.background(worker, worker.run)
    assert worker.ready.wait(15), "identity's consumer did not start"
    with serving(identity) as identity_url:
        jwks_url = f"{identity_url}/api/v1/.well-known/jwks.json"
        # Registration keeps the development key too: the test's operator registers with it.
        registration_settings = infra.settings("registration", jwt_jwks_url=jwks_url)
        claims_settings = infra.settings("claims", jwt_dev_key_file="", jwt_jwks_url=jwks_url)
        worker = Worker(claims_consumer, claims_uow(claims_settings), claims_settings)
        infra.background(worker, worker.run)
        assert worker.ready.wait(15), "claims' consumer did not start"
        for settings in (registration_settings, claims_settings):
            relay = Relay(OutboxStore(mongo.database(settings)), settings)
            infra.background(relay, relay.run)
        yield World(identity, registration_api.create(registration_settings, configure_logging=False),
                    claims_api.create(claims_settings, configure_logging=False), registration_settings,
                    claims_settings, identity_settings, outbox)


class World:
    def __init__(self, identity, registration, claims, registration_settings, claims_settings, identity_settings,
                 outbox):
        self.identity, self.registration, self.claims = (app.test_client() for app in (identity, registration, claims))
        self.service = identity.config["IDENTITY_SERVICE"]
        self.registration_settings, self.claims_settings = registration_settings, claims_settings
        self.identity_db = mongo.database(identity_settings)
        self.outbox = outbox

    def register_worker(self) -> str:
        operator = issue_token(self.registration_settings, subject="op-1", role="udc_operator",
                               udc_centre="UDC Beanibazar")
        registered = self.registration.post("/api/v1/migrants", json=WORKER, headers=bearer(operator))
        assert registered.status_code == 201, registered.json
        reference = registered.json["reference"]
        migrants = mongo.database(self.claims_settings).migrants
        wait_for(lambda: migrants.find_one({"_id": reference}) is not None, 30,
                 "claims did not learn of the registered worker")
        return reference

    def sign_in(self, username, password, **extra):
        return self.identity.post("/api/v1/sessions", json={"username": username, "password": password, **extra})

    def codes_to(self, phone):
        return [re.search(r"\b(\d{6})\b", m["text"]).group(1) for m in read_outbox(self.outbox) if m["to"] == phone]


def test_staff_an_admin_created_and_an_heir_who_signed_in_by_code_use_identitys_tokens_in_claims(world):
    # The first admin, by the command's use case; they create a welfare officer's account.
    world.service.create_admin("boss", "Nasreen Haque", "Dhaka", ADMIN_PASSWORD)
    admin = world.sign_in("boss", ADMIN_PASSWORD)
    assert admin.status_code == 200, admin.json
    created = world.identity.post("/api/v1/staff", headers=bearer(admin.json["access_token"]), json={
        "username": "selina", "full_name": "Selina Akter", "role": "welfare_officer", "district": "Sylhet"})
    assert created.status_code == 201, created.json
    officer = world.sign_in("selina", created.json["temporary_password"], new_password=OFFICER_PASSWORD)
    assert officer.status_code == 200, officer.json
    staff = bearer(officer.json["access_token"])
    assert world.claims.get("/api/v1/queue", headers=staff).status_code == 200  # the officer's token works in claims

    reference = world.register_worker()
    grant = world.claims.post("/api/v1/claims", headers=staff, json={
        "type": "death_grant", "migrant_reference": reference, "district": "Sylhet",
        "event": {"date": "2026-10-01", "country": "QA"},
        "heirs": [heir(1, HEIR_PHONE), heir(2, "+8801711000003")]})
    assert grant.status_code == 201, grant.json
    grant = grant.json
    assert grant["claimant_phone"] == HEIR_PHONE
    medical = world.claims.post("/api/v1/claims", headers=staff, json={
        "type": "medical_aid", "migrant_reference": reference, "district": "Sylhet",
        "event": {"date": "2026-10-01", "requested_amount": 5000}})
    assert medical.status_code == 201, medical.json

    # Identity learns the heir's phone from claims' event, over the broker.
    wait_for(lambda: world.identity_db.phone_cases.find_one({"phone": HEIR_PHONE}) is not None, 30,
             "identity did not learn the heir's phone from the claim")
    asked = world.identity.post("/api/v1/otp/requests", json={"phone": "01711-000001"})
    assert asked.status_code == 202 and asked.json["sent"] is True
    wait_for(lambda: world.codes_to(HEIR_PHONE), 10, "no SMS reached the development outbox")
    verified = world.identity.post("/api/v1/otp/verifications",
                                   json={"phone": HEIR_PHONE, "code": world.codes_to(HEIR_PHONE)[-1]})
    assert verified.status_code == 200, verified.json
    family = bearer(verified.json["access_token"])

    read = world.claims.get(f"/api/v1/claims/{grant['claim_id']}", headers=family)
    assert read.status_code == 200 and read.json["claim_id"] == grant["claim_id"]
    history = world.claims.get(f"/api/v1/claims/{grant['claim_id']}/history", headers=family)
    assert history.status_code == 200 and [e["type"] for e in history.json["items"]] == ["claims.claim.submitted"]
    listed = world.claims.get("/api/v1/claims", headers=family)
    assert [c["claim_id"] for c in listed.json["items"]] == [grant["claim_id"]]
    assert world.claims.get(f"/api/v1/claims/{medical.json['claim_id']}", headers=family).status_code == 404
    assert world.registration.get(f"/api/v1/migrants/{reference}", headers=family).status_code == 403

    # A token identity did not sign is nobody's to claims (it trusts identity's JWKS only).
    forged = issue_token(world.registration_settings, subject="boss", role="admin")
    assert world.claims.get("/api/v1/queue", headers=bearer(forged)).status_code == 401
