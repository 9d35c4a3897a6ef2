"""Sign-in by SMS code against the real database and broker: identity learns phones from
registration's and claims' events (published through the broker by a relay, or applied by
its consumer), sends codes through the development SMS adapter (the test reads the outbox
file), and answers tokens a migrant or a family member signs in with."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from services.identity import api as identity_api
from services.identity import otp
from services.identity.bootstrap import unit_of_work
from services.identity.config import IdentityConfig
from services.identity.consumer import consumer as identity_consumer
from shared import mongo
from shared.consumer import Worker
from shared.events import Envelope
from shared.outbox import OutboxStore
from shared.relay import Relay
from shared.sms import read_outbox
from shared.uow import MongoUnitOfWork

from tests.waiting import wait_for

pytestmark = pytest.mark.integration

CONFIG = IdentityConfig(argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1)
REF, OTHER_REF = "PB-2345-6789", "PB-ABCD-EFGH"
MIGRANT_PHONE, HEIR_PHONE, UNKNOWN_PHONE = "+8801711111111", "+8801822222222", "+8801933333333"


class Clock:
    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self):
        return self.now


class Desk:
    """The identity API in process, its consumer, its database and the SMS outbox file."""

    def __init__(self, infra, outbox_path):
        self.settings = infra.settings("identity")
        self.app = identity_api.create(self.settings, configure_logging=False, config=CONFIG)
        self.service = self.app.config["IDENTITY_SERVICE"]
        self.clock = Clock()
        self.service.clock = self.clock
        self.http = self.app.test_client()
        self.db = mongo.database(self.settings)
        self.uow = unit_of_work(self.settings)
        self.outbox_path = outbox_path

    def ask(self, phone, address="10.0.0.1", **body):
        return self.http.post("/api/v1/otp/requests", json={"phone": phone, **body},
                              environ_base={"REMOTE_ADDR": address})

    def present(self, phone, code):
        return self.http.post("/api/v1/otp/verifications", json={"phone": phone, "code": code})

    def messages(self, to=None):
        return [m for m in read_outbox(self.outbox_path) if to is None or m["to"] == to]

    def code_for(self, phone, count=1):
        """The code of the `count`-th SMS to `phone` (sent on a background thread: waits for it)."""
        wait_for(lambda: len(self.messages(phone)) >= count, 10, f"no SMS {count} to {phone}")
        return self.messages(phone)[count - 1]["text"].split(": ")[1][:6]

    def sign_in(self, phone):
        assert self.ask(phone).status_code == 202
        before = len(self.messages(phone))
        answer = self.present(phone, self.code_for(phone, before or 1))
        assert answer.status_code == 200, answer.json
        return answer.json

    def claims_of(self, access_token):
        header = jwt.get_unverified_header(access_token)
        keys = {k["kid"]: k for k in self.http.get("/.well-known/jwks.json").json["keys"]}
        return jwt.decode(access_token, jwt.PyJWK(keys[header["kid"]]).key, algorithms=["EdDSA"],
                          audience="claims", issuer=self.settings.jwt_issuer)

    def learn(self, event):
        return identity_consumer.process(self.uow, event)

    def events(self):
        return [row["envelope"] for row in self.db.outbox.find({"type": {"$regex": "^identity\\.otp\\."}})]


@pytest.fixture
def desk(infra, tmp_path, monkeypatch):
    monkeypatch.setenv("SMS_ADAPTER", "dev")
    monkeypatch.setenv("SMS_DEV_OUTBOX", str(tmp_path / "sms-outbox.jsonl"))
    return Desk(infra, str(tmp_path / "sms-outbox.jsonl"))


def registered(reference, phone, version=1):
    return Envelope.new(type="registration.migrant.registered", source="registration", subject_type="migrant",
                        subject_id=reference, aggregate_version=version,
                        data={"reference": reference, "name_en": "Rahim Uddin", "name_bn": "রহিম উদ্দিন", "phone": phone,
                              "registered_by": {"user": "op-1", "role": "udc_operator", "udc_centre": "UDC Daudkandi"}})


def claim_event(case_id, phone, version=1, action="submitted", reference=REF):
    return Envelope.new(type=f"claims.claim.{action}", source="claims", subject_type="claim", subject_id=case_id,
                        aggregate_version=version,
                        data={"case_id": case_id, "status": "documents_pending", "document_ids": [],
                              "claim_type": "death_grant", "migrant_reference": reference, "claimant_phone": phone})


def publish(infra, source, events):
    """`events` raised by `source` the way it raises them (outbox, then its relay to the broker)."""
    settings = infra.settings(source)
    db = mongo.database(settings)
    mongo.prepare(db, [])
    uow = MongoUnitOfWork(db, source)

    def emit(tx):
        for e in events:
            tx.emit(e.type, subject_type=e.subject.type, subject_id=e.subject.id,
                    aggregate_version=e.aggregate_version, data=e.data)
    uow.run(emit)
    relay = Relay(OutboxStore(db), settings)
    infra.background(relay, relay.run)


def run_consumer(infra, desk):
    worker = Worker(identity_consumer, desk.uow, desk.settings)
    infra.background(worker, worker.run)
    assert worker.ready.wait(15)


# -- through the broker --------------------------------------------------------------------

def test_a_registered_migrant_signs_in_with_the_code_the_sms_brought(infra, desk):
    run_consumer(infra, desk)
    publish(infra, "registration", [registered(REF, "01711-111111")])
    wait_for(lambda: desk.db.phone_migrants.find_one({"_id": REF}), 30, "identity did not learn the migrant's phone")

    asked = desk.ask("01711111111")  # any spelling registration takes
    assert asked.status_code == 202 and asked.json == {"sent": True, "expires_in": 300}
    code = desk.code_for(MIGRANT_PHONE)
    sms = desk.messages(MIGRANT_PHONE)[0]
    assert sms["text"] == f"প্রবাসী কোড: {code}। ৫ মিনিট বৈধ। কাউকে জানাবেন না।"
    assert sms["encoding"] == "UCS-2" and sms["segments"] == 1

    answer = desk.present(MIGRANT_PHONE, code)
    assert answer.status_code == 200, answer.json
    assert answer.json["token_type"] == "Bearer" and answer.headers["Cache-Control"] == "no-store"
    claims = desk.claims_of(answer.json["access_token"])
    assert (claims["role"], claims["migrant_ref"], claims["phone_number"]) == ("migrant", REF, MIGRANT_PHONE)
    assert "cases" not in claims


def test_an_heirs_phone_on_a_claim_gets_a_family_token_naming_that_claim_only(infra, desk):
    run_consumer(infra, desk)
    publish(infra, "registration", [registered(REF, MIGRANT_PHONE)])
    publish(infra, "claims", [claim_event("CL-DEATH-1", "01822-222222"),
                              claim_event("CL-MEDICAL-2", MIGRANT_PHONE, reference=REF)])
    wait_for(lambda: desk.db.phone_cases.count_documents({}) == 2, 30, "identity did not learn the claims' phones")

    family = desk.claims_of(desk.sign_in(HEIR_PHONE)["access_token"])
    assert (family["role"], family["cases"], family["phone_number"]) == ("family", ["CL-DEATH-1"], HEIR_PHONE)
    assert "migrant_ref" not in family
    # The worker's own phone is on their own claim too: they sign in as the migrant.
    assert desk.claims_of(desk.sign_in(MIGRANT_PHONE)["access_token"])["role"] == "migrant"


# -- codes ---------------------------------------------------------------------------------

def test_a_case_whose_phone_changes_moves_with_it(desk):
    desk.learn(claim_event("CL-1", HEIR_PHONE))
    desk.learn(claim_event("CL-1", UNKNOWN_PHONE, version=2, action="info_received"))
    assert desk.claims_of(desk.sign_in(UNKNOWN_PHONE)["access_token"])["cases"] == ["CL-1"]
    # The old phone is nobody's now: asked for a code, it is sent none (the new phone's
    # second SMS, asked for after it, shows the sender got that far).
    assert desk.ask(HEIR_PHONE, address="10.0.0.2").status_code == 202
    assert desk.ask(UNKNOWN_PHONE, address="10.0.0.2").status_code == 202
    desk.code_for(UNKNOWN_PHONE, 2)
    assert desk.messages(HEIR_PHONE) == []


def test_an_expired_code_is_refused(desk):
    desk.learn(registered(REF, MIGRANT_PHONE))
    desk.ask(MIGRANT_PHONE)
    code = desk.code_for(MIGRANT_PHONE)
    desk.clock.now += otp.CODE_LIFETIME
    refused = desk.present(MIGRANT_PHONE, code)
    assert refused.status_code == 401 and refused.json["type"].endswith("code-not-accepted")


def test_a_sixth_try_is_refused_even_with_the_right_code(desk):
    desk.learn(registered(REF, MIGRANT_PHONE))
    desk.ask(MIGRANT_PHONE)
    code = desk.code_for(MIGRANT_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    answers = [desk.present(MIGRANT_PHONE, wrong) for _ in range(5)]
    assert {a.status_code for a in answers} == {401}
    last = desk.present(MIGRANT_PHONE, code)
    assert last.status_code == 401
    assert (last.json["type"], last.json["detail"]) == (answers[0].json["type"], answers[0].json["detail"])
    assert desk.db.otp_codes.find_one({"phone": MIGRANT_PHONE})["tries"] == 5


def test_a_burst_of_requests_for_one_phone_is_refused_past_the_limit(desk):
    answers = [desk.ask(UNKNOWN_PHONE, address=f"10.0.1.{n}") for n in range(otp.PER_PHONE + 2)]
    assert [a.status_code for a in answers] == [202] * otp.PER_PHONE + [429, 429]
    assert int(answers[-1].headers["Retry-After"]) == 900
    assert desk.db.otp_requests.count_documents({"phone": UNKNOWN_PHONE}) == otp.PER_PHONE
    desk.clock.now += otp.WINDOW + timedelta(seconds=1)
    assert desk.ask(UNKNOWN_PHONE).status_code == 202


def test_a_burst_from_one_address_is_refused_past_the_limit(desk):
    phones = [f"+88017000000{n:02d}" for n in range(otp.PER_CLIENT + 1)]
    answers = [desk.ask(phone, address="10.9.9.9") for phone in phones]
    assert [a.status_code for a in answers] == [202] * otp.PER_CLIENT + [429]
    assert desk.ask(phones[-1], address="10.9.9.10").status_code == 202


def test_the_answer_is_byte_identical_for_a_known_and_an_unknown_phone_and_only_the_known_gets_an_sms(desk):
    desk.learn(registered(REF, MIGRANT_PHONE))
    unknown = desk.ask(UNKNOWN_PHONE)
    known = desk.ask(MIGRANT_PHONE)
    assert unknown.status_code == known.status_code == 202
    assert unknown.get_data() == known.get_data()
    per_request = {"x-request-id", "x-correlation-id"}  # each request's own trace ids
    assert {k: v for k, v in unknown.headers if k.lower() not in per_request} == \
        {k: v for k, v in known.headers if k.lower() not in per_request}
    desk.code_for(MIGRANT_PHONE)  # the known phone's SMS was written (after the unknown's request)
    assert [m["to"] for m in desk.messages()] == [MIGRANT_PHONE]
    # Presenting a code for the unknown phone answers as a wrong code does.
    stranger = desk.present(UNKNOWN_PHONE, "123456")
    wrong = desk.present(MIGRANT_PHONE, "000000" if desk.code_for(MIGRANT_PHONE) != "000000" else "111111")
    assert stranger.status_code == wrong.status_code == 401
    assert stranger.json["detail"] == wrong.json["detail"] and stranger.json["type"] == wrong.json["type"]


def test_a_malformed_phone_or_code_is_a_422_naming_the_field(desk):
    bad_phone = desk.ask("12345")
    assert bad_phone.status_code == 422 and "phone" in bad_phone.json["errors"]
    bad_code = desk.present(MIGRANT_PHONE, "12ab56")
    assert bad_code.status_code == 422 and "code" in bad_code.json["errors"]


def test_events_carry_no_code_and_no_whole_phone(desk):
    desk.learn(registered(REF, MIGRANT_PHONE))
    desk.ask(UNKNOWN_PHONE)
    desk.present(UNKNOWN_PHONE, "123456")
    desk.sign_in(MIGRANT_PHONE)
    code = desk.code_for(MIGRANT_PHONE)
    events = desk.events()
    assert sorted(e["type"] for e in events) == ["identity.otp.failed", "identity.otp.requested",
                                                 "identity.otp.requested", "identity.otp.verified"]
    text = json.dumps(events, default=str)
    assert code not in text and MIGRANT_PHONE not in text and UNKNOWN_PHONE not in text
    stored = json.dumps(list(desk.db.otp_codes.find()), default=str)
    assert code not in stored


def test_a_duplicate_event_delivery_changes_nothing(desk):
    first = claim_event("CL-1", HEIR_PHONE)
    assert desk.learn(first) is True
    assert desk.learn(claim_event("CL-1", UNKNOWN_PHONE, version=2, action="info_received")) is True
    before = list(desk.db.phone_cases.find())
    assert desk.learn(first) is False  # the same event again: the inbox stops it
    assert list(desk.db.phone_cases.find()) == before == [{"_id": "CL-1", "kind": "claim", "phone": UNKNOWN_PHONE}]
    again = registered(REF, MIGRANT_PHONE)
    assert desk.learn(again) is True and desk.learn(again) is False
    desk.learn(registered(REF, MIGRANT_PHONE))  # the same content under a new event id
    assert list(desk.db.phone_migrants.find()) == [{"_id": REF, "phone": MIGRANT_PHONE}]


def test_requests_at_once_for_one_phone_pass_the_limit_no_more_often_than_one_at_a_time(desk):
    """Concurrent requests conflict on the phone's gate row, so the later ones see the
    earlier ones: exactly PER_PHONE pass however they interleave."""
    import threading

    answers, start = [], threading.Barrier(8)

    def ask(n):
        client = desk.app.test_client()
        start.wait()
        answers.append(client.post("/api/v1/otp/requests", json={"phone": UNKNOWN_PHONE},
                                   environ_base={"REMOTE_ADDR": f"10.0.2.{n}"}).status_code)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [202] * otp.PER_PHONE + [429] * (8 - otp.PER_PHONE)
    assert desk.db.otp_requests.count_documents({"phone": UNKNOWN_PHONE}) == otp.PER_PHONE
