"""Tokens the real services refuse: each a 401 problem+json, whatever else the token claims."""
from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from services.documents import api as documents_api
from services.registration import api as registration_api
from shared.auth import dev_key, issue_token, sign

pytestmark = pytest.mark.integration


@pytest.fixture
def registration(infra):
    settings = infra.settings("registration")
    return registration_api.create(settings, configure_logging=False).test_client(), settings


def token(settings, private_key=None, **claims) -> str:
    """Signed with the development key (or `private_key`, under the development key's kid)."""
    now = int(time.time())
    base = {"sub": "intruder", "role": "admin", "iss": settings.jwt_issuer, "aud": settings.service,
            "iat": now, "exp": now + 600}
    key = dev_key(settings)
    return sign({k: v for k, v in {**base, **claims}.items() if v is not ...}, private_key or key.private_key, key.kid)


def refused(client, bearer: str):
    response = client.get("/api/v1/migrants", headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 401, response.data
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]
    return response.json["detail"].lower()


def test_a_well_formed_token_for_this_service_is_accepted(registration):
    client, settings = registration
    response = client.get("/api/v1/migrants", headers={"Authorization": f"Bearer {token(settings)}"})
    assert response.status_code == 200, response.json


def test_expired_token_is_401(registration):
    client, settings = registration
    now = int(time.time())
    assert "expired" in refused(client, token(settings, iat=now - 700, exp=now - 100))


def test_wrongly_signed_token_is_401(registration):
    client, settings = registration
    assert "signature" in refused(client, token(settings, private_key=ed25519.Ed25519PrivateKey.generate()))


def test_wrong_issuer_is_401(registration):
    client, settings = registration
    assert "issuer" in refused(client, token(settings, iss="someone-else"))


def test_token_for_another_service_or_none_is_401(registration):
    client, settings = registration
    assert "audience" in refused(client, token(settings, aud="documents"))
    assert "aud" in refused(client, token(settings, aud=...))


def test_token_living_longer_than_the_maximum_is_401_whatever_its_signature(registration):
    client, settings = registration
    now = int(time.time())
    century = token(settings, iat=now, exp=now + 100 * 365 * 86400)
    assert "lifetime" in refused(client, century)
    assert "lifetime" in refused(client, token(settings, iat=now, exp=now + settings.jwt_max_ttl_seconds + 1))


def test_a_registration_token_does_not_open_the_documents_vault(infra):
    registration_settings = infra.settings("registration")
    vault = documents_api.create(infra.settings("documents"), configure_logging=False).test_client()
    bearer = issue_token(registration_settings, subject="officer", role="welfare_officer", audience="registration")
    guarded = "/api/v1/documents/DOC-AAAAAAAAAAAA"  # (the document types are public: the portal's guide names them)
    response = vault.get(guarded, headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    both = issue_token(registration_settings, subject="officer", role="welfare_officer",
                       audience=("registration", "documents"))
    assert vault.get(guarded, headers={"Authorization": f"Bearer {both}"}).status_code == 404


def test_a_service_that_trusts_no_key_does_not_start(infra):
    with pytest.raises(RuntimeError, match="JWT_JWKS_URL"):
        registration_api.create(infra.settings("registration", jwt_dev_key_file=""), configure_logging=False)
