"""Identity's commands and its events on the broker: the first admin is made by a command
with the password typed (never a default), keys rotate and retire by command, and the relay
publishes staff events that carry no secret."""
from __future__ import annotations

import io
import json
import threading

import pytest

from services.identity import admin, bootstrap, keys
from shared import mongo
from shared.outbox import OutboxStore
from shared.relay import Relay
from tests.integration.test_identity_api import CONFIG, PASSWORD, Desk

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(infra):
    return Desk(infra)


@pytest.fixture
def environment(monkeypatch, desk):
    """The commands read their settings from the environment, as in production."""
    s = desk.settings
    for name, value in {"MONGO_URI": s.mongo_uri, "MONGO_DB": s.mongo_db, "AMQP_URL": s.amqp_url,
                        "AMQP_PREFIX": s.amqp_prefix, "JWT_DEV_KEY_FILE": s.jwt_dev_key_file,
                        "IDENTITY_ARGON2_TIME_COST": "1", "IDENTITY_ARGON2_MEMORY_KIB": "8",
                        "IDENTITY_ARGON2_PARALLELISM": "1"}.items():
        monkeypatch.setenv(name, value)


def test_the_first_admin_is_made_by_the_command_with_the_password_typed(desk, environment, capsys):
    assert admin.main(["create-admin", "--username", "boss", "--district", "Dhaka"],
                      stdin=io.StringIO(PASSWORD + "\n")) == 0
    pair = desk.sign_in("boss", PASSWORD)
    assert pair.status_code == 200  # no change forced: they typed it themselves
    assert desk.claims_of(pair.json["access_token"])["role"] == "admin"
    assert desk.events("identity.staff.created")[0]["data"]["by"] == {"user": "create-admin", "role": "admin"}


def test_the_command_refuses_a_weak_password_and_a_taken_username(desk, environment, capsys):
    assert admin.main(["create-admin", "--username", "boss"], stdin=io.StringIO("password1234\n")) == 2
    assert "too common" in capsys.readouterr().err
    assert admin.main(["create-admin", "--username", "boss"], stdin=io.StringIO("\n")) == 2
    assert desk.db.staff.count_documents({}) == 0
    assert admin.main(["create-admin", "--username", "boss"], stdin=io.StringIO(PASSWORD + "\n")) == 0
    assert admin.main(["create-admin", "--username", "boss"], stdin=io.StringIO(PASSWORD + "-2\n")) == 2
    assert "taken" in capsys.readouterr().err


def test_keys_rotate_and_retire_by_command(desk, environment, capsys):
    def states():
        return {k["_id"]: k["state"] for k in desk.db.signing_keys.find({})}
    first = states()
    assert sorted(first.values()) == ["active", "next"]
    keys.main(["rotate"])
    rotated = states()
    assert len(rotated) == 3 and sorted(rotated.values()) == ["active", "next", "retiring"]
    assert rotated[next(k for k, s in first.items() if s == "next")] == "active"
    keys.main(["retire"])  # its tokens may still be alive: kept
    assert "retiring" in states().values()
    keys.main(["retire", "--force"])
    assert sorted(states().values()) == ["active", "next", "retired"]
    keys.main(["list"])
    assert "retired" in capsys.readouterr().out


def test_two_first_starts_at_once_make_one_active_key_and_one_next(desk):
    desk.db.signing_keys.delete_many({})  # a database no start has seen yet
    starts = [bootstrap.build(desk.settings, CONFIG) for _ in range(2)]  # each makes the keys it finds missing
    desk.db.signing_keys.delete_many({})
    barrier = threading.Barrier(2)

    def start(service):
        barrier.wait()
        service.ensure_keys()
    threads = [threading.Thread(target=start, args=(service,)) for service in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert desk.db.signing_keys.count_documents({"state": "active"}) == 1
    assert desk.db.signing_keys.count_documents({"state": "next"}) == 1


def test_the_relay_publishes_staff_events_with_no_secret_in_them(desk, infra):
    tap = infra.tap("identity.#")
    relay = Relay(OutboxStore(mongo.database(desk.settings)), desk.settings)
    infra.background(relay, relay.run)
    pair = desk.staff("rahima")
    desk.sign_in("rahima", "a-wrong-password-1")
    messages = tap.drain(expect=4)
    bodies = [json.loads(body) for _, _, body in messages]
    assert [b["type"] for b in bodies] == ["identity.staff.created", "identity.staff.password_changed",
                                           "identity.staff.signed_in", "identity.staff.sign_in_failed"]
    assert bodies[-1]["data"]["failed_attempts"] == 1 and bodies[-1]["data"]["reason"] == "wrong_password"
    raw = b"".join(body for _, _, body in messages).decode()
    for secret in (PASSWORD, "a-wrong-password-1", pair["refresh_token"], pair["access_token"], "$argon2"):
        assert secret not in raw
