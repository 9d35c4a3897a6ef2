"""Fixtures the portal's unit tests share."""
import pytest

from tests.portal_stub import StubServices


@pytest.fixture(scope="module")
def stub():
    """The stand-in services over real HTTP (tests/portal_stub.py), one per test module."""
    services = StubServices()
    yield services
    services.stop()
