"""Fault injection for the complaints consumer process: registration's real relay publishes a
stream of registrations (tests/load.py's Producer) that the complaints consumer learns as
migrants (intake needs them), while the consumer is SIGKILLed mid-stream, its broker
connection is cut, or a poison event arrives among them. Each test ends with exact counts:
events produced == outbox records == inbox rows == migrants learnt, the same ids everywhere,
nothing applied twice, nothing lost.

The kill takes about a minute: the killed process leaves a transaction open on one migrant's
row, and the database aborts it only after its transaction lifetime (60 s); until then the
restarted consumer defers that event on the write conflict, as it should."""
from __future__ import annotations

import time

import pika
import pytest
from kombu import Connection

from services.complaints.consumer import consumer as complaints_consumer
from shared import deadletters, mongo, topology
from shared.events import Envelope
from tests import processes
from tests.load import Counter, Producer, queue_consumed
from tests.tcpproxy import TcpProxy
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
EVENTS = 800


def declare_queues(complaints) -> None:
    """The complaints consumer's queues, so events published before it first starts are routed."""
    with Connection(complaints.amqp_url) as connection:
        topology.declare(connection, topology.Names(complaints.amqp_prefix, "complaints"),
                         complaints_consumer.binding_keys, complaints.retry_delays_ms)


def inbox(complaints) -> list[str]:
    return [r["event_id"] for r in mongo.database(complaints).inbox.find({"consumer": "complaints"}, {"event_id": 1})]


def assert_each_registration_learnt_once(registration, complaints, produced: int, counter: Counter | None = None,
                                         timeout: float = 90, dead: int = 0) -> None:
    """Waits until the complaints consumer caught up, then: one outbox event per registration,
    each in complaints' inbox exactly once, each migrant known to complaints, `dead` dead letters."""
    source, target = mongo.database(registration), mongo.database(complaints)
    wait_for(lambda: len(inbox(complaints)) >= produced and source.outbox.count_documents({"status": "pending"}) == 0,
             timeout, lambda: f"complaints applied {len(inbox(complaints))} of {produced} events, "
                              f"{source.outbox.count_documents({'status': 'pending'})} still pending")
    time.sleep(1.0)  # anything applied twice would show up now
    outbox = {r["_id"] for r in source.outbox.find({}, {"_id": 1})}
    applied = inbox(complaints)
    assert source.migrants.count_documents({}) == produced and len(outbox) == produced
    assert len(applied) == produced and set(applied) == outbox
    references = {r["_id"] for r in source.migrants.find({}, {"_id": 1})}
    learnt = {r["_id"] for r in target.migrants.find({"registered": True}, {"_id": 1})}
    assert learnt == references
    assert len(deadletters.DeadLetterQueue(complaints).list()) == dead
    if counter is not None:
        assert set(counter.drain()) == outbox  # every event reached the broker; only copies of them


def test_complaints_consumer_killed_mid_stream_loses_nothing_and_applies_nothing_twice(infra, tmp_path):
    registration, complaints = infra.settings("registration"), infra.settings("complaints")
    declare_queues(complaints)
    relay = processes.relay("registration", registration, tmp_path).start()
    consumer = processes.consumer("complaints", complaints, tmp_path).start()
    try:
        producer = Producer(registration, EVENTS).start()
        wait_for(lambda: len(inbox(complaints)) >= EVENTS // 4, 60, "the consumer made no progress")
        # Up to `prefetch` deliveries are unacked and one transaction is likely open: the broker
        # hands them to the next consumer, whose inbox drops what was committed.
        consumer.kill()
        killed_at = len(inbox(complaints))
        consumer = processes.consumer("complaints", complaints, tmp_path).start()
        assert_each_registration_learnt_once(registration, complaints, producer.join(), timeout=120)
        assert killed_at < EVENTS and consumer.process.poll() is None
    finally:
        consumer.stop()
        relay.stop()


def test_complaints_consumer_reconnects_after_its_broker_connection_is_cut_twice(infra, tmp_path):
    proxy = TcpProxy("127.0.0.1", 5672).start()
    started = []
    try:
        registration = infra.settings("registration", amqp_url=proxy.url())
        complaints = infra.settings("complaints", amqp_url=proxy.url())
        counter = Counter(infra.tap("registration.#"))
        started = [processes.relay("registration", registration, tmp_path).start(),
                   processes.consumer("complaints", complaints, tmp_path).start()]
        relay, consumer = started
        wait_for(lambda: queue_consumed(infra.amqp_url, topology.Names(complaints.amqp_prefix, "complaints").queue), 30,
                 "the consumer never started consuming its queue")
        producer = Producer(registration, EVENTS).start()
        for applied in (EVENTS // 4, EVENTS // 2):
            wait_for(lambda: len(inbox(complaints)) >= applied, 60, "no progress before the cut")
            proxy.cut()  # every connection of the relay and the consumer drops at once
            time.sleep(1.5)
            proxy.restore()
        assert_each_registration_learnt_once(registration, complaints, producer.join(), counter)
        assert relay.process.poll() is None and consumer.process.poll() is None  # they reconnected
        assert consumer.log().count("Connection to broker lost") >= 2  # kombu, reconnecting
    finally:
        for process in started:
            process.stop()
        proxy.close()


def test_a_poison_event_is_dead_lettered_while_the_others_are_applied(infra, tmp_path):
    """A document event without its owner (a publisher's bug; no contract would let it out of
    an outbox, so it is put on the broker by hand) can never be applied: the real consumer
    process dead-letters it at once, with the reason, and goes on with the stream."""
    registration, complaints = infra.settings("registration"), infra.settings("complaints")
    declare_queues(complaints)
    relay = processes.relay("registration", registration, tmp_path).start()
    consumer = processes.consumer("complaints", complaints, tmp_path).start()
    try:
        producer = Producer(registration, EVENTS).start()
        wait_for(lambda: len(inbox(complaints)) >= EVENTS // 4, 60, "the consumer made no progress")
        poison = Envelope.new(type="documents.document.uploaded", source="documents", subject_type="document",
                              subject_id="DOC-POISON", aggregate_version=1,
                              data={"document_id": "DOC-POISON", "doc_type": "passport_copy"})
        connection = pika.BlockingConnection(pika.URLParameters(infra.amqp_url))
        connection.channel().basic_publish(f"{complaints.amqp_prefix}.events", poison.type, poison.to_json(),
                                           pika.BasicProperties(**poison.amqp_properties()))
        connection.close()

        dlq = deadletters.DeadLetterQueue(complaints)
        wait_for(lambda: len(dlq.list()) == 1, 30, "the poison event was not dead-lettered")
        assert_each_registration_learnt_once(registration, complaints, producer.join(), dead=1)
        [letter] = dlq.list()
        assert letter.event_id == poison.id and letter.headers["x-error-type"] == "PermanentError"
        assert "without owner" in letter.headers["x-error"] and letter.headers["x-consumer"] == "complaints"
        assert mongo.database(complaints).documents.count_documents({}) == 0  # no effect of it
        assert poison.id not in inbox(complaints) and consumer.process.poll() is None
    finally:
        consumer.stop()
        relay.stop()
