"""The identity OpenAPI document states what the service enforces: sign-in and the keys are
public, administration is the admin's, every account step needs If-Match, and a new account's
role says whether it names a UDC centre."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from services.identity.api import make_api
from services.identity.config import IdentityConfig
from services.identity.schemas import SignInSchema, StaffCreateSchema
from shared.config import Settings
from shared.http.app import create_app
from tests import harness


@pytest.fixture(scope="module")
def document():
    api = make_api(SimpleNamespace(otp=None), IdentityConfig())  # declaring routes uses no service
    app = create_app(Settings(service="identity", jwt_dev_key_file=harness.dev_key_file()), api,
                     title="Probashi identity", description="d", readiness={}, configure_logging=False)
    return app.test_client().get("/openapi.json").json


def test_sign_in_refresh_sign_out_and_the_keys_need_no_token(document):
    public = ["/api/v1/sessions", "/api/v1/tokens/refresh", "/api/v1/sessions/sign-out",
              "/api/v1/.well-known/jwks.json", "/.well-known/jwks.json", "/.well-known/openid-configuration"]
    for path in public:
        operation = next(iter(document["paths"][path].values()))
        assert "security" not in operation, path
    assert {"401", "403", "429"} <= set(document["paths"]["/api/v1/sessions"]["post"]["responses"])


def test_administration_is_for_admins_and_every_step_requires_if_match(document):
    steps = [(path, ops["post"]) for path, ops in document["paths"].items()
             if path.startswith("/api/v1/staff/{username}/")]
    assert len(steps) == 3
    for path, op in steps:
        assert [p["name"] for p in op["parameters"] if p["in"] == "header"] == ["If-Match"], path
        assert {"409", "412", "428"} <= set(op["responses"]) and op["description"] == "Roles: admin"
    assert document["paths"]["/api/v1/staff"]["post"]["description"] == "Roles: admin"


def test_a_udc_operator_names_a_centre_and_nobody_else_does():
    body = {"username": "karim", "full_name": "Karim Mia", "district": "Cumilla"}
    assert StaffCreateSchema().load({**body, "role": "udc_operator", "udc_centre": "UDC Daudkandi"})
    with pytest.raises(ValidationError, match="name it"):
        StaffCreateSchema().load({**body, "role": "udc_operator"})
    with pytest.raises(ValidationError, match="Only a UDC operator"):
        StaffCreateSchema().load({**body, "role": "legal_aid", "udc_centre": "UDC Daudkandi"})
    with pytest.raises(ValidationError):
        StaffCreateSchema().load({**body, "role": "migrant"})  # staff roles only
    with pytest.raises(ValidationError):
        StaffCreateSchema().load({**body, "username": "Has Spaces", "role": "admin"})


def test_a_password_is_taken_as_sent_and_never_answered():
    loaded = SignInSchema().load({"username": "karim", "password": "  spaces count  "})
    assert loaded["password"] == "  spaces count  "
    assert SignInSchema().dump(loaded) == {"username": "karim"}
