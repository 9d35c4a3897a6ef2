"""What registration publishes, and the history it writes with each change."""
from __future__ import annotations

from datetime import date

import pytest

from services.registration import domain
from services.registration.consumer import consumer as registration_consumer
from shared.auth import Principal
from shared.contracts import PERSONAL_IDENTIFIERS
from shared.errors import PreconditionFailed
from tests.unit.registration_fakes import FakeAudit, FakeUnitOfWork, build_service
from tests.unit.test_registration_service import OFFICER, OPERATOR, details

IDENTITY = {"nid": "1234567890", "passport_number": "BX0123456", "birth_registration_number": "19951234567890123",
            "date_of_birth": date(1995, 4, 12)}


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def service(uow):
    return build_service(uow, FakeAudit())


def test_registered_carries_a_name_and_phone_and_no_identity_numbers(service, uow):
    ref = service.register(OPERATOR, details(**IDENTITY))["reference"]
    assert uow.outbox[0].data == {
        "reference": ref, "name_en": "Rahim Uddin", "name_bn": "রহিম উদ্দিন", "phone": "+8801712345678",
        "destination_country": "SA", "registered_by": {"user": "op-1", "role": "udc_operator", "udc_centre": "UDC Daudkandi"}}


def test_updated_names_what_changed_and_sends_only_contact_values(service, uow):
    ref = service.register(OPERATOR, details())["reference"]
    service.update(OFFICER, ref, {"nid": "5555555555", "passport_number": "AA7654321", "phone": "+8801812345678",
                                  "date_of_birth": date(1995, 4, 13), "occupation": "Cook"}, '"1"')
    data = uow.outbox[-1].data
    assert data["changed"] == ["date_of_birth", "nid", "occupation", "passport_number", "phone"]
    assert data["values"] == {"phone": "+8801812345678"}
    assert data["by"] == {"user": "wo-1", "role": "welfare_officer"}


def test_no_event_carries_a_personal_identifier(service, uow):
    ref = service.register(OPERATOR, details(**IDENTITY))["reference"]
    service.update(OFFICER, ref, {"nid": "5555555555", "name_en": "Rahim Uddin Mia"}, '"1"')
    service.record_step(OPERATOR, ref, {"step": "visa", "date": date(2025, 12, 1), "reference": "V-1", "note": "ok"})
    service.activate_membership(OFFICER, ref, {"number": "WEWB-1/2026", "valid_until": date(2029, 1, 1)})
    step, membership = uow.outbox[2].data, uow.outbox[3].data
    assert step == {"reference": ref, "step": "visa", "date": "2025-12-01", "by": OPERATOR.as_actor()}
    assert membership == {"reference": ref, "number": "WEWB-1/2026", "valid_until": "2029-01-01",
                          "by": OFFICER.as_actor()}
    for event in uow.outbox:
        assert not set(event.data) & PERSONAL_IDENTIFIERS, event.type
        assert not set(event.data.get("values", {})) & PERSONAL_IDENTIFIERS, event.type


def test_history_is_written_with_each_change(service, uow):
    ref = service.register(OPERATOR, details())["reference"]
    service.record_step(OPERATOR, ref, {"step": "visa", "date": date(2025, 12, 1), "reference": "V-1"})
    service.update(OFFICER, ref, {"occupation": "Cook"}, '"2"')
    page = service.history(Principal("m", "migrant", migrant_ref=ref), ref, 10, None)
    assert [e["type"] for e in page["items"]] == [domain.UPDATED, domain.STEP_RECORDED, domain.REGISTERED]
    assert [e["event_id"] for e in page["items"]] == [e.id for e in reversed(uow.outbox)]
    assert page["items"][2]["summary"] == "Registered at UDC Daudkandi" and page["items"][2]["summary_bn"]
    assert page["items"][0]["summary"] == "Details updated: occupation"


def test_a_refused_change_writes_no_history(service, uow):
    ref = service.register(OPERATOR, details())["reference"]
    with pytest.raises(PreconditionFailed):
        service.update(OFFICER, ref, {"occupation": "Cook"}, '"9"')
    assert len(uow.state["history"]) == 1


def test_registration_does_not_consume_its_own_events():
    assert not [key for key in registration_consumer.binding_keys if key.startswith("registration.")]


# -- the recruiting agency's licence (the complaints scorecard counts workers per agency) --

def test_registered_carries_the_recruiting_agency_licence_when_there_is_one(service, uow):
    service.register(OPERATOR, details(recruiting_agency_licence="RL-1234"))
    assert uow.outbox[0].data["recruiting_agency_licence"] == "RL-1234"
    # Without one it is absent: test_registered_carries_a_name_and_phone_and_no_identity_numbers.


def test_updated_carries_a_changed_licence_and_null_when_it_is_cleared(service, uow):
    ref = service.register(OPERATOR, details(recruiting_agency_licence="RL-1234"))["reference"]
    service.update(OFFICER, ref, {"recruiting_agency_licence": "RL-77"}, '"1"')
    assert uow.outbox[-1].data["values"] == {"recruiting_agency_licence": "RL-77"}
    service.update(OFFICER, ref, {"recruiting_agency_licence": None}, '"2"')
    assert uow.outbox[-1].data["changed"] == ["recruiting_agency_licence"]
    assert uow.outbox[-1].data["values"] == {"recruiting_agency_licence": None}
    service.update(OFFICER, ref, {"occupation": "Cook"}, '"3"')
    assert uow.outbox[-1].data["values"] == {}


def test_the_migrant_snapshot_carries_the_licence_it_holds_now():
    from services.registration import replay as registration_replay
    from tests.unit.test_replay import migrant
    snapshot = registration_replay.snapshot_data(migrant(recruiting_agency_licence="RL-9"))
    assert snapshot["recruiting_agency_licence"] == "RL-9"
    assert "recruiting_agency_licence" not in registration_replay.snapshot_data(migrant())
    assert "recruiting_agency_licence" in registration_replay.STORED_FIELDS
