"""Every process can run as several replicas: three consumers of one queue and two relays of
one outbox, against the real broker and database, under load (1,500 events from four
concurrent producers: modest, so the test stays near a minute on two busy cores), with the
lease holder killed and a consumer stopped half way.

What is guaranteed, and asserted: every event produced reaches the broker (only copies of
it besides); none is applied twice; and one aggregate's effects never go backwards. What is
not: that competing consumers apply one aggregate's events in version order. Two of them
may hold consecutive versions at once; if the later one commits first, the earlier one is
skipped as superseded (shared/inbox.py: an event older than its aggregate's applied
version would move the state backwards) and logged with its id, never applied late. So
every event is either applied exactly once or skipped by name, each aggregate ends at its
last version, and its applied versions rise. (A consumer that must see every event, in
any order, claims with apply_late: case status's timeline.)
"""
from __future__ import annotations

import json
import os
import signal
import threading

import pytest

from shared import mongo
from shared.uow import MongoUnitOfWork
from tests import processes
from tests.consumer_probe import SERVICE, counter, queue_depth
from tests.consumer_probe import declare_queues
from tests.load import Counter, queue_consumed
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

AGGREGATES, VERSIONS, PRODUCERS = 60, 25, 4  # 1500 events
PER_TRANSACTION = 5  # events (of as many aggregates) one producer transaction emits


def produce(db, aggregates: list[str], versions: range) -> list[str]:
    """Concurrent producers (a thread each, each with its share of the aggregates) commit
    `versions` of their aggregates, in order, several aggregates a transaction."""
    shares = [aggregates[n::PRODUCERS] for n in range(PRODUCERS)]
    produced: list[str] = []
    errors: list[BaseException] = []

    def run(share: list[str]) -> None:
        uow = MongoUnitOfWork(db, SERVICE)
        try:
            for version in versions:
                for first in range(0, len(share), PER_TRANSACTION):
                    chunk = share[first:first + PER_TRANSACTION]
                    events = uow.run(lambda tx: [tx.emit("probe.thing.changed", subject_type="thing",
                                                         subject_id=aggregate, aggregate_version=version,
                                                         data={"v": version}) for aggregate in chunk])
                    produced.extend(event.id for event in events)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return produced


def skipped_ids(consumers) -> set[str]:
    """Events a consumer skipped as older than its aggregate's applied version, by its log."""
    ids = set()
    for process in consumers:
        for line in process.log().splitlines():
            if "already applied" in line and line.startswith("{"):
                ids.add(json.loads(line)["event_id"])
    return ids


def applied_ids(db, aggregates) -> set[str]:
    return {event_id for a in aggregates for event_id in counter(db, a)["events"]}


def lease_holder_pid(db) -> int | None:
    lease = db.relay_leases.find_one({"_id": "relay"})
    return int(lease["owner"].split(":")[1]) if lease else None


def test_three_consumers_and_two_relays_apply_every_event_once_and_never_go_backwards(infra, tmp_path):
    settings = infra.settings(SERVICE)
    db = mongo.database(settings)
    names = declare_queues(settings)
    tap = Counter(infra.tap("probe.#"))
    consumers = [processes.probe_consumer(settings, tmp_path, name=f"consumer-{n}").start() for n in range(3)]
    relays = {process.name: process for process in
              (processes.probe_relay(settings, tmp_path, name=f"relay-{n}").start() for n in range(2))}
    aggregates = [f"agg{n}" for n in range(AGGREGATES)]
    try:
        wait_for(lambda: queue_consumed(settings.amqp_url, names.queue), 30)
        produced = produce(db, aggregates, range(1, 9))
        # The relay holding the lease dies with events published but not marked, or not yet
        # published: the other takes over once the lease runs out, or nothing more goes out.
        wait_for(lambda: db.outbox.count_documents({"status": "published"}) > 0, 60)
        holder = lease_holder_pid(db)
        killed = next(p for p in relays.values() if p.process.pid == holder)
        os.kill(holder, signal.SIGKILL)
        killed.process.wait()
        # One consumer stops (SIGTERM) with work in hand: what it had taken, unacked, goes to the others.
        wait_for(lambda: db.counters.count_documents({}) > 0, 60)
        assert consumers[0].stop(signal.SIGTERM) == 0, consumers[0].log()
        produced += produce(db, aggregates, range(9, VERSIONS + 1))
        assert len(produced) == AGGREGATES * VERSIONS

        wait_for(lambda: db.outbox.count_documents({"status": "pending"}) == 0, 90,
                 lambda: f"{db.outbox.count_documents({'status': 'pending'})} still pending")
        # Every event applied or skipped by name, and nothing left in the queues.
        wait_for(lambda: set(produced) <= applied_ids(db, aggregates) | skipped_ids(consumers)
                 and not any(queue_depth(settings.amqp_url, queue) for queue in
                             [names.queue, *map(names.retry_queue, settings.retry_delays_ms)]), 90,
                 lambda: f"{len(set(produced) - applied_ids(db, aggregates) - skipped_ids(consumers))} "
                         "events neither applied nor skipped")
    finally:
        for process in [*consumers, *relays.values()]:
            process.stop()

    applied = [event_id for a in aggregates for event_id in counter(db, a)["events"]]
    assert len(applied) == len(set(applied)), "an event was applied twice"
    for aggregate in aggregates:
        versions = counter(db, aggregate)["versions"]
        assert versions == sorted(set(versions)) and versions[-1] == VERSIONS, (aggregate, versions)
    not_applied = set(produced) - set(applied)
    assert not_applied == skipped_ids(consumers) - set(applied)  # each one skipped by name, none lost
    assert set(applied) <= set(produced)
    routed = tap.drain()
    assert set(routed) == set(produced)  # every event reached the broker; any extra is a copy
    inbox = [row["event_id"] for row in db.inbox.find({"consumer": SERVICE}, {"event_id": 1})]
    assert sorted(inbox) == sorted(applied)
    print(f"{len(produced)} events: {len(applied)} applied, {len(not_applied)} skipped as superseded, "
          f"{len(routed) - len(set(routed))} published twice (relay killed)")
