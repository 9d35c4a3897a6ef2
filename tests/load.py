"""Load and exact counting for the fault tests: registrations through the registration
service layer, published by registration's relay and applied by the documents consumer
(which learns each registered migrant as a document owner), and the check that every
event produced had its effect there exactly once."""
from __future__ import annotations

import threading
import time

import pika
from kombu import Connection

from services.registration import bootstrap
from services.documents.consumer import consumer as documents_consumer
from services.registration.schemas import MigrantCreateSchema
from shared import deadletters, mongo, topology
from shared.auth import Principal
from shared.config import Settings
from tests.waiting import wait_for

OFFICER = Principal("fault-test", "welfare_officer")


def migrant(n: int) -> dict:
    return {"name_en": "Karim Mia", "name_bn": "করিম মিয়া", "date_of_birth": "1990-07-15", "sex": "male",
            "nid": f"{1000000000000 + n}", "passport_number": f"A{n:08d}", "phone": f"+88018{n % 10**8:08d}",
            "district": "Sylhet", "upazila": "Beanibazar", "destination_country": "QA", "occupation": "Driver"}


class Producer:
    """Registers `count` migrants through the service layer in a thread of its own."""

    def __init__(self, settings: Settings, count: int, first: int = 0):
        self.service = bootstrap.build(settings)
        self.count, self.first = count, first
        self.registered = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Producer":
        self._thread.start()
        return self

    def _run(self) -> None:
        schema = MigrantCreateSchema()
        try:
            for n in range(self.first, self.first + self.count):
                self.service.register(OFFICER, schema.load(migrant(n)))
                self.registered += 1
        except BaseException as exc:  # reported by join()
            self.error = exc

    def join(self, timeout: float = 120) -> int:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "producer did not finish"
        if self.error:
            raise self.error
        return self.registered


def declare_queues(consuming: Settings) -> None:
    """The documents consumer's queues, so events published before it first starts are routed."""
    names = topology.Names(consuming.amqp_prefix, consuming.service)
    with Connection(consuming.amqp_url) as connection:
        topology.declare(connection, names, documents_consumer.binding_keys, consuming.retry_delays_ms)


class Counter:
    """A tap on the exchange drained in the background: every message the broker routed."""

    def __init__(self, tap):
        self.tap = tap
        self.ids: list[str] = []

    def drain(self) -> list[str]:
        while True:
            method, props, _ = self.tap.channel.basic_get(self.tap.queue, auto_ack=True)
            if method is None:
                return self.ids
            self.ids.append(props.message_id)


def assert_each_event_applied_once(producing: Settings, consuming: Settings, produced: int,
                                   counter: Counter | None = None, timeout: float = 60) -> dict:
    """Waits until the documents consumer caught up, then checks: events produced ==
    outbox records == owners learnt == inbox rows, the same ids everywhere, nothing
    dead-lettered."""
    db, effects = mongo.database(producing), mongo.database(consuming).owners
    wait_for(lambda: effects.count_documents({}) >= produced and db.outbox.count_documents({"status": "pending"}) == 0,
             timeout, lambda: f"caught up to {effects.count_documents({})} of {produced} effects, "
                              f"{db.outbox.count_documents({'status': 'pending'})} events still pending")
    time.sleep(1.0)  # anything applied twice would show up now
    outbox = {r["_id"] for r in db.outbox.find({}, {"_id": 1})}
    learnt = [r["event_id"] for r in effects.find({}, {"event_id": 1})]
    inbox = [r["event_id"] for r in mongo.database(consuming).inbox.find({"consumer": consuming.service},
                                                                          {"event_id": 1})]
    assert db.migrants.count_documents({}) == produced
    assert len(outbox) == produced, f"{len(outbox)} events for {produced} registrations"
    assert len(learnt) == produced and set(learnt) == outbox
    assert len(inbox) == produced and set(inbox) == outbox
    assert deadletters.DeadLetterQueue(consuming).list() == []
    counts = {"produced": produced}
    if counter is not None:
        routed = counter.drain()
        assert set(routed) == outbox  # every event reached the broker; only copies of them
        counts["routed"] = len(routed)
        counts["republished"] = len(routed) - len(set(routed))
    return counts


def queue_consumed(amqp_url: str, queue: str) -> bool:
    """True once a consumer takes from `queue`. A consumer process declares its queue, then binds
    it key by key, and only then consumes: the queue merely existing does not mean the events a
    producer starts now are routed to it (the complaints consumer binds 32 keys, registrations last but one; under load the first
    registrations went to the exchange before their binding existed, and were lost to it)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.consumer_count > 0
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()
