"""docker-compose.yml gives identity's API the SMS settings identity checks at start: the
development outbox by default, and in production nothing starts until the gateway is set."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from shared import sms

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def environment(shell: dict) -> dict:
    """identity-api's environment as compose interpolates it (${NAME:-default}) from `shell`."""
    raw = yaml.safe_load(COMPOSE.read_text())["services"]["identity-api"]["environment"]

    def value(text):
        return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: shell.get(m.group(1)) or m.group(2), str(text))
    return {name: value(text) for name, text in raw.items()}


def test_development_sends_sign_in_codes_to_the_outbox():
    env = environment({})
    assert env["PROBASHI_ENV"] == "development"
    assert isinstance(sms.from_settings(env), sms.DevSms)


@pytest.mark.parametrize("missing", ["SMS_ADAPTER", "SMS_GATEWAY_URL", "SMS_GATEWAY_KEY"])
def test_production_starts_only_with_the_gateway_set(missing):
    gateway = {"PROBASHI_ENV": "production", "SMS_ADAPTER": "http", "SMS_GATEWAY_URL": "https://sms.example.org/send",
               "SMS_GATEWAY_KEY": "k-123"}
    assert isinstance(sms.from_settings(environment(gateway)), sms.HttpSms)
    with pytest.raises(sms.ConfigError):
        sms.from_settings(environment({**gateway, missing: ""}))
