"""Fixtures for tests against the real RabbitMQ and the real MongoDB-protocol server.

Each test gets its own database names and its own exchange/queue prefix, so tests never
see each other's data or messages, nor those of a running `make run`. Set
TEST_MONGO_URI to run against a real MongoDB replica set instead of SecantusDB.
"""
from __future__ import annotations

import os
import threading
import uuid
from dataclasses import replace

import pika
import pytest
from marshmallow import INCLUDE

from shared import contracts
from shared.config import Settings
from shared import topology
from shared.topology import Names
from tests import harness

class OpenProbeContract(contracts.Contract):
    """Any data: the made-up `probe.*` events that tests of the event plumbing itself send."""

    class Meta:
        unknown = INCLUDE


class _ContractsWithProbes(dict):
    def get(self, key, default=None):
        if key not in self and key[0].startswith("probe."):
            return OpenProbeContract
        return super().get(key, default)


@pytest.fixture(autouse=True)
def probe_contracts(monkeypatch):
    """Plumbing tests publish `probe.*` events no service defines; every real event type
    still has to match its own contract (personal identifiers are refused for all)."""
    monkeypatch.setattr(contracts, "CONTRACTS", _ContractsWithProbes(contracts.CONTRACTS))


AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture(scope="session")
def dev_key_file() -> str:
    """The session's development signing key file (see harness.dev_key_file)."""
    return harness.dev_key_file()


@pytest.fixture(scope="session")
def amqp_url() -> str:
    harness.ensure_rabbitmq(AMQP_URL)
    return AMQP_URL


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory):
    """The session's SecantusDB (None when TEST_MONGO_URI points at a real server)."""
    if os.environ.get("TEST_MONGO_URI"):
        yield None
        return
    server = harness.start_mongo(tmp_path_factory.mktemp("secantus"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo_uri(mongo_server) -> str:
    return os.environ.get("TEST_MONGO_URI") or mongo_server.uri


class Infra:
    """Settings for the services of one test, and the cleanup of what they declared."""

    def __init__(self, mongo_uri: str, amqp_url: str):
        self.run_id = uuid.uuid4().hex[:10]
        self.prefix = f"test-{self.run_id}"
        self.mongo_uri = mongo_uri
        self.amqp_url = amqp_url
        self.services: set[str] = set()
        self.extra_queues: list[str] = []
        self.threads: list[tuple[threading.Thread, object]] = []
        self.dev_key_file = harness.dev_key_file()  # services trust no key by default

    def settings(self, service: str, **overrides) -> Settings:
        self.services.add(service)
        base = Settings(service=service, mongo_uri=self.mongo_uri, mongo_db=f"t{self.run_id}_{service}",
                        amqp_url=self.amqp_url, amqp_prefix=self.prefix, retry_delays_ms=(100, 300),
                        relay_poll_interval=0.02, relay_lease_seconds=3.0, db_timeout_ms=2000,
                        jwt_dev_key_file=self.dev_key_file)
        return replace(base, **overrides)

    def tap(self, binding_key: str = "#") -> "Tap":
        """A queue bound to the test's exchange: what the broker really routed."""
        tap = Tap(self.amqp_url, f"{self.prefix}.events", f"{self.prefix}.tap.{len(self.extra_queues)}", binding_key)
        self.extra_queues.append(tap.queue)
        return tap

    def background(self, runner, target) -> threading.Thread:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self.threads.append((thread, runner))
        return thread

    def cleanup(self) -> None:
        for thread, runner in self.threads:
            runner.stop()
            thread.join(timeout=10)
        connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        channel = connection.channel()
        queues = list(self.extra_queues)
        for service in self.services:
            names = Names(self.prefix, service)
            queues += [names.queue, names.dead_letter_queue] + [names.retry_queue(ms) for ms in (100, 300, 1000, 5000, 30000)]
        for queue in [*queues, topology.unrouted_name(self.prefix)]:
            channel.queue_delete(queue)
        for exchange in (f"{self.prefix}.events", topology.unrouted_name(self.prefix)):
            channel.exchange_delete(exchange)
        connection.close()


class Tap:
    def __init__(self, amqp_url: str, exchange: str, queue: str, binding_key: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        topology.declare_events_exchange(self.channel, exchange[: -len(".events")])  # as every process does
        self.channel.queue_declare(queue, durable=False)
        self.channel.queue_bind(queue, exchange, routing_key=binding_key)
        self.queue = queue

    def drain(self, expect: int = 0, timeout: float = 10.0) -> list[tuple]:
        """Messages routed so far: waits up to `timeout` for at least `expect`, then a
        short grace period so extra (duplicate) messages are seen too."""
        import time
        messages, deadline, grace = [], time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            method, props, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                if len(messages) >= expect:
                    grace = grace or time.monotonic() + 0.5
                    if time.monotonic() >= grace:
                        break
                self.connection.sleep(0.05)
                continue
            messages.append((method, props, body))
        return messages


@pytest.fixture
def infra(mongo_uri, amqp_url, mongo_server):
    infra = Infra(mongo_uri, amqp_url)
    infra.mongo_server = mongo_server
    yield infra
    infra.cleanup()
    import pymongo
    client = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=5000)
    for service in infra.services:
        client.drop_database(f"t{infra.run_id}_{service}")
    client.close()
