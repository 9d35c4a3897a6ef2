"""Fuzzing each service's API from its own OpenAPI document (schemathesis), in-process
against the real database, with a valid admin token: a bounded number of generated
requests per operation, none may answer 5xx, and every answer must match the schema."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from shared.auth import issue_token
from tests.load import OFFICER, migrant

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SERVICES = sorted(p.parent.name for p in (Path(__file__).resolve().parents[2] / "services").glob("*/wsgi.py"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def known_path_parameters(service: str, settings_) -> dict:
    """Real identifiers, so generated requests also reach the code behind a 404."""
    if service != "registration":
        return {}
    from services.registration import bootstrap
    from services.registration.schemas import MigrantCreateSchema
    record = bootstrap.build(settings_).register(OFFICER, MigrantCreateSchema().load(migrant(1)))
    return {"reference": record["reference"]}


@pytest.mark.parametrize("service", SERVICES)
def test_no_5xx_and_every_answer_matches_the_openapi_document(infra, service):
    app_settings = infra.settings(service)
    app = importlib.import_module(f"services.{service}.api").create(app_settings, configure_logging=False)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {issue_token(app_settings, subject='fuzzer', role='admin')}"}
    known = known_path_parameters(service, app_settings)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        strategy = operation.as_strategy()
        if names and names <= known.keys():
            strategy = st.one_of(strategy, operation.as_strategy(path_parameters={n: known[n] for n in names}))

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
