"""The AsyncAPI document (shared/asyncapi.py): every contracted event type and version is in it
with a payload schema that agrees with its contract, it is a valid AsyncAPI 2.6 document (the
published JSON schemas, vendored in tests/schemas/), and what each service serves at
/asyncapi.json is what the generator writes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from services.registration.api import make_api as registration_api
from shared import asyncapi, contracts
from shared.config import Settings
from shared.events import Envelope
from shared.http.api import Api
from shared.http.app import create_app
from tests import harness

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
ASYNCAPI = Draft7Validator(json.loads((SCHEMAS / "asyncapi-2.6.0.json").read_text()))
AMQP = {kind: Draft7Validator(json.loads((SCHEMAS / f"asyncapi-amqp-0.2.0-{kind}.json").read_text()))
        for kind in ("channel", "operation", "message")}
SERVICES = ["registration", "documents", "claims", "complaints", "identity", "directory", "casestatus"]


@pytest.fixture(scope="module")
def whole():
    return asyncapi.document()


def problems(document: dict) -> list[str]:
    """What the AsyncAPI 2.6 schema, and the AMQP bindings' own schemas, find wrong."""
    def check(kind: str, where: str, binding: dict) -> list[str]:
        return [f"{where} {kind} binding: {e.message}" for e in AMQP[kind].iter_errors(binding["amqp"])]

    found = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in ASYNCAPI.iter_errors(document)]
    for name, channel in document["channels"].items():
        found += check("channel", name, channel["bindings"])
        found += check("operation", name, channel["subscribe"]["bindings"])
    for name, message in document["components"]["messages"].items():
        found += check("message", name, message["bindings"])
    return found


def payload_validator(document: dict, event_type: str, version: int = 1) -> Draft7Validator:
    """The message's payload schema, its $refs resolved in the document."""
    message = asyncapi.message_id(event_type, version)
    return Draft7Validator({**document, "$ref": f"#/components/messages/{message}/payload"})


# -- every contract is there, and its schema says what the contract enforces -------------------

def test_every_contracted_event_type_and_version_has_a_channel_and_a_message(whole):
    assert set(whole["channels"]) == set(contracts.event_types())
    assert set(whole["components"]["messages"]) == {asyncapi.message_id(*key) for key in contracts.CONTRACTS}
    for (event_type, version), contract in contracts.CONTRACTS.items():
        payload = whole["components"]["messages"][asyncapi.message_id(event_type, version)]["payload"]
        assert payload["properties"]["type"] == {"const": event_type}
        assert payload["properties"]["schema_version"] == {"const": version}
        data = whole["components"]["schemas"][contract.__name__]
        assert set(data["properties"]) == set(contract().fields), event_type
        assert {name for name, field in contract().fields.items() if field.required} == set(data.get("required", []))
        assert data["additionalProperties"] is False  # undeclared fields are refused, as Contract does


def test_each_channel_names_its_exchange_and_message(whole):
    registered = whole["channels"]["registration.migrant.registered"]
    assert registered["bindings"]["amqp"]["exchange"] == {"name": "probashi.events", "type": "topic", "durable": True,
                                                          "autoDelete": False, "vhost": "/"}
    assert registered["subscribe"]["message"] == {"$ref": "#/components/messages/registration.migrant.registered.v1"}
    for replayed in ("registration.migrant.snapshot", "replay.completed"):  # straight to the asker's queue
        assert whole["channels"][replayed]["bindings"]["amqp"]["exchange"]["type"] == "default"


def test_a_second_schema_version_is_a_second_message_of_the_channel():
    with contracts.defined({("registration.migrant.registered", 2): contracts.MigrantUpdated}):
        asyncapi._build.cache_clear()
        try:
            document = asyncapi.document("registration")
        finally:
            asyncapi._build.cache_clear()
    assert document["channels"]["registration.migrant.registered"]["subscribe"]["message"] == {"oneOf": [
        {"$ref": "#/components/messages/registration.migrant.registered.v1"},
        {"$ref": "#/components/messages/registration.migrant.registered.v2"}]}
    assert problems(document) == []


ACTOR = {"user": "op-1", "role": "udc_operator", "udc_centre": "UDC Daudkandi"}
# Contract-valid data of a few types: nested, nullable, nullable nested, enums, dates.
EXAMPLES = {
    "registration.migrant.registered": {"reference": "PB-2345-6789", "name_en": "Rahima Begum", "name_bn": "রহিমা বেগম",
                                        "phone": "+8801712345678", "registered_by": ACTOR,
                                        "recruiting_agency_licence": "RL-1234"},
    "documents.document.rejected": {"document_id": "DOC-1", "owner": "PB-2345-6789", "doc_type": "visa", "version": 2,
                                    "reason": None, "by": {"user": "wo-1", "role": "welfare_officer"}},
    "identity.otp.failed": {"request_id": None, "phone": "+8801*******78", "reason": "expired", "tries": None},
    "registration.migrant.snapshot": {"reference": "PB-2345-6789", "name_en": "Rahima Begum", "name_bn": "রহিমা বেগম",
                                      "phone": "+8801712345678", "registered_by": ACTOR,
                                      "registered_at": "2026-11-28T10:00:00Z",
                                      "steps": [{"step": "bmet_card", "date": "2026-11-20"}], "membership": None},
}
# Changes the contract refuses; the schema must refuse them too.
BREAKAGES = {
    "an undeclared field": ("registration.migrant.registered", {"undeclared": "x"}),
    "a required field missing": ("registration.migrant.registered", {"phone": ...}),
    "null where none is allowed": ("registration.migrant.registered", {"phone": None}),
    "a licence not as BMET prints it": ("registration.migrant.registered", {"recruiting_agency_licence": "RL-0123"}),
    "a nested actor's unknown role": ("registration.migrant.registered", {"registered_by": {**ACTOR, "role": "mayor"}}),
    "a nested actor's undeclared field": ("documents.document.rejected",
                                          {"by": {"user": "wo-1", "role": "welfare_officer", "extra": 1}}),
    "a number as text": ("documents.document.rejected", {"version": "2"}),
    "a number below its minimum": ("documents.document.rejected", {"version": 0}),
    "an enum's unknown value": ("identity.otp.failed", {"reason": "forgotten"}),
    "a phone unmasked": ("identity.otp.failed", {"phone": "+8801712345678"}),
    "a listed object missing a field": ("registration.migrant.snapshot", {"steps": [{"step": "bmet_card"}]}),
    "a nested object as text": ("registration.migrant.snapshot", {"membership": "yes"}),
}


def envelope(event_type: str, data: dict) -> dict:
    return json.loads(Envelope.new(type=event_type, source=event_type.split(".")[0], subject_type="migrant",
                                   subject_id="PB-2345-6789", aggregate_version=1, data=data).to_json())


@pytest.mark.parametrize("event_type", EXAMPLES)
def test_an_event_its_contract_accepts_matches_its_payload_schema(whole, event_type):
    event = envelope(event_type, EXAMPLES[event_type])
    contracts.check(Envelope.from_dict(event))
    assert list(payload_validator(whole, event_type).iter_errors(event)) == []


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_what_a_contract_refuses_its_payload_schema_refuses(whole, breakage):
    event_type, changes = BREAKAGES[breakage]
    data = {**EXAMPLES[event_type], **changes}
    data = {key: value for key, value in data.items() if value is not ...}  # ...: the field left out
    with pytest.raises(contracts.ContractViolation):
        contracts.check(Envelope.from_dict(envelope(event_type, data)))
    assert list(payload_validator(whole, event_type).iter_errors(envelope(event_type, data)))


def test_an_envelope_of_another_type_or_version_does_not_match(whole):
    event = envelope("registration.migrant.registered", EXAMPLES["registration.migrant.registered"])
    validator = payload_validator(whole, "registration.migrant.registered")
    assert list(validator.iter_errors({**event, "type": "registration.migrant.updated"}))
    assert list(validator.iter_errors({**event, "schema_version": 2}))
    assert list(validator.iter_errors({k: v for k, v in event.items() if k != "correlation_id"}))


# -- a valid AsyncAPI document ----------------------------------------------------------------

@pytest.mark.parametrize("service", [None, *SERVICES])
def test_the_document_is_valid_asyncapi_2_6(service):
    assert problems(asyncapi.document(service)) == []


@pytest.mark.parametrize("break_it", [
    lambda d: d.update(asyncapi="2.5.0"),
    lambda d: d.pop("info"),
    lambda d: d["channels"]["registration.migrant.registered"]["subscribe"].update(publishes=True),
    lambda d: d["components"]["schemas"]["Actor"].update(type="strng"),
    lambda d: d["channels"]["registration.migrant.registered"]["bindings"]["amqp"]["exchange"].update(type="bogus"),
    lambda d: d["components"]["messages"]["registration.migrant.registered.v1"]["bindings"]["amqp"].update(x=1),
], ids=["version", "no-info", "unknown-operation-field", "bad-schema-type", "bad-exchange-type", "bad-message-binding"])
def test_the_schemas_catch_a_broken_document(break_it):
    document = asyncapi.document("registration")
    break_it(document)
    assert problems(document)


# -- each service's part, served ---------------------------------------------------------------

def test_each_service_documents_the_events_it_publishes_and_together_they_are_all(whole):
    channels = {}
    for service in SERVICES:
        mine = asyncapi.document(service)["channels"]
        assert all(t.startswith(f"{service}.") or t == "replay.completed" for t in mine), service
        channels.update(mine)
    assert channels == whole["channels"]
    assert asyncapi.document("casestatus")["channels"] == {}  # it publishes nothing
    assert "replay.completed" in asyncapi.document("claims")["channels"]       # it serves replays
    assert "replay.completed" not in asyncapi.document("directory")["channels"]


def app(service: str, api=None):
    settings = Settings(service=service, amqp_prefix="unit-prefix", jwt_dev_key_file=harness.dev_key_file())
    return create_app(settings, api or Api(service), title=f"Probashi {service}", description="d", readiness={},
                      configure_logging=False)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_serves_the_generated_document_for_its_prefix(service):
    served = app(service).test_client().get("/asyncapi.json")
    assert served.status_code == 200 and served.mimetype == "application/json"
    assert served.json == asyncapi.document(service, "unit-prefix")
    for channel in served.json["channels"].values():
        assert channel["bindings"]["amqp"]["exchange"].get("name", "unit-prefix.events") == "unit-prefix.events"


def test_a_real_service_app_serves_it_beside_its_openapi_document():
    client = app("registration", registration_api(None)).test_client()
    assert client.get("/asyncapi.json").json == asyncapi.document("registration", "unit-prefix")
    assert client.get("/openapi.json").status_code == 200


def test_make_asyncapi_writes_the_whole_document(tmp_path, whole):
    out = tmp_path / "asyncapi.json"
    assert asyncapi.main(["--output", str(out)]) == 0
    assert json.loads(out.read_text()) == whole
    assert asyncapi.main(["--service", "identity", "--prefix", "p", "--output", str(out)]) == 0
    assert json.loads(out.read_text()) == asyncapi.document("identity", "p")


def test_the_document_handed_out_is_a_copy():
    document = asyncapi.document("registration")
    document["channels"].clear()
    assert asyncapi.document("registration")["channels"]
