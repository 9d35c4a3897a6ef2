"""Every service's API refuses forged, foreign and stale tokens, and trusts keys as a JWKS
served over HTTP publishes and retires them, without a request failing during the rotation."""
from __future__ import annotations

import importlib
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from shared import jwks
from shared.auth import dev_key, every_service, sign
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def create_app(service: str, settings):
    return importlib.import_module(f"services.{service}.api").create(settings, configure_logging=False)


def guarded_route(app) -> tuple[str, str]:
    """(method, path) of a route of this API that needs a token: a GET without a path argument
    where there is one, else any (the directory's reads are public: its PUTs, on a made-up id)."""
    paths = sorted(app.test_client().get("/openapi.json").json["paths"].items())
    routes = [("get", path) for path, operations in paths if "{" not in path and "security" in operations.get("get", {})]
    routes += [(method, re.sub(r"\{[^}]+\}", "x", path)) for path, operations in paths
               for method, operation in sorted(operations.items()) if "security" in operation]
    return routes[0]


def guarded_path(app) -> str:
    """A GET route of this API that needs a token and no path argument."""
    method, path = guarded_route(app)
    assert method == "get", "this API has no such route"
    return path


def claims(settings, **changes) -> dict:
    now = int(time.time())
    return {"sub": "someone", "role": "admin", "iss": settings.jwt_issuer, "aud": settings.service,
            "iat": now, "exp": now + 600, **changes}


def bad_tokens(settings) -> dict[str, str]:
    key = dev_key(settings)
    now = int(time.time())
    return {
        "another key": sign(claims(settings), ed25519.Ed25519PrivateKey.generate(), key.kid),
        "another issuer": sign(claims(settings, iss="https://issuer.invalid"), key.private_key, key.kid),
        "an unknown key id": sign(claims(settings), key.private_key, "key-nobody-published"),
        "alg none": jwt.encode(claims(settings), None, algorithm="none", headers={"kid": key.kid}),
        "expired": sign(claims(settings, iat=now - 700, exp=now - 100), key.private_key, key.kid),
    }


@pytest.mark.parametrize("service", every_service())
def test_forged_foreign_and_stale_tokens_are_401_in_every_service(infra, service):
    settings = infra.settings(service)
    app = create_app(service, settings)
    (method, path), client = guarded_route(app), app.test_client()
    key = dev_key(settings)
    good = client.open(path, method=method,
                       headers={"Authorization": f"Bearer {sign(claims(settings), key.private_key, key.kid)}"})
    assert good.status_code != 401, (path, good.json)
    for kind, token in bad_tokens(settings).items():
        response = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (kind, path, response.json)
        assert response.mimetype == "application/problem+json"
        assert "invalid_token" in response.headers["WWW-Authenticate"], kind


class JwksServer:
    """Identity's /.well-known/jwks.json as far as a service can tell: a document over HTTP
    that publishes whichever keys the test says, counting the fetches."""

    def __init__(self):
        self.keys: dict[str, ed25519.Ed25519PrivateKey] = {}
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.fetches += 1
                body = json.dumps({"keys": [jwks.public_jwk(key.public_key(), kid)
                                            for kid, key in server.keys.items()]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A URL of its own: a process keeps one key cache per URL, and ports come round again.
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/api/v1/.well-known/jwks.json?t={uuid.uuid4().hex}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def identity():
    server = JwksServer()
    yield server
    server.close()


def test_keys_rotate_while_requests_keep_succeeding(infra, identity):
    cache_seconds = 0.5
    settings = infra.settings("registration", jwt_jwks_url=identity.url, jwt_jwks_cache_seconds=cache_seconds,
                              jwt_dev_key_file="")  # only what the JWKS publishes
    app = create_app("registration", settings)
    path, client = guarded_path(app), app.test_client()
    a, b = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()

    def status(key, kid):
        return client.get(path, headers={"Authorization": f"Bearer {sign(claims(settings), key, kid)}"}).status_code

    identity.keys = {"key-a": a}
    assert status(a, "key-a") == 200
    fetches = identity.fetches

    identity.keys = {"key-a": a, "key-b": b}  # identity publishes B next to A, then signs with B
    assert status(b, "key-b") == 200  # an unknown kid: fetched at once
    assert identity.fetches == fetches + 1
    assert status(a, "key-a") == 200  # tokens A signed before the switch still work

    identity.keys = {"key-b": b}  # A retired: refused once the cache time has passed
    wait_for(lambda: status(a, "key-a") == 401, timeout=10 * cache_seconds + 5,
             message="a retired key was still trusted after the cache time")
    assert status(b, "key-b") == 200


def test_a_jwks_that_cannot_be_reached_refuses_its_tokens_but_not_the_start(infra, identity):
    url = identity.url
    identity.close()  # identity not up yet: the service starts, and trusts nothing it cannot fetch
    settings = infra.settings("registration", jwt_jwks_url=url, jwt_dev_key_file="")
    app = create_app("registration", settings)
    token = sign(claims(settings), ed25519.Ed25519PrivateKey.generate(), "key-a")
    response = app.test_client().get(guarded_path(app), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "unknown key id" in response.json["detail"]
