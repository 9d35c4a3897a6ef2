"""The registration service's real processes for a benchmark, and a plain HTTP client."""
from __future__ import annotations

import http.client
import json
import signal
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pika

from shared import topology
from shared.auth import issue_token
from shared.config import Settings
from tests import processes

from .env import BrokerChannel


def migrant(n: int) -> dict:
    """A valid registration, unique by `n` (passport, NID and phone)."""
    return {"name_en": "Rahima Begum", "name_bn": "রহিমা বেগম", "date_of_birth": "1994-02-01", "sex": "female",
            "nid": f"{1000000000000 + n}", "passport_number": f"A{n:08d}", "phone": f"+88017{n % 10**8:08d}",
            "district": "Cumilla", "upazila": "Daudkandi", "destination_country": "SA",
            "occupation": "Domestic worker", "recruiting_agency_licence": "RL-1234"}


def operator_token(settings: Settings) -> str:
    return issue_token(settings, subject="bench-operator", role="udc_operator", udc_centre="UDC Bench")


def post(base_url: str, path: str, token: str, body: dict, timeout: float = 30.0) -> tuple[int, dict]:
    """One POST on a fresh connection (gunicorn's sync workers close each one anyway)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", path, json.dumps(body), {"Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


@contextmanager
def running(settings: Settings, log_dir: Path, *, relay: bool = False, consumer: bool = False, workers: int = 2):
    """gunicorn with the registration API (and the relay and consumer if asked); yields the base URL."""
    log_dir.mkdir(parents=True, exist_ok=True)
    api, base_url = processes.api("registration", settings, log_dir, workers=workers)
    started = [api.start()]
    if relay:
        started.append(processes.relay("registration", settings, log_dir).start())
    if consumer:
        started.append(processes.consumer("registration", settings, log_dir).start())
    try:
        processes.wait_ready(base_url, api)
        yield base_url
    finally:
        for process in started:
            process.stop(signal.SIGTERM)


def consumer_bound(service: str, settings: Settings, log_dir: Path) -> processes.ServiceProcess:
    """A service's consumer, started and waited for until its queue exists (events published
    before that would be unrouted)."""
    consumer = processes.consumer(service, settings, log_dir).start()
    queue = topology.Names(settings.amqp_prefix, service).queue
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with BrokerChannel() as channel:
            try:
                channel.queue_declare(queue, passive=True)
                return consumer
            except pika.exceptions.ChannelClosedByBroker:
                pass
        time.sleep(0.2)
    consumer.stop()
    raise RuntimeError(f"the {service} consumer never declared its queue")
