"""The registration service layer against in-memory ports."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
import itertools

import pytest

from services.registration import domain
from services.registration.service import RegistrationService
from services.registration.validation import new_reference
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, PreconditionRequired
from tests.unit.registration_fakes import FakeAudit, FakeHistory, FakeMigrants, FakeUnitOfWork

OPERATOR = Principal("op-1", "udc_operator", udc_centre="UDC Daudkandi")
OFFICER = Principal("wo-1", "welfare_officer")


def details(**overrides) -> dict:
    base = {"name_en": "Rahim Uddin", "name_bn": "রহিম উদ্দিন", "date_of_birth": date(1995, 4, 12),
            "sex": "male", "nid": "1234567890", "passport_number": "BX0123456", "phone": "+8801712345678",
            "district": "Cumilla", "upazila": "Daudkandi", "destination_country": "SA",
            "occupation": "Construction worker"}
    base.update(overrides)
    return base


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def audit():
    return FakeAudit()


@pytest.fixture
def service(uow, audit):
    ticks = itertools.count()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return RegistrationService(uow, FakeMigrants(uow.state["migrants"]), FakeHistory(uow.state["history"]), audit,
                               clock=lambda: start + timedelta(seconds=next(ticks)))


def test_register_stores_record_and_raises_one_event(service, uow):
    migrant = service.register(OPERATOR, details())
    assert migrant["reference"].startswith("PB-")
    assert migrant["version"] == 1
    assert migrant["registered_by"]["udc_centre"] == "UDC Daudkandi"
    assert migrant["registered_by"]["user"] == "op-1"
    assert [e.type for e in uow.outbox] == [domain.REGISTERED]
    event = uow.outbox[0]
    assert event.subject.id == migrant["reference"] and event.aggregate_version == 1
    assert event.data["registered_by"]["udc_centre"] == "UDC Daudkandi"


def test_udc_operator_must_name_a_centre(service, uow):
    with pytest.raises(Invalid) as err:
        service.register(Principal("op-2", "udc_operator"), details())
    assert "udc_centre" in err.value.errors
    assert uow.state["migrants"] == {} and uow.outbox == []


def test_only_operators_register_for_a_centre(service):
    with pytest.raises(Invalid):
        service.register(OFFICER, details(udc_centre="UDC X"))


@pytest.mark.parametrize("field,value", [("passport_number", "BX0123456"), ("nid", "1234567890")])
def test_duplicate_identity_names_the_existing_reference(service, uow, field, value):
    first = service.register(OPERATOR, details())
    other = details(passport_number="AA1234567", nid="9876543210")
    other[field] = value
    with pytest.raises(Conflict) as err:
        service.register(OPERATOR, other)
    assert err.value.extra["existing_reference"] == first["reference"]
    assert err.value.extra["field"] == field
    assert len(uow.state["migrants"]) == 1 and len(uow.outbox) == 1


def test_reference_clash_draws_again(uow, audit):
    refs = iter(["PB-AAAA-AAAA", "PB-AAAA-AAAA", new_reference()])
    service = RegistrationService(uow, FakeMigrants(uow.state["migrants"]), FakeHistory(uow.state["history"]), audit,
                                  make_reference=lambda: next(refs))
    service.register(OPERATOR, details())
    second = service.register(OPERATOR, details(passport_number="AA1234567", nid="9876543210"))
    assert second["reference"] != "PB-AAAA-AAAA"


def test_update_needs_the_current_version(service, uow):
    migrant = service.register(OPERATOR, details())
    ref = migrant["reference"]
    with pytest.raises(PreconditionRequired):
        service.update(OFFICER, ref, {"occupation": "Driver"}, None)
    updated = service.update(OFFICER, ref, {"occupation": "Driver"}, '"1"')
    assert updated["version"] == 2 and updated["occupation"] == "Driver"
    with pytest.raises(PreconditionFailed):
        service.update(OFFICER, ref, {"occupation": "Cook"}, '"1"')
    assert uow.state["migrants"][ref]["occupation"] == "Driver"
    assert [e.type for e in uow.outbox] == [domain.REGISTERED, domain.UPDATED]
    assert uow.outbox[1].data["changed"] == ["occupation"] and uow.outbox[1].aggregate_version == 2


def test_update_without_change_raises_no_event(service, uow):
    migrant = service.register(OPERATOR, details())
    same = service.update(OFFICER, migrant["reference"], {"occupation": "Construction worker"}, '"1"')
    assert same["version"] == 1 and len(uow.outbox) == 1


def test_update_cannot_remove_both_identity_numbers(service, uow):
    migrant = service.register(OPERATOR, details())
    with pytest.raises(Invalid):
        service.update(OFFICER, migrant["reference"], {"nid": None}, '"1"')
    assert uow.state["migrants"][migrant["reference"]]["nid"] == "1234567890"


def test_update_to_another_migrants_passport_conflicts(service):
    first = service.register(OPERATOR, details())
    second = service.register(OPERATOR, details(passport_number="AA1234567", nid="9876543210"))
    with pytest.raises(Conflict) as err:
        service.update(OFFICER, second["reference"], {"passport_number": "BX0123456"}, '"1"')
    assert err.value.extra["existing_reference"] == first["reference"]


def test_step_and_membership_bump_the_version_and_raise_events(service, uow):
    ref = service.register(OPERATOR, details())["reference"]
    after_step = service.record_step(OPERATOR, ref, {"step": "medical_fitness", "date": date(2025, 12, 1),
                                                     "reference": "MED-77"})
    assert after_step["pre_departure_steps"]["medical_fitness"]["reference"] == "MED-77"
    after_membership = service.activate_membership(OFFICER, ref, {"number": "WEWB-1/2026",
                                                                  "valid_until": date(2029, 1, 1)})
    assert after_membership["version"] == 3
    assert after_membership["wewb_membership"]["activated_by"] == "wo-1"
    assert [e.type for e in uow.outbox][1:] == [domain.STEP_RECORDED, domain.MEMBERSHIP_ACTIVATED]
    assert [e.aggregate_version for e in uow.outbox] == [1, 2, 3]


def test_migrant_sees_only_their_own_record(service, audit):
    mine = service.register(OPERATOR, details())["reference"]
    theirs = service.register(OPERATOR, details(passport_number="AA1234567", nid="9876543210"))["reference"]
    me = Principal("m-1", "migrant", migrant_ref=mine)
    assert service.get(me, mine)["reference"] == mine
    with pytest.raises(Forbidden):
        service.get(me, theirs)
    with pytest.raises(Forbidden):
        service.search(me, {}, 10, None)
    assert audit.entries == []  # a migrant reading their own record is not a staff read


def test_staff_reads_are_audited(service, audit):
    ref = service.register(OPERATOR, details())["reference"]
    service.get(OFFICER, ref)
    service.search(OFFICER, {"phone": "+8801712345678"}, 10, None)
    assert audit.entries == [("wo-1", "welfare_officer", "read", ref), ("wo-1", "welfare_officer", "search", None),
                             ("wo-1", "welfare_officer", "read", ref)]


def test_unknown_or_mistyped_reference_is_not_found(service):
    ref = service.register(OPERATOR, details())["reference"]
    typo = ref[:-1] + ("2" if ref[-1] != "2" else "3")
    with pytest.raises(NotFound):
        service.get(OFFICER, typo)
    with pytest.raises(NotFound):
        service.get(OFFICER, new_reference())


def test_search_pages_newest_first(service):
    refs = [service.register(OPERATOR, details(passport_number=f"AA{1000000 + i}", nid=f"{1000000000 + i}"))["reference"]
            for i in range(5)]
    first = service.search(OFFICER, {}, 2, None)
    second = service.search(OFFICER, {}, 2, first["next_cursor"])
    third = service.search(OFFICER, {}, 2, second["next_cursor"])
    seen = [m["reference"] for page in (first, second, third) for m in page["items"]]
    assert seen == list(reversed(refs))
    assert third["next_cursor"] is None


def test_bad_cursor_is_a_validation_error(service):
    with pytest.raises(Invalid):
        service.search(OFFICER, {}, 2, "bm90LWEtY3Vyc29y")
