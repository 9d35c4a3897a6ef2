"""What a benchmark runs against: its own SecantusDB (or BENCH_MONGO_URI) and the shared
RabbitMQ under a prefix of its own, cleaned up afterwards."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import replace

import pika
import pymongo

from shared.config import Settings
from shared import topology
from shared.topology import Names
from tests import harness

AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


class BenchEnv:
    def __init__(self):
        self.run_id = uuid.uuid4().hex[:8]
        self.prefix = f"bench-{self.run_id}"
        self.tmp = tempfile.mkdtemp(prefix="probashi-bench-")
        self.server = None
        self.mongo_uri = os.environ.get("BENCH_MONGO_URI")
        self.databases: set[str] = set()
        self.queues: set[str] = set()

    def __enter__(self) -> "BenchEnv":
        harness.ensure_rabbitmq(AMQP_URL)
        if not self.mongo_uri:
            self.server = harness.start_mongo(self.tmp)
            self.mongo_uri = self.server.uri
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._delete_topology()
            self.drop_databases()
        finally:
            if self.server is not None:
                self.server.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def drop_databases(self) -> None:
        """Drop what the benchmarks so far wrote: SecantusDB slows down as it holds more,
        which would charge one benchmark for the data of the ones before it."""
        with pymongo.MongoClient(self.mongo_uri, serverSelectionTimeoutMS=5000) as client:
            for name in self.databases:
                client.drop_database(name)
        self.databases.clear()

    def settings(self, service: str, tag: str, **overrides) -> Settings:
        """Settings for one measurement: its own database and its own exchange/queues."""
        prefix = f"{self.prefix}-{tag}"
        database = f"b{self.run_id}_{tag}_{service}"
        self.databases.add(database)
        names = Names(prefix, service)
        self.queues.update({names.queue, names.dead_letter_queue, *(names.retry_queue(ms) for ms in (1000, 5000, 30000))})
        base = Settings(service=service, mongo_uri=self.mongo_uri, mongo_db=database, amqp_url=AMQP_URL,
                        amqp_prefix=prefix, log_level="WARNING",
                        jwt_dev_key_file=harness.dev_key_file())
        return replace(base, **overrides)

    def sink(self, settings: Settings, name: str = "sink") -> str:
        """A queue bound to every event of `settings`' exchange, so the relay's mandatory
        publishes are routable; returns its name."""
        queue = f"{settings.amqp_prefix}.{name}"
        with BrokerChannel() as channel:
            topology.declare_events_exchange(channel, settings.amqp_prefix)
            channel.queue_declare(queue, durable=True, arguments=topology.QueueKind.of(settings).plain())
            channel.queue_bind(queue, f"{settings.amqp_prefix}.events", routing_key="#")
        self.queues.add(queue)
        return queue

    def purge(self, queue: str) -> None:
        with BrokerChannel() as channel:
            channel.queue_purge(queue)

    def _delete_topology(self) -> None:
        with BrokerChannel() as channel:
            for queue in self.queues:
                channel.queue_delete(queue)
            for prefix in {q.split(".")[0] for q in self.queues}:
                channel.queue_delete(topology.unrouted_name(prefix))
                channel.exchange_delete(f"{prefix}.events")
                channel.exchange_delete(topology.unrouted_name(prefix))


class BrokerChannel:
    """A short-lived channel on the shared broker (never touches anyone else's objects)."""

    def __enter__(self):
        self.connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        return self.connection.channel()

    def __exit__(self, *exc) -> None:
        self.connection.close()
