"""Every lookup by staff is on record: reads, searches that find nothing, and the 409 that
names an existing registration by its NID or passport."""
from __future__ import annotations

import pytest

from shared.errors import Conflict
from tests.unit.registration_fakes import FakeAudit, FakeUnitOfWork, build_service
from tests.unit.test_registration_service import OFFICER, OPERATOR, details


@pytest.fixture
def audit():
    return FakeAudit()


@pytest.fixture
def service(audit):
    return build_service(FakeUnitOfWork(), audit)


@pytest.mark.parametrize("field,value", [("passport_number", "BX0123456"), ("nid", "1234567890")])
def test_a_registration_refused_as_a_duplicate_is_an_audited_lookup(service, audit, field, value):
    first = service.register(OPERATOR, details())["reference"]
    with pytest.raises(Conflict) as err:
        service.register(OPERATOR, {**details(passport_number="AA1234567", nid="9876543210"), field: value})
    assert err.value.extra["existing_reference"] == first
    assert audit.entries == [("op-1", "udc_operator", "lookup", first)]
    assert audit.details == [{"via": "duplicate", "query": {field: value}}]


def test_an_update_refused_as_a_duplicate_is_an_audited_lookup(service, audit):
    first = service.register(OPERATOR, details())["reference"]
    second = service.register(OPERATOR, details(passport_number="AA1234567", nid="9876543210"))["reference"]
    with pytest.raises(Conflict):
        service.update(OFFICER, second, {"passport_number": "BX0123456"}, '"1"')
    assert audit.entries == [("wo-1", "welfare_officer", "lookup", first)]
    assert audit.details == [{"via": "duplicate", "query": {"passport_number": "BX0123456"}}]


def test_a_search_that_finds_nothing_is_audited(service, audit):
    service.register(OPERATOR, details())
    assert service.search(OFFICER, {"nid": "5555555555"}, 10, None)["items"] == []
    assert audit.entries == [("wo-1", "welfare_officer", "search", None)]
    assert audit.details == [{"query": {"nid": "5555555555"}, "found": []}]


def test_a_search_is_audited_once_and_each_record_found_as_read(service, audit):
    ref = service.register(OPERATOR, details())["reference"]
    service.search(OFFICER, {"phone": "+8801712345678"}, 10, None)
    assert audit.entries == [("wo-1", "welfare_officer", "search", None), ("wo-1", "welfare_officer", "read", ref)]
    assert audit.details[0] == {"query": {"phone": "+8801712345678"}, "found": [ref]}
