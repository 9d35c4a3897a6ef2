"""Who may read and change a registration: the owner check and If-Match."""
from __future__ import annotations

import pytest

from shared.auth import Principal
from shared.errors import Forbidden, PreconditionFailed
from tests.unit.registration_fakes import FakeAudit, FakeUnitOfWork, build_service
from tests.unit.test_registration_service import OFFICER, OPERATOR, details


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
