"""The event backbone against the real RabbitMQ and the real MongoDB-protocol server:
outbox -> relay -> broker -> consumer -> inbox, and what happens when things fail."""
from __future__ import annotations

import json
import time

import pika
import pytest
from marshmallow import fields

from shared import contracts, deadletters, mongo
from shared.consumer import EventConsumer, Worker
from shared.errors import PermanentError
from shared.outbox import OutboxStore
from shared.relay import Relay
from shared.uow import MongoUnitOfWork

from tests.waiting import wait_for

pytestmark = pytest.mark.integration
SERVICE = "probe"


def emit(uow, count, event_type="probe.thing.created", aggregate=None, **data):
    for i in range(count):
        uow.run(lambda tx, i=i: tx.emit(event_type, subject_type="thing", subject_id=aggregate or f"t{i}",
                                         aggregate_version=i + 1 if aggregate else 1, data={"n": i, **data}))


class ProbeData(contracts.Contract):
    """The contract of the made-up events these tests send through the plumbing."""
    n = fields.Integer()
    note = fields.String()


@pytest.fixture
def probe(infra):
    settings = infra.settings(SERVICE)
    db = mongo.database(settings)
    store = OutboxStore(db)
    store.ensure_indexes()
    types = ("probe.thing.created", "probe.thing.changed", "probe.nobody.listens")
    with contracts.defined({(t, 1): ProbeData for t in types}):
        yield settings, db, MongoUnitOfWork(db, SERVICE), store


def counting_consumer(fail_until=None):
    """A consumer whose handler records each effect, and fails while `fail_until()` says so."""
    consumer = EventConsumer(SERVICE)

    @consumer.handles("probe.thing.*")
    def apply(event, tx):
        if fail_until is not None and fail_until(event):
            raise RuntimeError(f"cannot apply {event.data['n']} yet")
        tx.db["effects"].insert_one({"_id": event.id, "n": event.data["n"]}, session=tx.session)
    return consumer


def start_worker(infra, consumer, settings, uow):
    worker = Worker(consumer, uow, settings)
    infra.background(worker, worker.run)
    assert worker.ready.wait(15), "consumer did not start"
    return worker


def test_relay_publishes_each_event_once_with_the_full_envelope(infra, probe):
    settings, db, uow, store = probe
    tap = infra.tap()
    emit(uow, 3, note="ok")
    Relay(store, settings).run(stop_when_idle=True)
    messages = tap.drain(expect=3)
    assert len(messages) == 3
    for method, props, body in messages:
        envelope = json.loads(body)
        assert set(envelope) == {"id", "type", "schema_version", "source", "occurred_at", "subject",
                                 "aggregate_version", "correlation_id", "causation_id", "data"}
        assert props.message_id == envelope["id"] and props.type == envelope["type"] == method.routing_key
        assert props.content_type == "application/json" and props.delivery_mode == 2
        assert envelope["source"] == SERVICE and envelope["subject"]["type"] == "thing"
        assert envelope["occurred_at"].endswith("Z") and envelope["data"]["note"] == "ok"
    assert db.outbox.count_documents({"status": "published"}) == 3
    assert store.pending_count() == 0


def test_a_failed_transaction_leaves_no_event(probe):
    _, db, uow, _ = probe

    def fails(tx):
        tx.db["things"].insert_one({"_id": "x"}, session=tx.session)
        tx.emit("probe.thing.created", subject_type="thing", subject_id="x", aggregate_version=1, data={})
        raise ValueError("business rule broken")

    with pytest.raises(ValueError):
        uow.run(fails)
    assert db.things.count_documents({}) == 0 and db.outbox.count_documents({}) == 0


def test_events_of_one_aggregate_keep_their_order(infra, probe):
    settings, _, uow, store = probe
    tap = infra.tap()
    for version in range(1, 6):
        for aggregate in ("a", "b", "c"):
            uow.run(lambda tx: tx.emit("probe.thing.changed", subject_type="thing", subject_id=aggregate,
                                       aggregate_version=version, data={"n": version}))
    Relay(store, settings.__class__(**{**settings.__dict__, "relay_batch_size": 4})).run(stop_when_idle=True)
    seen: dict[str, list[int]] = {}
    for _, _, body in tap.drain(expect=15):
        envelope = json.loads(body)
        seen.setdefault(envelope["subject"]["id"], []).append(envelope["aggregate_version"])
    assert seen == {"a": [1, 2, 3, 4, 5], "b": [1, 2, 3, 4, 5], "c": [1, 2, 3, 4, 5]}


class CrashAfterPublish(OutboxStore):
    """The relay process dies after the broker confirmed, before the outbox is marked."""

    def mark_published(self, event_ids):
        raise SystemExit("relay killed before marking")


def test_relay_dying_before_marking_republishes_and_the_consumer_applies_once(infra, probe):
    settings, db, uow, store = probe
    tap = infra.tap()
    worker = start_worker(infra, counting_consumer(), settings, uow)
    emit(uow, 20)

    with pytest.raises(SystemExit):
        Relay(CrashAfterPublish(db), settings).run()
    assert store.pending_count() == 20  # nothing was marked
    Relay(store, settings).run(stop_when_idle=True)  # the restarted relay publishes them again

    assert len(tap.drain(expect=40)) == 40  # every event reached the broker twice
    wait_for(lambda: db.effects.count_documents({}) == 20 and worker.processed == 40)
    time.sleep(0.3)
    assert db.effects.count_documents({}) == 20
    assert db.inbox.count_documents({}) == 20


def test_the_same_event_delivered_twice_has_one_effect(infra, probe):
    settings, db, uow, store = probe
    worker = start_worker(infra, counting_consumer(), settings, uow)
    emit(uow, 1)
    record = db.outbox.find_one()
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    channel = connection.channel()
    body = json.dumps(record["envelope"]).encode()
    for _ in range(2):
        channel.basic_publish(f"{settings.amqp_prefix}.events", record["type"], body,
                              pika.BasicProperties(message_id=record["_id"], content_type="application/json"))
    connection.close()
    wait_for(lambda: worker.processed == 2)
    assert db.effects.count_documents({}) == 1
    assert db.inbox.count_documents({"event_id": record["_id"]}) == 1


def test_a_failing_handler_is_retried_then_dead_lettered_and_can_be_replayed(infra, probe, capsys):
    settings, db, uow, store = probe
    broken = {"on": True}
    worker = start_worker(infra, counting_consumer(fail_until=lambda event: broken["on"]), settings, uow)
    emit(uow, 1)
    event_id = db.outbox.find_one()["_id"]
    Relay(store, settings).run(stop_when_idle=True)

    dlq = deadletters.DeadLetterQueue(settings)
    wait_for(lambda: worker.processed == 3, message="expected 1 attempt + 2 retries")
    wait_for(lambda: len(dlq.list()) == 1)
    letter = dlq.list()[0]
    assert letter.event_id == event_id
    assert letter.headers["x-attempts"] == 3
    assert letter.headers["x-error"] == "cannot apply 0 yet"
    assert letter.headers["x-error-type"] == "RuntimeError"
    assert letter.headers["x-original-routing-key"] == "probe.thing.created"
    assert letter.headers["x-original-exchange"] == f"{settings.amqp_prefix}.events"
    assert db.effects.count_documents({}) == 0
    assert len(dlq.list()) == 1  # listing does not consume

    broken["on"] = False  # the bug is fixed; replay through the CLI
    env = {"AMQP_URL": settings.amqp_url, "AMQP_PREFIX": settings.amqp_prefix}
    import os
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert deadletters.main(["--service", SERVICE, "replay", event_id]) == 0
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert f"replayed {event_id}" in capsys.readouterr().out
    wait_for(lambda: db.effects.count_documents({}) == 1)
    assert dlq.list() == []


def test_malformed_and_unhandled_messages_go_straight_to_the_dead_letter_queue(infra, probe):
    settings, db, uow, _ = probe
    worker = start_worker(infra, counting_consumer(), settings, uow)
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    channel = connection.channel()
    channel.basic_publish(f"{settings.amqp_prefix}.events", "probe.thing.created", b"{not json",
                          pika.BasicProperties(message_id="garbage-1"))
    connection.close()
    dlq = deadletters.DeadLetterQueue(settings)
    wait_for(lambda: len(dlq.list()) == 1)
    letter = dlq.list()[0]
    assert letter.headers["x-attempts"] == 1 and letter.headers["x-error-type"] == "MalformedEvent"
    assert worker.processed == 1


def test_permanent_error_skips_retries(infra, probe):
    settings, db, uow, store = probe
    consumer = EventConsumer(SERVICE)

    @consumer.handles("probe.thing.created")
    def reject(event, tx):
        raise PermanentError("this event can never be applied")

    worker = start_worker(infra, consumer, settings, uow)
    emit(uow, 1)
    Relay(store, settings).run(stop_when_idle=True)
    dlq = deadletters.DeadLetterQueue(settings)
    wait_for(lambda: len(dlq.list()) == 1)
    assert dlq.list()[0].headers["x-attempts"] == 1 and worker.processed == 1


def test_an_event_nobody_listens_to_yet_is_published_to_the_unrouted_queue(infra, probe):
    settings, db, uow, store = probe
    emit(uow, 1, event_type="probe.nobody.listens")
    Relay(store, settings).run(stop_when_idle=True)
    record = db.outbox.find_one()
    assert record["status"] == "published" and record["attempts"] == 0  # not a failure
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    method, props, _ = connection.channel().basic_get(f"{settings.amqp_prefix}.unrouted", auto_ack=True)
    connection.close()
    assert method is not None and props.message_id == record["_id"]


def test_two_relays_at_once_publish_each_event_once(infra, probe):
    settings, db, uow, store = probe
    tap = infra.tap()
    emit(uow, 300)
    relays = [Relay(OutboxStore(db), settings) for _ in range(2)]
    for relay in relays:
        infra.background(relay, relay.run)
    wait_for(lambda: store.pending_count() == 0, timeout=30)
    messages = tap.drain(expect=300)
    ids = [props.message_id for _, props, _ in messages]
    assert len(ids) == 300 and len(set(ids)) == 300
    assert sorted(r.published_total for r in relays) == [0, 300]
