"""docker-compose.yml and `make run` start case status's processes: its API, consumer and SMS
sender (no relay: it publishes nothing), the sender with the SMS settings identity's API has,
and a one-shot catch-up naming every source the consumer learns snapshots from."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from services.casestatus import catch_up, sender
from shared import sms

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def environment(service: str, shell: dict) -> dict:
    """A service's environment as compose interpolates it (${NAME:-default}) from `shell`."""
    def value(text):
        return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: shell.get(m.group(1)) or m.group(2), str(text))
    return {name: value(text) for name, text in SERVICES[service]["environment"].items()}


def test_compose_runs_api_consumer_sender_and_catch_up_and_no_relay():
    assert {name for name in SERVICES if name.startswith("casestatus-")} == {
        "casestatus-api", "casestatus-consumer", "casestatus-sender", "casestatus-catch-up"}
    assert SERVICES["casestatus-sender"]["command"] == ["python", "-m", "services.casestatus.sender"]


def test_the_sender_gets_the_sms_settings_identity_gets_and_its_own():
    identity, sending = environment("identity-api", {}), environment("casestatus-sender", {})
    assert {k: v for k, v in identity.items() if k.startswith("SMS_")} == \
        {k: v for k, v in sending.items() if k.startswith("SMS_")}
    assert isinstance(sms.from_settings(sending), sms.DevSms)
    assert sender.SenderConfig.from_env(sending) == sender.SenderConfig()  # the defaults, spelled out


def test_catch_up_asks_every_source_whose_snapshots_the_consumer_learns():
    command = SERVICES["casestatus-catch-up"]["command"]
    sources = [command[i + 1] for i, word in enumerate(command) if word == "--from"]
    assert sources == [snapshot.split(".")[0] for snapshot in catch_up.SNAPSHOTS]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import devrun
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert devrun.CATCH_UP == {"casestatus": sources}
    assert "casestatus" in devrun.NO_RELAY and ("casestatus", "sender") in devrun.EXTRA_PROCESSES
