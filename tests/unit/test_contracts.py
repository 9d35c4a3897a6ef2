"""Every integration event has a contract, and nothing else is emitted (shared/contracts.py)."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from marshmallow import fields

from shared import contracts
from shared.contracts import ContractViolation
from shared.uow import Tx

SERVICES = Path(__file__).resolve().parents[2] / "services"
SERVICE_NAMES = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())
REGISTERED = {"reference": "PB-2345-6789", "name_en": "Rahima Begum", "name_bn": "রহিমা বেগম",
              "phone": "+8801712345678", "registered_by": {"user": "op-1", "role": "udc_operator",
                                                           "udc_centre": "UDC Daudkandi"}}


def published_types(service: str) -> set[str]:
    """Event types a service names in its code: '<service>.<aggregate>.<action>' literals."""
    pattern = re.compile(rf"""["']({re.escape(service)}\.[a-z_]+\.[a-z_]+)["']""")
    return {m for path in (SERVICES / service).rglob("*.py") for m in pattern.findall(path.read_text())}


def emit(event_type: str, data: dict):
    tx = Tx(db=None, session=None, source="test")  # emit touches no database
    return tx, tx.emit(event_type, subject_type="migrant", subject_id="PB-2345-6789", aggregate_version=1,
                       data=data)


# A service publishes once it has a relay (its outbox's way out); a package that is only a
# domain so far names event types it will publish when its service lands.
PUBLISHERS = [s for s in SERVICE_NAMES if (SERVICES / s / "relay.py").exists()]


def test_the_services_that_publish_are_found():
    assert {"registration", "documents", "claims"} <= set(PUBLISHERS)


@pytest.mark.parametrize("service", PUBLISHERS)
def test_every_event_type_a_service_publishes_has_a_contract(service):
    types = published_types(service)
    missing = sorted(t for t in types if (t, 1) not in contracts.CONTRACTS)
    assert not missing, f"{service} publishes events without a contract: {missing}"


def test_registration_and_documents_publish_what_their_contracts_say():
    assert published_types("registration") == set(contracts.types_matching("registration.#"))
    assert published_types("documents") == set(contracts.types_matching("documents.#"))


def test_the_directory_publishes_what_its_contracts_say_and_names_an_agency_by_its_licence():
    assert published_types("directory") == set(contracts.types_matching("directory.#")) == {
        f"directory.{kind}.changed" for kind in ("agency", "country", "link", "topic")}
    data = {"licence_number": "RL-123", "change": "replaced", "last_checked": "2026-11-28",
            "by": {"user": "admin-1", "role": "admin"}, "name": {"bn": "নূর ট্রাভেলস", "en": "Noor Travels"},
            "status": "suspended", "valid_until": None}
    emit("directory.agency.changed", data)
    for wrong in ({"licence_number": "RL-0123"}, {"status": "blacklisted"}, {"change": "deleted"},
                  {"name": {"en": "Noor Travels"}}):
        with pytest.raises(ContractViolation):
            emit("directory.agency.changed", {**data, **wrong})


@pytest.mark.parametrize("service", [s for s in SERVICE_NAMES if (SERVICES / s / "consumer.py").exists()])
def test_every_event_type_a_consumer_handles_has_a_contract(service):
    consumer = importlib.import_module(f"services.{service}.consumer").consumer
    for key in consumer.binding_keys:
        assert contracts.types_matching(key), f"{service} consumes {key!r}, which no contract defines"


CLAIM_FIELDS = {"claim_type": "death_grant", "migrant_reference": "PB-2345-6789", "claimant_phone": None,
                "approved_amount": 300000}
# What a claims event carries beyond the case shape (the overdue mark says which clock, due when;
# a payment its taka and the total paid so far).
CLAIM_EXTRA = {"claims.claim.overdue": {"stage": "under_review", "due_at": "2026-12-01T00:00:00+00:00"},
               **{f"claims.claim.{a}": {"payment_amount": 150000, "paid_total": 300000}
                  for a in ("payment_recorded", "paid")},
               # the replay's: the claim as it stands, with what a late learner's timeline needs
               "claims.claim.snapshot": {"filed_at": "2026-11-01T09:00:00Z", "filed_on": "2026-11-01",
                                         "updated_at": "2026-11-02T09:00:00Z", "approved_amount": None,
                                         "paid_total": 0}}


COMPLAINT_FIELDS = {"receipt_number": "CP-2345-678X", "migrant_reference": "PB-2345-6789",
                    "complainant_phone": "+8801712345678", "category": "unpaid_wages", "agency_licences": ["RL-1234"],
                    "restricted": False, "assignee": "legal_aid-7"}
HEARING = {"hearing_no": 1, "date": "2026-12-05", "venue": "BMET Dhaka", "parties": ["complainant", "sub_agent"]}
REFERRAL = {"referral_no": 1, "body": "court", "referral_state": "pending", "due_at": "2026-12-28T09:00:00+00:00"}
AWARD = {"amount": 100000, "paid_total": 0, "payment_deadline": "2027-01-31"}
COMPLAINT_EXTRA = {**{f"complaints.complaint.{a}": HEARING for a in ("hearing_scheduled", "hearing_held",
                                                                      "hearing_adjourned")},
                   **{f"complaints.complaint.{a}": REFERRAL for a in ("referred", "referral_updated")},
                   **{f"complaints.complaint.{a}": AWARD for a in ("settled", "award_issued", "compliance_monitoring",
                                                                   "payment_received", "complied", "not_complied",
                                                                   "enforcement")},
                   "complaints.complaint.overdue": {"stage": "disposal", "due_at": "2027-02-26T09:00:00+00:00"},
                   "complaints.complaint.snapshot": {
                       "filed_at": "2026-11-01T09:00:00Z", "updated_at": "2026-11-02T09:00:00Z",
                       "next_hearing": {"date": "2026-12-05", "venue": "BMET Dhaka"},
                       "outcome": {"kind": "award_issued", "amount": 100000, "payment_deadline": "2027-01-31"},
                       "paid_total": 40000}}


def test_the_case_events_documents_consumes_have_their_expected_shape():
    for event_type in contracts.types_matching("claims.claim.*") + contracts.types_matching("complaints.complaint.*"):
        more = {**CLAIM_FIELDS, **CLAIM_EXTRA.get(event_type, {})} if event_type.startswith("claims.") else \
            {**COMPLAINT_FIELDS, **COMPLAINT_EXTRA.get(event_type, {})}
        emit(event_type, {"case_id": "CL-1", "status": "open", "document_ids": ["DOC-1"], **more})
        emit(event_type, {"case_id": "CL-1", "status": "closed", "document_ids": [], **more})
        with pytest.raises(ContractViolation):
            emit(event_type, {"status": "open", **more})


def test_a_claim_event_carries_whole_taka_approved_and_only_a_payment_event_the_taka_paid():
    data = {"case_id": "CL-1", "status": "approved", "document_ids": [], **CLAIM_FIELDS}
    emit("claims.claim.approved", data)
    emit("claims.claim.submitted", {**data, "status": "submitted", "approved_amount": None})
    for amount in (-1, 300000.5, "300000"):
        with pytest.raises(ContractViolation, match="approved_amount"):
            emit("claims.claim.approved", {**data, "approved_amount": amount})
    with pytest.raises(ContractViolation, match="payment_amount"):
        emit("claims.claim.approved", {**data, "payment_amount": 150000})
    with pytest.raises(ContractViolation, match="payment_amount"):
        emit("claims.claim.payment_recorded", {**data, "payment_amount": 0, "paid_total": 0})


def test_a_complaint_event_names_its_assignee_or_null_and_the_snapshot_always_does():
    data = {"case_id": "CP-1", "status": "received", "document_ids": [], **COMPLAINT_FIELDS}
    emit("complaints.complaint.received", {**data, "assignee": None})
    with pytest.raises(ContractViolation, match="assignee"):
        emit("complaints.complaint.assigned", {**data, "assignee": ""})
    snapshot = {**data, **COMPLAINT_EXTRA["complaints.complaint.snapshot"]}
    emit("complaints.complaint.snapshot", snapshot)
    with pytest.raises(ContractViolation, match="assignee"):
        emit("complaints.complaint.snapshot", {k: v for k, v in snapshot.items() if k != "assignee"})


def _declared_names(schema, seen=()) -> set[str]:
    names = set()
    for name, field in schema().fields.items():
        names.add(field.data_key or name)
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested) and inner.nested not in seen:
            names |= _declared_names(inner.nested, (*seen, inner.nested))
    return names


def test_no_contract_declares_a_personal_identifier():
    for (event_type, version), schema in contracts.CONTRACTS.items():
        assert not _declared_names(schema) & contracts.PERSONAL_IDENTIFIERS, event_type


def test_emit_accepts_an_event_that_matches_its_contract():
    tx, event = emit("registration.migrant.registered", REGISTERED)
    assert tx.events == [event]


@pytest.mark.parametrize("field", sorted(contracts.PERSONAL_IDENTIFIERS))
def test_emit_refuses_an_event_carrying_a_personal_identifier(field):
    with pytest.raises(ContractViolation, match=field):
        emit("registration.migrant.registered", {**REGISTERED, field: "1994123456789"})
    with pytest.raises(ContractViolation, match=field):  # nested, too
        emit("registration.migrant.updated", {"reference": "PB-2345-6789", "changed": [field],
                                              "values": {field: "x"}, "by": REGISTERED["registered_by"]})


@pytest.mark.parametrize("event_type,data", [
    ("registration.migrant.registered", {**REGISTERED, "occupation": "Cook"}),   # undeclared field
    ("registration.migrant.registered", {k: v for k, v in REGISTERED.items() if k != "phone"}),  # missing
    ("registration.migrant.registered", {**REGISTERED, "registered_by": {"user": "x", "role": "pirate"}}),
    ("registration.migrant.nicknamed", {"reference": "PB-2345-6789"}),            # no contract
], ids=["undeclared field", "missing field", "bad actor", "unknown type"])
def test_emit_refuses_an_event_that_does_not_match(event_type, data):
    with pytest.raises(ContractViolation):
        emit(event_type, data)


def test_a_contract_is_per_schema_version():
    event = contracts.Envelope.new(type="registration.migrant.registered", source="registration",
                                   subject_type="migrant", subject_id="PB-2345-6789", aggregate_version=1,
                                   data=REGISTERED, schema_version=2)
    with pytest.raises(ContractViolation, match="v2 has no contract"):
        contracts.check(event)


def test_contracts_defined_for_a_test_are_gone_afterwards():
    with contracts.defined({("scratch.thing.created", 1): contracts.Contract}):
        emit("scratch.thing.created", {})
    with pytest.raises(ContractViolation):
        emit("scratch.thing.created", {})


@pytest.mark.parametrize("licence,valid", [("RL-1234", True), ("RL-1", True), ("RL-0123", False),
                                           ("rl 1234", False), ("1234", False), ("RL-123456", False)])
def test_a_migrant_event_carries_the_agency_licence_only_as_rl_number(licence, valid):
    by = REGISTERED["registered_by"]
    events = [("registration.migrant.registered", {**REGISTERED, "recruiting_agency_licence": licence}),
              ("registration.migrant.updated", {"reference": "PB-2345-6789", "changed": ["recruiting_agency_licence"],
                                                "values": {"recruiting_agency_licence": licence}, "by": by}),
              ("registration.migrant.snapshot", {**REGISTERED, "registered_at": "2026-11-28T09:00:00Z", "steps": [],
                                                 "membership": None, "recruiting_agency_licence": licence})]
    for event_type, data in events:
        if valid:
            emit(event_type, data)
        else:
            with pytest.raises(ContractViolation, match="recruiting_agency_licence"):
                emit(event_type, data)


def test_a_cleared_licence_is_null_in_migrant_updated():
    emit("registration.migrant.updated", {"reference": "PB-2345-6789", "changed": ["recruiting_agency_licence"],
                                          "values": {"recruiting_agency_licence": None},
                                          "by": REGISTERED["registered_by"]})


def test_a_complaint_event_carries_the_complainants_phone_but_never_an_identity_number():
    data = {"case_id": "CMP-2026-AAAAAAAA", "status": "received", "document_ids": [], **COMPLAINT_FIELDS}
    assert emit("complaints.complaint.received", data)[1].data["complainant_phone"] == "+8801712345678"
    with pytest.raises(ContractViolation, match="nid"):
        emit("complaints.complaint.received", {**data, "nid": "1994123456789"})
    with pytest.raises(ContractViolation):  # the generic case actions are gone: each event is named
        emit("complaints.complaint.opened", data)


@pytest.mark.parametrize("event_type,data", [
    ("claims.claim.snapshot", {"case_id": "CL-1", "status": "approved", "document_ids": [], **CLAIM_FIELDS,
                               **CLAIM_EXTRA["claims.claim.snapshot"], "heirs": []}),
    ("complaints.complaint.snapshot", {"case_id": "CP-1", "status": "received", "document_ids": [],
                                       **COMPLAINT_FIELDS, **COMPLAINT_EXTRA["complaints.complaint.snapshot"],
                                       "narrative": "What happened to me abroad."}),
], ids=["a claim's heirs", "a complaint's narrative"])
def test_a_case_snapshot_refuses_what_its_live_events_never_carry(event_type, data):
    with pytest.raises(ContractViolation, match="Unknown field"):
        emit(event_type, data)
