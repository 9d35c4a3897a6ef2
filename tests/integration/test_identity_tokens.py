"""Identity's tokens as the other services see them: registration, trusting identity's JWKS
over real HTTP (JWT_JWKS_URL), accepts a staff member's access token, refuses it once it
expired, and keeps accepting requests while identity's keys rotate. Identity trusts its
own tokens from its own database."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import jwt
import pytest
from werkzeug.serving import make_server

from services.registration import api as registration_api
from shared.auth import InvalidToken, verify_token
from tests.integration.test_identity_api import PASSWORD, Desk

pytestmark = pytest.mark.integration


@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def desk(infra):
    return Desk(infra)


@pytest.fixture
def registry(infra, desk):
    """Registration's API trusting identity's JWKS and nothing else (no development key)."""
    with serving(desk.app) as identity_url:
        settings = infra.settings("registration", jwt_dev_key_file="",
                                  jwt_jwks_url=f"{identity_url}/api/v1/.well-known/jwks.json")
        app = registration_api.create(settings, configure_logging=False)
        yield app.test_client(), settings


def search(registry, access_token):
    http, _ = registry
    return http.get("/api/v1/migrants?limit=1", headers={"Authorization": f"Bearer {access_token}"})


def test_another_service_accepts_identitys_access_token_until_it_expires(desk, registry):
    pair = desk.staff("rahima")
    assert search(registry, pair["access_token"]).status_code == 200
    principal = verify_token(registry[1], pair["access_token"])
    assert (principal.subject, principal.role) == ("rahima", "welfare_officer")
    desk.clock.advance(minutes=-16)  # a token issued sixteen minutes ago has expired
    old = desk.sign_in("rahima", PASSWORD).json["access_token"]
    refused = search(registry, old)
    assert refused.status_code == 401 and "expired" in refused.json["detail"]


def test_requests_keep_succeeding_while_the_keys_rotate(desk, registry):
    before = desk.staff("rahima")
    assert search(registry, before["access_token"]).status_code == 200  # registration has cached the JWKS
    desk.service.rotate_keys()
    after = desk.refresh(before["refresh_token"]).json
    assert jwt.get_unverified_header(after["access_token"])["kid"] != \
        jwt.get_unverified_header(before["access_token"])["kid"]
    # The new key was published as `next` before it signed; the old one is still published.
    assert search(registry, after["access_token"]).status_code == 200
    assert search(registry, before["access_token"]).status_code == 200
    desk.service.rotate_keys()
    third = desk.refresh(after["refresh_token"]).json
    assert search(registry, third["access_token"]).status_code == 200
    assert search(registry, after["access_token"]).status_code == 200


def test_a_retired_key_signs_nothing_another_service_accepts(desk, registry, infra):
    before = desk.staff("rahima")["access_token"]
    desk.service.rotate_keys()
    desk.service.retire_keys(force=True)
    # A registration that never saw the old key (a fresh cache) refuses the token it signed.
    settings = infra.settings("registration", jwt_dev_key_file="", jwt_jwks_url=registry[1].jwt_jwks_url + "?fresh")
    with pytest.raises(InvalidToken, match="unknown key id"):
        verify_token(settings, before)


def test_identity_accepts_the_tokens_it_signs_for_its_own_routes(desk):
    temporary = desk.create("boss", role="admin")["temporary_password"]
    pair = desk.sign_in("boss", temporary, new_password=PASSWORD).json
    mine = {"Authorization": f"Bearer {pair['access_token']}"}
    assert desk.http.get("/api/v1/staff/boss", headers=mine).status_code == 200
    changed = desk.http.post("/api/v1/me/password", headers=mine,
                             json={"current_password": PASSWORD, "new_password": "a-brand-new-phrase-26"})
    assert changed.status_code == 204
