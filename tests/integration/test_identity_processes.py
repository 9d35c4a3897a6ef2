"""Identity as it runs: its API under gunicorn (two workers starting at once on an empty
database make one key ring), the first admin made by the command with the password on
standard input, and registration's API, trusting only identity's JWKS over HTTP, accepting
the tokens identity issues before and after a key rotation run by command."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from shared import mongo
from tests import processes
from tests.integration.test_identity_api import PASSWORD

pytestmark = pytest.mark.integration


def call(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def command(module: str, args: list[str], settings, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], input=stdin, capture_output=True, text=True,
                          cwd=processes.REPO_ROOT, env=processes.environment(settings), timeout=60)


@pytest.fixture
def cheap_hashes(monkeypatch):
    for name, value in {"IDENTITY_ARGON2_TIME_COST": "1", "IDENTITY_ARGON2_MEMORY_KIB": "8",
                        "IDENTITY_ARGON2_PARALLELISM": "1"}.items():
        monkeypatch.setenv(name, value)


def test_identity_and_registration_as_processes_through_a_key_rotation(infra, tmp_path, cheap_hashes):
    settings = infra.settings("identity")
    identity, identity_url = processes.api("identity", settings, tmp_path, workers=2)
    identity.start()
    started = [identity]
    try:
        processes.wait_ready(identity_url, identity)
        ring = mongo.database(settings).signing_keys
        assert sorted(k["state"] for k in ring.find({})) == ["active", "next"]

        made = command("services.identity.admin", ["create-admin", "--username", "boss"], settings, PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
        status, pair = call(f"{identity_url}/api/v1/sessions", {"username": "boss", "password": PASSWORD})
        assert status == 200, pair

        registry_settings = infra.settings("registration", jwt_dev_key_file="",
                                           jwt_jwks_url=f"{identity_url}/api/v1/.well-known/jwks.json")
        registry, registry_url = processes.api("registration", registry_settings, tmp_path)
        registry.start()
        started.append(registry)
        processes.wait_ready(registry_url, registry)
        assert call(f"{registry_url}/api/v1/migrants?limit=1", token=pair["access_token"])[0] == 200
        # Identity's own routes take the token it signed, in every worker.
        for _ in range(4):
            assert call(f"{identity_url}/api/v1/staff?limit=5", token=pair["access_token"])[0] == 200

        rotated = command("services.identity.keys", ["rotate"], settings)
        assert rotated.returncode == 0, rotated.stderr
        status, after = call(f"{identity_url}/api/v1/tokens/refresh", {"refresh_token": pair["refresh_token"]})
        assert status == 200, after
        assert call(f"{registry_url}/api/v1/migrants?limit=1", token=after["access_token"])[0] == 200
        assert call(f"{registry_url}/api/v1/migrants?limit=1", token=pair["access_token"])[0] == 200
        for _ in range(4):
            assert call(f"{identity_url}/api/v1/staff?limit=5", token=after["access_token"])[0] == 200
    finally:
        for process in reversed(started):
            process.stop()
