"""Who may read and change a registration: the owner check, If-Match and the UDC rule."""
from __future__ import annotations

from datetime import date

import pytest

from services.registration import domain
from services.registration.schemas import MigrantUpdateSchema, StepSchema
from shared.auth import Principal
from shared.errors import Forbidden, PreconditionFailed
from tests.unit.registration_fakes import FakeAudit, FakeUnitOfWork, build_service
from tests.unit.test_registration_service import OFFICER, OPERATOR, details

ELSEWHERE = Principal("op-9", "udc_operator", udc_centre="UDC Beanibazar")
NO_CENTRE = Principal("op-0", "udc_operator")
STEP = {"step": "fingerprint", "date": date(2025, 12, 1), "reference": "FP-1"}


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def audit():
    return FakeAudit()


@pytest.fixture
def service(uow, audit):
    return build_service(uow, audit)


@pytest.fixture
def ref(service):
    return service.register(OPERATOR, details())["reference"]


def test_a_migrant_reads_their_own_history_and_not_anothers(service, ref):
    theirs = service.register(OPERATOR, details(passport_number="AA1234567", nid="9876543210"))["reference"]
    me = Principal("m-1", "migrant", migrant_ref=ref)
    assert service.history(me, ref, 10, None)["items"] is not None
    with pytest.raises(Forbidden):
        service.history(me, theirs, 10, None)


def test_a_weak_etag_does_not_satisfy_if_match(service, uow, ref):
    with pytest.raises(PreconditionFailed):
        service.update(OFFICER, ref, {"occupation": "Driver"}, 'W/"1"')
    assert uow.state["migrants"][ref]["version"] == 1 and len(uow.outbox) == 1


# -- the UDC rule ------------------------------------------------------------------

def test_an_operator_changes_a_registration_made_at_their_own_centre(service, ref):
    assert service.update(OPERATOR, ref, {"occupation": "Driver"}, '"1"')["occupation"] == "Driver"
    assert "fingerprint" in service.record_step(OPERATOR, ref, STEP)["pre_departure_steps"]


@pytest.mark.parametrize("operator", [ELSEWHERE, NO_CENTRE], ids=["other centre", "no centre"])
def test_an_operator_cannot_change_a_registration_of_another_centre(service, uow, ref, operator):
    with pytest.raises(Forbidden):
        service.update(operator, ref, {"occupation": "Driver"}, '"1"')
    with pytest.raises(Forbidden):
        service.record_step(operator, ref, STEP)
    assert uow.state["migrants"][ref]["version"] == 1 and len(uow.outbox) == 1


def test_an_operator_serves_a_person_present_and_it_is_on_record(service, uow, ref):
    updated = service.update(ELSEWHERE, ref, {"occupation": "Driver", "person_present": True}, '"1"')
    assert updated["occupation"] == "Driver" and "person_present" not in updated
    event = uow.outbox[-1]
    assert event.type == domain.UPDATED
    assert event.data["by"] == {"user": "op-9", "role": "udc_operator", "udc_centre": "UDC Beanibazar",
                                "person_present": True}
    # Audited in the same transaction as the change.
    assert uow.state["audit"] == [("op-9", "udc_operator", "update", ref,
                                   {"person_present": True, "udc_centre": "UDC Beanibazar", "changed": ["occupation"]})]
    # The person was assisted there, so that centre now serves them.
    service.record_step(ELSEWHERE, ref, STEP)
    assert uow.outbox[-1].data["by"]["udc_centre"] == "UDC Beanibazar"


def test_a_step_recorded_with_the_person_present_is_on_record(service, uow, ref):
    service.record_step(ELSEWHERE, ref, {**STEP, "person_present": True})
    assert uow.outbox[-1].data["by"]["person_present"] is True
    assert uow.state["audit"] == [("op-9", "udc_operator", "record_step", ref,
                                   {"person_present": True, "udc_centre": "UDC Beanibazar", "step": "fingerprint"})]


def test_a_refused_write_leaves_no_audit_of_a_presence_claim(service, uow, ref):
    with pytest.raises(PreconditionFailed):
        service.update(ELSEWHERE, ref, {"occupation": "Driver", "person_present": True}, '"7"')
    assert uow.state["audit"] == []


def test_officers_are_not_bound_to_a_centre(service, ref):
    assert service.update(OFFICER, ref, {"occupation": "Driver"}, '"1"')["version"] == 2
    assert service.record_step(Principal("ad-1", "admin"), ref, STEP)["version"] == 3


def test_person_present_is_accepted_by_the_writes_an_operator_makes():
    assert MigrantUpdateSchema().load({"occupation": "Cook", "person_present": True})["person_present"] is True
    assert StepSchema().load({"step": "visa", "date": "2025-01-01", "reference": "V-1",
                              "person_present": True})["person_present"] is True
    assert MigrantUpdateSchema().validate({"person_present": True})  # on its own it changes nothing
