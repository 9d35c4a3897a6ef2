"""The relay against the real broker and database when events fail: what is due is
chosen by the outbox query (indexed), failing events are parked after their attempts,
an event nobody listens to goes to the unrouted queue, one aggregate's events keep
their order even when an earlier one is nacked, the lease holds while confirms are
slow, and a commit wakes the relay without waiting for its poll."""
from __future__ import annotations

import dataclasses
import json
import time

import pika
import pytest

from shared import mongo
from shared.outbox import OutboxStore
from shared.relay import Relay
from shared.uow import MongoUnitOfWork
from tests.tcpproxy import TcpProxy
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
SERVICE = "probe"


@pytest.fixture
def probe(infra):
    settings = infra.settings(SERVICE, relay_batch_size=10)
    db = mongo.database(settings)
    store = OutboxStore(db)
    store.ensure_indexes()
    return settings, db, MongoUnitOfWork(db, SERVICE), store


def emit(uow, event_type: str, aggregate: str, version: int = 1, **data) -> str:
    return uow.run(lambda tx: tx.emit(event_type, subject_type="thing", subject_id=aggregate,
                                      aggregate_version=version, data=data)).id


def emit_many(db, event_type: str, count: int, prefix: str) -> list[str]:
    """`count` events of one type in one insert, as if `count` transactions had committed."""
    from shared.events import Envelope
    from shared.outbox import outbox_record
    events = [Envelope.new(type=event_type, source=SERVICE, subject_type="thing", subject_id=f"{prefix}{i}",
                           aggregate_version=1, data={"n": i}) for i in range(count)]
    db.outbox.insert_many([outbox_record(e) for e in events])
    return [e.id for e in events]


def rejecting_queue(infra, tap, binding_key: str) -> str:
    """A queue that refuses every message routed to it: the broker nacks the publish."""
    queue = f"{infra.prefix}.full.{len(infra.extra_queues)}"
    tap.channel.queue_declare(queue, arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    tap.channel.queue_bind(queue, f"{infra.prefix}.events", routing_key=binding_key)
    infra.extra_queues.append(queue)
    return queue


def run_relay(infra, store, settings) -> Relay:
    relay = Relay(store, settings)
    infra.background(relay, relay.run)
    assert relay.ready.wait(15), "relay did not start"
    return relay


def status(db, event_id: str) -> str:
    return db.outbox.find_one({"_id": event_id})["status"]


def seen_ids(tap, expect: int = 0, timeout: float = 10.0) -> list[str]:
    return [props.message_id for _, props, _ in tap.drain(expect=expect, timeout=timeout)]


# -- finding 1: starvation, parking, unroutable events -------------------------------------
def test_events_that_keep_failing_do_not_hold_back_fresh_ones(infra, probe):
    settings, db, uow, store = probe
    tap = infra.tap("probe.thing.#")
    rejecting_queue(infra, tap, "probe.stuck.#")
    stuck = emit_many(db, "probe.stuck.created", 200, "stuck")
    run_relay(infra, store, settings)
    wait_for(lambda: db.outbox.count_documents({"attempts": {"$gte": 1}}) >= 100, 60,
             "the relay is not retrying the stuck events")

    fresh = [emit(uow, "probe.thing.created", f"fresh{i}") for i in range(5)]
    wait_for(lambda: db.outbox.count_documents({"_id": {"$in": fresh}, "status": "published"}) == 5, 20,
             lambda: f"{db.outbox.count_documents({'_id': {'$in': fresh}, 'status': 'published'})} of 5 "
                     "fresh events published behind 200 failing ones")
    assert sorted(seen_ids(tap, expect=5)) == sorted(fresh)
    assert db.outbox.count_documents({"_id": {"$in": stuck}, "status": "published"}) == 0


def test_the_due_query_uses_an_index(probe):
    _, db, _, store = probe
    emit_many(db, "probe.thing.created", 50, "t")
    plan = json.dumps(store.explain_due(), default=str)
    assert "COLLSCAN" not in plan and "IXSCAN" in plan, plan


def test_a_nacked_event_is_retried_then_parked_never_marked_published(infra, probe, monkeypatch, capsys):
    from shared import outbox
    settings, db, uow, store = probe
    settings = dataclasses.replace(settings, relay_max_attempts=3)
    tap = infra.tap("#")
    full = rejecting_queue(infra, tap, "probe.stuck.#")
    event_id = emit(uow, "probe.stuck.created", "s1")
    behind = emit(uow, "probe.stuck.changed", "s1", version=2)  # held back behind its parked predecessor
    other = emit(uow, "probe.thing.created", "t1")
    run_relay(infra, store, settings)

    wait_for(lambda: status(db, event_id) == "failed", 30,
             lambda: f"not parked: {db.outbox.find_one({'_id': event_id})}")
    record = db.outbox.find_one({"_id": event_id})
    assert record["attempts"] == 3 and "nack" in record["last_error"] and "published_at" not in record
    wait_for(lambda: status(db, other) == "published")
    assert status(db, behind) == "pending"
    wait_for(lambda: store.counts() == {"pending": 1, "failed": 1, "published": 1, "held": 1}, 10,
             lambda: f"counts: {store.counts()}")

    monkeypatch.setenv("MONGO_URI", settings.mongo_uri)
    monkeypatch.setenv("MONGO_DB", settings.database)
    assert outbox.main(["--service", SERVICE, "list"]) == 0
    assert event_id in capsys.readouterr().out
    assert outbox.main(["--service", SERVICE, "count"]) == 0
    assert '"failed": 1' in capsys.readouterr().out

    tap.channel.queue_delete(full)  # the cause is fixed: requeue it
    assert outbox.main(["--service", SERVICE, "requeue", "--all"]) == 0
    assert "requeued 1" in capsys.readouterr().out
    wait_for(lambda: status(db, event_id) == "published" and status(db, behind) == "published", 20)
    ids = seen_ids(tap, expect=5)
    # The tap got a copy of each nacked attempt too; the successor went out once, after the last.
    assert ids.count(behind) == 1 and ids.index(behind) > max(i for i, x in enumerate(ids) if x == event_id)


def test_an_event_nobody_listens_to_is_published_to_the_unrouted_queue(infra, probe):
    settings, db, uow, store = probe
    event_id = emit(uow, "probe.nobody.listens", "n1")
    run_relay(infra, store, settings)
    wait_for(lambda: status(db, event_id) == "published", 15,
             lambda: f"still {db.outbox.find_one({'_id': event_id})}")
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        method, props, _ = connection.channel().basic_get(f"{settings.amqp_prefix}.unrouted", auto_ack=True)
    finally:
        connection.close()
    assert method is not None and props.message_id == event_id


def test_an_exchange_declared_without_the_alternate_exchange_gets_a_clear_error(infra, probe):
    from kombu import Connection

    from shared import topology
    from shared.consumer import EventConsumer, Worker
    settings, db, uow, store = probe
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    connection.channel().exchange_declare(f"{settings.amqp_prefix}.events", exchange_type="topic", durable=True)
    connection.close()  # an exchange left by an earlier `make run`

    with pytest.raises(topology.TopologyMismatch, match="alternate-exchange"):
        Relay(store, settings).run()
    consumer = EventConsumer(SERVICE)
    consumer.handles("probe.#")(lambda event, tx: None)
    with pytest.raises(topology.TopologyMismatch, match="alternate-exchange"):
        Worker(consumer, uow, settings).run()
    with Connection(settings.amqp_url) as kombu_connection, pytest.raises(topology.TopologyMismatch):
        topology.declare(kombu_connection, topology.Names(settings.amqp_prefix, SERVICE), ["probe.#"], (100,))

    assert topology.main(["migrate"], settings) == 0  # recreates it with the alternate exchange
    run_relay(infra, store, settings)


# -- finding 3: order per aggregate ------------------------------------------------------------
def test_a_nacked_event_holds_back_the_later_events_of_its_aggregate_only(infra, probe):
    settings, db, uow, store = probe
    shipped_tap = infra.tap("probe.order.shipped")
    full = rejecting_queue(infra, shipped_tap, "probe.order.placed")
    a1 = emit(uow, "probe.order.placed", "a", 1)
    a2 = emit(uow, "probe.order.shipped", "a", 2)
    b1 = emit(uow, "probe.order.shipped", "b", 1)
    run_relay(infra, store, settings)

    wait_for(lambda: db.outbox.find_one({"_id": a1})["attempts"] >= 2 and status(db, b1) == "published", 20)
    assert seen_ids(shipped_tap, expect=1) == [b1]  # a2 never overtook a1
    assert status(db, a2) == "pending"

    everything = infra.tap("#")
    shipped_tap.channel.queue_delete(full)  # a1 can go now, and a2 after it
    wait_for(lambda: status(db, a2) == "published", 30)
    assert seen_ids(everything, expect=2) == [a1, a2]


def test_one_aggregate_goes_out_in_version_order_whatever_the_clocks_say(infra, probe):
    settings, db, uow, store = probe
    tap = infra.tap("#")
    first = emit(uow, "probe.thing.created", "c", 1)
    second = emit(uow, "probe.thing.changed", "c", 2)
    # Written by an API host whose clock is an hour ahead of the next one's.
    record = db.outbox.find_one({"_id": first})
    db.outbox.update_one({"_id": second}, {"$set": {"created_at": record["created_at"].replace(year=2000),
                                                    "available_at": record["available_at"].replace(year=2000)}})
    Relay(store, settings).run(stop_when_idle=True)
    assert seen_ids(tap, expect=2) == [first, second]


# -- finding 2: the lease while confirms are slow ---------------------------------------------
def test_a_slow_broker_does_not_let_a_second_relay_publish_the_same_events(infra, probe):
    settings, db, uow, store = probe
    settings = dataclasses.replace(settings, relay_lease_seconds=1.5, relay_batch_size=50)
    tap = infra.tap("#")
    proxy = TcpProxy("127.0.0.1", 5672).start()
    try:
        slow = run_relay(infra, OutboxStore(db), dataclasses.replace(settings, amqp_url=proxy.url()))
        wait_for(lambda: db.relay_leases.find_one({"owner": slow.owner}) is not None)
        proxy.slow_replies(5.0)  # confirms take longer than three leases
        ids = emit_many(db, "probe.thing.created", 30, "t")
        second = run_relay(infra, OutboxStore(db), settings)
        wait_for(lambda: store.pending_count() == 0, 40, "the events were never published")
        routed = seen_ids(tap, expect=30)
        assert sorted(routed) == sorted(ids)  # each once: the second relay never took over
        assert second.published_total == 0
    finally:
        proxy.close()


# -- finding 5: woken by the commit, not by the poll --------------------------------------------
def test_a_commit_wakes_the_relay_long_before_its_next_poll(infra, probe):
    settings, db, uow, store = probe
    slow_poll = {name: 60.0 for name in ("relay_poll_interval", "relay_sweep_interval") if hasattr(settings, name)}
    relay = run_relay(infra, store, dataclasses.replace(settings, **slow_poll))
    wait_for(lambda: db.relay_leases.find_one({"owner": relay.owner}) is not None)
    time.sleep(0.5)  # its first read found nothing; the next poll is a minute away
    event_id = emit(uow, "probe.thing.created", "w1")
    wait_for(lambda: status(db, event_id) == "published", 10, "the relay waited for its next poll")
