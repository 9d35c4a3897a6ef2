"""The case-status OpenAPI document states what the service enforces: who reads which
timeline, the languages, and the pages."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.casestatus.api import make_api
from shared.config import Settings
from shared.http.app import create_app
from tests import harness


@pytest.fixture(scope="module")
def document():
    api = make_api(SimpleNamespace())  # declaring routes uses no service
    app = create_app(Settings(service="casestatus", jwt_dev_key_file=harness.dev_key_file()), api,
                     title="Probashi case status", description="d", readiness={}, configure_logging=False)
    return app.test_client().get("/openapi.json").json


def test_a_migrant_and_staff_read_a_migrants_timeline_and_family_only_a_cases(document):
    migrant = document["paths"]["/api/v1/migrants/{reference}/timeline"]["get"]
    case = document["paths"]["/api/v1/cases/{case_id}/timeline"]["get"]
    assert "family" not in migrant["description"] and "migrant" in migrant["description"]
    assert "family" in case["description"] and "welfare_officer" in case["description"]
    assert {"401", "403", "404", "422"} <= set(migrant["responses"]) and {"401", "403", "404"} <= set(case["responses"])


def test_the_language_is_bangla_or_english_and_lists_page_by_cursor(document):
    query = document["paths"]["/api/v1/migrants/{reference}/timeline"]["get"]["parameters"]
    names = {p["name"]: p for p in query if p["in"] == "query"}
    assert set(names) == {"lang", "limit", "cursor"}
    assert names["lang"]["schema"]["enum"] == ["bn", "en"] and names["lang"]["schema"]["default"] == "bn"
