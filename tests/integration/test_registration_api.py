"""The registration API against the real database and broker."""
from __future__ import annotations

import json
import threading

import pytest

from services.registration import api as registration_api
from shared import contracts, mongo
from shared.auth import issue_token
from shared.events import Envelope
from shared.outbox import OutboxStore
from shared.relay import Relay

pytestmark = pytest.mark.integration


def payload(**overrides):
    body = {"name_en": "Rahima Begum", "name_bn": "রহিমা বেগম", "date_of_birth": "1994-02-01", "sex": "female",
            "nid": "19941234567890123", "passport_number": "BX0123456", "phone": "01712-345678",
            "district": "Comilla", "upazila": "Daudkandi", "destination_country": "SA",
            "occupation": "Domestic worker", "recruiting_agency_licence": "RL 1234"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


class Client:
    def __init__(self, app, settings):
        self.http = app.test_client()
        self.settings = settings

    def token(self, role, **claims):
        claims.setdefault("udc_centre", "UDC Daudkandi" if role == "udc_operator" else None)
        return issue_token(self.settings, subject=f"{role}-1", role=role, **claims)

    def call(self, method, path, role="udc_operator", body=None, raw=None, headers=None, **claims):
        headers = dict(headers or {})
        if role:
            headers["Authorization"] = f"Bearer {self.token(role, **claims)}"
        kwargs = {}
        if body is not None:
            kwargs["json"] = body
        elif raw is not None:
            kwargs["data"], kwargs["content_type"] = raw, "application/json"
        return self.http.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


@pytest.fixture
def service(infra):
    settings = infra.settings("registration")
    app = registration_api.create(settings, configure_logging=False)
    db = mongo.database(settings)
    yield Client(app, settings), db
    for record in db.outbox.find():  # every event the test raised matches its contract
        contracts.check(Envelope.from_dict(record["envelope"]))


def test_register_returns_201_and_publishes_exactly_one_event(infra, service):
    client, db = service
    tap = infra.tap()
    response = client.call("POST", "/migrants", body=payload(), headers={"X-Correlation-ID": "corr-42"})
    assert response.status_code == 201, response.json
    migrant = response.json
    assert response.headers["Location"] == f"/api/v1/migrants/{migrant['reference']}"
    assert response.headers["ETag"] == '"1"'
    assert migrant["phone"] == "+8801712345678" and migrant["district"] == "Cumilla"
    assert migrant["registered_by"] == {"user": "udc_operator-1", "role": "udc_operator",
                                        "udc_centre": "UDC Daudkandi", "at": migrant["created_at"]}

    Relay(OutboxStore(db), client.settings).run(stop_when_idle=True)
    messages = tap.drain(expect=1)
    assert len(messages) == 1
    method, props, body = messages[0]
    event = json.loads(body)
    assert method.routing_key == event["type"] == "registration.migrant.registered"
    assert props.message_id == event["id"] and props.correlation_id == "corr-42"
    assert event["correlation_id"] == "corr-42"
    assert event["causation_id"] == response.headers["X-Request-ID"]
    assert event["subject"] == {"type": "migrant", "id": migrant["reference"]}
    assert event["aggregate_version"] == 1 and event["schema_version"] == 1 and event["source"] == "registration"
    assert event["data"] == {"reference": migrant["reference"], "name_en": "Rahima Begum", "name_bn": "রহিমা বেগম",
                             "phone": "+8801712345678", "destination_country": "SA",
                             "recruiting_agency_licence": "RL-1234", "registered_by": {
                                 "user": "udc_operator-1", "role": "udc_operator", "udc_centre": "UDC Daudkandi"}}


def test_anyone_reads_the_districts_with_their_bangla_names(service):
    client, _ = service
    answer = client.http.get("/api/v1/districts")  # no token: the portal names districts on Bangla pages
    assert answer.status_code == 200
    names = {item["name"]: item["name_bn"] for item in answer.json["items"]}
    assert len(names) == 64 and names["Cumilla"] == "কুমিল্লা" and names["Cox's Bazar"] == "কক্সবাজার"
    # each is a district registration takes, as it stores it
    created = client.call("POST", "/migrants", body=payload(district="Comilla"))
    assert created.status_code == 201 and created.json["district"] in names


def test_concurrent_duplicate_registrations_give_exactly_one_201(service):
    client, db = service
    results, barrier = [], threading.Barrier(8)

    def register(i):
        http = client.http.application.test_client()
        barrier.wait()
        response = http.post("/api/v1/migrants", json=payload(nid=f"{1000000000 + i}"),
                             headers={"Authorization": f"Bearer {client.token('udc_operator')}"})
        results.append((response.status_code, response.json))

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 7, results
    winner = next(body for status, body in results if status == 201)
    for status, body in results:
        if status == 409:
            assert body["existing_reference"] == winner["reference"] and body["field"] == "passport_number"
    assert db.migrants.count_documents({}) == 1 and db.outbox.count_documents({}) == 1


def test_same_nid_is_refused_with_the_existing_reference(service):
    client, db = service
    first = client.call("POST", "/migrants", body=payload()).json
    again = client.call("POST", "/migrants", body=payload(passport_number="AA7654321"))
    assert again.status_code == 409
    assert again.json["existing_reference"] == first["reference"] and again.json["field"] == "nid"
    assert again.headers["Content-Type"] == "application/problem+json"
    assert first["reference"] in again.json["detail"]


def test_update_needs_if_match_and_refuses_a_stale_one(service):
    client, db = service
    ref = client.call("POST", "/migrants", body=payload()).json["reference"]
    missing = client.call("PATCH", f"/migrants/{ref}", body={"occupation": "Cook"})
    assert missing.status_code == 428
    ok = client.call("PATCH", f"/migrants/{ref}", body={"occupation": "Cook"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"' and ok.json["occupation"] == "Cook"
    stale = client.call("PATCH", f"/migrants/{ref}", body={"occupation": "Driver"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert db.migrants.find_one({"_id": ref})["occupation"] == "Cook"
    assert db.outbox.count_documents({"type": "registration.migrant.updated"}) == 1


def test_if_match_with_a_weak_etag_is_412(service):
    client, db = service
    ref = client.call("POST", "/migrants", body=payload()).json["reference"]
    weak = client.call("PATCH", f"/migrants/{ref}", body={"occupation": "Cook"}, headers={"If-Match": 'W/"1"'})
    assert weak.status_code == 412 and weak.headers["Content-Type"] == "application/problem+json"
    assert db.migrants.find_one({"_id": ref})["version"] == 1
    assert db.outbox.count_documents({"type": "registration.migrant.updated"}) == 0


def test_an_operator_changes_only_the_registrations_their_centre_serves(service):
    client, db = service
    ref = client.call("POST", "/migrants", body=payload()).json["reference"]  # at UDC Daudkandi
    step = {"step": "visa", "date": "2025-03-01", "reference": "V-1"}
    elsewhere = {"udc_centre": "UDC Beanibazar"}
    denied = client.call("PATCH", f"/migrants/{ref}", body={"occupation": "Cook"}, headers={"If-Match": '"1"'},
                         **elsewhere)
    assert denied.status_code == 403 and denied.headers["Content-Type"] == "application/problem+json"
    assert client.call("POST", f"/migrants/{ref}/steps", body=step, **elsewhere).status_code == 403
    assert db.migrants.find_one({"_id": ref})["version"] == 1 and db.outbox.count_documents({}) == 1

    present = client.call("PATCH", f"/migrants/{ref}", body={"occupation": "Cook", "person_present": True},
                          headers={"If-Match": '"1"'}, **elsewhere)
    assert present.status_code == 200 and present.json["occupation"] == "Cook"
    event = db.outbox.find_one({"type": "registration.migrant.updated"})["envelope"]
    assert event["data"]["by"] == {"user": "udc_operator-1", "role": "udc_operator", "udc_centre": "UDC Beanibazar",
                                   "person_present": True}
    audited = db.audit.find_one({"action": "update"})
    assert audited["subject_id"] == ref and audited["details"] == {
        "person_present": True, "udc_centre": "UDC Beanibazar", "changed": ["occupation"]}
    # The person was assisted at that centre, which serves them from now on.
    assert client.call("POST", f"/migrants/{ref}/steps", body=step, **elsewhere).status_code == 200
    assert client.call("POST", f"/migrants/{ref}/steps", body=step).status_code == 200  # and still Daudkandi


def test_an_operator_registers_only_for_their_own_centre(service):
    client, db = service
    other = client.call("POST", "/migrants", body=payload(udc_centre="UDC Beanibazar"))  # token: UDC Daudkandi
    assert other.status_code == 403 and db.migrants.count_documents({}) == 0


def test_person_present_alone_is_no_change(service):
    client, _ = service
    ref = client.call("POST", "/migrants", body=payload()).json["reference"]
    empty = client.call("PATCH", f"/migrants/{ref}", body={"person_present": True}, headers={"If-Match": '"1"'})
    assert empty.status_code == 422


def test_steps_and_membership(service):
    client, db = service
    ref = client.call("POST", "/migrants", body=payload()).json["reference"]
    step = client.call("POST", f"/migrants/{ref}/steps",
                       body={"step": "fingerprint", "date": "2025-01-05", "reference": "FP-99"})
    assert step.status_code == 200 and step.json["pre_departure_steps"]["fingerprint"]["reference"] == "FP-99"
    denied = client.call("POST", f"/migrants/{ref}/membership", body={"number": "W-1", "valid_until": "2030-01-01"})
    assert denied.status_code == 403  # UDC operators do not activate WEWB membership
    member = client.call("POST", f"/migrants/{ref}/membership", role="welfare_officer",
                         body={"number": "WEWB-2026/77", "valid_until": "2030-01-01"})
    assert member.status_code == 200 and member.json["wewb_membership"]["number"] == "WEWB-2026/77"
    assert member.headers["ETag"] == '"3"'
    types = [e["type"] for e in db.outbox.find().sort("created_at", 1)]
    assert types == ["registration.migrant.registered", "registration.migrant.step_recorded",
                     "registration.migrant.membership_activated"]


def test_access_rules(service):
    client, db = service
    mine = client.call("POST", "/migrants", body=payload()).json["reference"]
    theirs = client.call("POST", "/migrants", body=payload(passport_number="AA7654321", nid="1234567890")).json["reference"]
    assert client.call("GET", f"/migrants/{mine}", role="migrant", migrant_ref=mine).status_code == 200
    other = client.call("GET", f"/migrants/{theirs}", role="migrant", migrant_ref=mine)
    assert other.status_code == 403 and other.headers["Content-Type"] == "application/problem+json"
    assert client.call("GET", "/migrants?phone=01712345678", role="migrant", migrant_ref=mine).status_code == 403
    assert client.call("GET", f"/migrants/{mine}", role=None).status_code == 401
    assert client.call("GET", f"/migrants/{mine}", role=None,
                       headers={"Authorization": "Bearer not.a.token"}).status_code == 401
    assert client.call("POST", "/migrants", role="legal_aid", body=payload(passport_number="AB1234567")).status_code == 403
    assert db.audit.count_documents({}) == 0  # a migrant reading their own record is not audited


def test_a_migrant_reads_their_own_history_and_not_anothers(service):
    client, _ = service
    mine = client.call("POST", "/migrants", body=payload()).json["reference"]
    theirs = client.call("POST", "/migrants", body=payload(passport_number="AA7654321", nid="1234567890")).json["reference"]
    assert client.call("GET", f"/migrants/{mine}/history", role="migrant", migrant_ref=mine).status_code == 200
    other = client.call("GET", f"/migrants/{theirs}/history", role="migrant", migrant_ref=mine)
    assert other.status_code == 403 and other.headers["Content-Type"] == "application/problem+json"


def test_staff_reads_and_searches_are_audited(service):
    client, db = service
    ref = client.call("POST", "/migrants", body=payload()).json["reference"]
    assert client.call("GET", f"/migrants/{ref}", role="legal_aid").status_code == 200
    found = client.call("GET", "/migrants?passport=bx 0123456", role="welfare_officer")
    assert found.status_code == 200 and [m["reference"] for m in found.json["items"]] == [ref]
    assert found.json["next_cursor"] is None
    entries = list(db.audit.find({}, {"_id": 0, "actor": 1, "action": 1, "subject_id": 1}).sort("at", 1))
    officer = {"user": "welfare_officer-1", "role": "welfare_officer"}
    assert entries == [{"actor": {"user": "legal_aid-1", "role": "legal_aid"}, "action": "read", "subject_id": ref},
                       {"actor": officer, "action": "search", "subject_id": None},
                       {"actor": officer, "action": "read", "subject_id": ref}]


def test_a_search_that_finds_nothing_is_audited(service):
    client, db = service
    found = client.call("GET", "/migrants?nid=5555555555", role="legal_aid")
    assert found.status_code == 200 and found.json["items"] == []
    entry = db.audit.find_one({}, {"_id": 0, "actor": 1, "action": 1, "details": 1})
    assert entry == {"actor": {"user": "legal_aid-1", "role": "legal_aid"}, "action": "search",
                     "details": {"query": {"nid": "5555555555"}, "found": []}}


def test_a_registration_refused_as_a_duplicate_is_an_audited_lookup(service):
    client, db = service
    first = client.call("POST", "/migrants", body=payload()).json["reference"]
    again = client.call("POST", "/migrants", body=payload(passport_number="AA7654321"))
    assert again.status_code == 409 and again.json["existing_reference"] == first
    entries = list(db.audit.find({}, {"_id": 0, "actor": 1, "action": 1, "subject_id": 1, "details": 1}))
    assert entries == [{"actor": {"user": "udc_operator-1", "role": "udc_operator", "udc_centre": "UDC Daudkandi"},
                        "action": "lookup", "subject_id": first,
                        "details": {"via": "duplicate", "query": {"nid": "19941234567890123"}}}]


def every_reference_by_pages_of_two(client) -> list[str]:
    """The whole listing, fetched two at a time by following next_cursor."""
    seen, cursor = [], None
    while True:
        page = client.call("GET", "/migrants?limit=2" + (f"&cursor={cursor}" if cursor else ""), role="admin").json
        seen += [m["reference"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return seen


def test_search_pages_through_all_migrants(service):
    client, _ = service
    refs = [client.call("POST", "/migrants", body=payload(passport_number=f"AA{1000000 + i}",
                                                          nid=f"{2000000000 + i}")).json["reference"]
            for i in range(5)]
    seen = every_reference_by_pages_of_two(client)
    assert seen == list(reversed(refs))
    assert client.call("GET", "/migrants?limit=500", role="admin").status_code == 422
    assert client.call("GET", "/migrants?cursor=zzz", role="admin").status_code == 422
    bad_phone = client.call("GET", "/migrants?phone=12345", role="admin")
    assert bad_phone.status_code == 422 and list(bad_phone.json["errors"]) == ["phone"]


BAD_INPUTS = [
    ("malformed JSON", None, '{"name_en": "x",', 400, None),
    ("not an object", None, "[1, 2]", 400, None),
    ("wrong type", {"name_en": 42}, None, 422, "name_en"),
    ("unknown field", {"favourite_colour": "green"}, None, 422, "favourite_colour"),
    ("over-long name", {"name_en": "x" * 101}, None, 422, "name_en"),
    ("NID of 11 digits", {"nid": "12345678901"}, None, 422, "nid"),
    ("passport pattern", {"passport_number": "12345"}, None, 422, "passport_number"),
    ("landline phone", {"phone": "029556677"}, None, 422, "phone"),
    ("name_bn not in Bangla", {"name_bn": "Rahima"}, None, 422, "name_bn"),
    ("unknown country", {"destination_country": "XX"}, None, 422, "destination_country"),
    ("birth date in future", {"date_of_birth": "2999-01-01"}, None, 422, "date_of_birth"),
    ("no NID nor birth registration", {"nid": ...}, None, 422, "nid"),
]


@pytest.mark.parametrize("case,changes,raw,status,field", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_and_nothing_is_stored(service, case, changes, raw, status, field):
    client, db = service
    response = client.call("POST", "/migrants", body=payload(**changes) if changes else None, raw=raw)
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json
    assert problem["status"] == status and problem["type"].startswith("urn:probashi:problem:")
    if field:
        assert field in problem["errors"]
    assert db.migrants.count_documents({}) == 0 and db.outbox.count_documents({}) == 0


def test_wrong_content_type_is_415(service):
    client, db = service
    response = client.http.post("/api/v1/migrants", data="name_en=x", content_type="application/x-www-form-urlencoded",
                                headers={"Authorization": f"Bearer {client.token('udc_operator')}"})
    assert response.status_code == 415 and db.migrants.count_documents({}) == 0


def test_history_is_written_with_the_change(service):
    client, db = service
    ref = client.call("POST", "/migrants", body=payload()).json["reference"]
    client.call("POST", f"/migrants/{ref}/steps", body={"step": "visa", "date": "2025-03-01", "reference": "V-1"})
    # No relay and no consumer run: the history is there as soon as the change is.
    history = client.call("GET", f"/migrants/{ref}/history", role="migrant", migrant_ref=ref)
    assert history.status_code == 200
    assert [e["type"] for e in history.json["items"]] == ["registration.migrant.step_recorded",
                                                          "registration.migrant.registered"]
    assert [e["event_id"] for e in history.json["items"]] == [r["_id"] for r in db.outbox.find().sort("created_at", -1)]
    assert "UDC Daudkandi" in history.json["items"][1]["summary"]
    assert history.json["items"][1]["summary_bn"]


def test_a_refused_change_writes_no_history(service):
    client, db = service
    ref = client.call("POST", "/migrants", body=payload()).json["reference"]
    stale = client.call("PATCH", f"/migrants/{ref}", body={"occupation": "Cook"}, headers={"If-Match": '"5"'})
    assert stale.status_code == 412 and db.history.count_documents({}) == 1


def test_openapi_and_health_are_public(service):
    client, _ = service
    spec = client.http.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    post = spec["paths"]["/api/v1/migrants"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MigrantCreate"}
    assert {"201", "400", "401", "403", "409", "422", "503"} <= set(post["responses"])
    assert post["security"] == [{"bearer": []}]
    patch = spec["paths"]["/api/v1/migrants/{reference}"]["patch"]
    assert {"404", "409", "412", "428"} <= set(patch["responses"])
    assert "security" not in spec["paths"]["/health/ready"]["get"]
    assert client.http.get("/health/live").status_code == 200
    ready = client.http.get("/health/ready")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "broker": "ok"}


def test_production_refuses_the_development_key(infra):
    settings = infra.settings("registration", environment="production")  # with the tests' development key
    with pytest.raises(RuntimeError, match="JWT_DEV_KEY_FILE"):
        registration_api.create(settings, configure_logging=False)


def test_database_outage_gives_503_and_recovers_without_restart(infra, service):
    if infra.mongo_server is None:
        pytest.skip("needs the harness's own database server to stop and start")
    client, db = service
    ref = client.call("POST", "/migrants", body=payload()).json["reference"]
    infra.mongo_server.stop()
    try:
        down = client.call("GET", f"/migrants/{ref}", role="welfare_officer")
        assert down.status_code == 503 and down.headers["Retry-After"] == "5"
        assert down.headers["Content-Type"] == "application/problem+json"
        assert client.http.get("/health/ready").status_code == 503
    finally:
        infra.mongo_server.start()
    assert client.call("GET", f"/migrants/{ref}", role="welfare_officer").status_code == 200


def test_search_pages_through_migrants_registered_in_the_same_instant(service):
    client, db = service
    refs = [client.call("POST", "/migrants", body=payload(passport_number=f"AB{1000000 + i}",
                                                          nid=f"{3000000000 + i}")).json["reference"]
            for i in range(5)]
    same = db.migrants.find_one({"_id": refs[0]})["created_at"]
    db.migrants.update_many({}, {"$set": {"created_at": same}})  # a bulk import stamps one instant
    seen = every_reference_by_pages_of_two(client)
    assert seen == sorted(refs, reverse=True)  # ties broken by reference, each exactly once
