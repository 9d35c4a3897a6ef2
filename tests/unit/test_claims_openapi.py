"""The claims OpenAPI document states what the service enforces: If-Match on every step
(428, 412, 409 naming the allowed steps), and per claim type what a filing needs."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from services.claims import catalogue
from services.claims.api import make_api
from services.claims.schemas import filing_schema
from shared.config import Settings
from shared.http.app import create_app
from tests import harness

CATALOGUE = catalogue.load()


@pytest.fixture(scope="module")
def document():
    api = make_api(SimpleNamespace(catalogue=CATALOGUE))  # routes need only the catalogue
    app = create_app(Settings(service="claims", jwt_dev_key_file=harness.dev_key_file()), api, title="Probashi claims", description="d",
                     readiness={}, configure_logging=False)
    return app.test_client().get("/openapi.json").json


def component(document, node):
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def test_every_step_requires_if_match_and_documents_428_412_and_409(document):
    steps = [(path, op["post"]) for path, op in document["paths"].items()
             if path.startswith("/api/v1/claims/{claim_id}/") and "post" in op
             and not path.endswith("/notes")]  # a note changes no status: it only adds
    assert len(steps) == 10
    for path, op in steps:
        assert [p["name"] for p in op["parameters"] if p["in"] == "header"] == ["If-Match"], path
        assert {"409", "412", "428"} <= set(op["responses"]), path
        assert "ETag" in op["responses"]["200"]["headers"], path


def test_the_filing_body_has_one_branch_per_claim_type_naming_what_it_needs(document):
    body = component(document, document["paths"]["/api/v1/claims"]["post"]["requestBody"]["content"]
                     ["application/json"]["schema"])
    branches = {b["properties"]["type"]["enum"][0]: b for b in body["anyOf"]}
    assert set(branches) == set(CATALOGUE.codes)
    assert branches["death_grant"]["required"] == ["heirs"]
    assert branches["death_grant"]["properties"]["event"]["required"] == ["date", "country"]
    assert branches["scholarship"]["required"] == ["child"]
    assert body["properties"]["type"]["enum"] == list(CATALOGUE.codes)


@pytest.mark.parametrize("body, field", [
    ({"type": "death_grant", "event": {"date": "2026-10-01"}}, "event"),
    ({"type": "death_grant", "event": {"date": "2026-10-01", "country": "SA"}}, "heirs"),
    ({"type": "legal_aid", "event": {"country": "SA"},
      "child": {"name_en": "Rina", "name_bn": "রিনা", "birth_registration_number": "1" * 17}}, "child"),
])
def test_the_schema_refuses_what_the_branches_refuse(body, field):
    with pytest.raises(ValidationError) as refused:
        filing_schema(CATALOGUE)().load({"migrant_reference": "PB-2345-6789", "district": "Cumilla", **body})
    assert field in refused.value.messages
