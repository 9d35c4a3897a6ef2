"""Tests that a broken backbone cannot pass: the outbox written outside the transaction,
an inbox that does not stop a second delivery, a consumer that acks before it commits.
Each uses a visible, non-idempotent effect (tests/consumer_probe.py: `$inc`) and the
real RabbitMQ and database."""
from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import replace

import pytest
from pymongo.errors import BulkWriteError

from shared import mongo, topology
from shared.consumer import Worker
from shared.outbox import OUTBOX
from shared.uow import INBOX, MongoUnitOfWork
from tests import processes
from tests.load import queue_consumed
from tests.consumer_probe import SERVICE, consumer, counter, event, publish
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def probe(infra):
    settings = infra.settings(SERVICE)
    return settings, mongo.database(settings)


def test_an_outbox_write_that_fails_rolls_back_the_change(probe):
    _, db = probe
    uow = MongoUnitOfWork(db, SERVICE)
    taken = "event-id-already-in-the-outbox"
    db[OUTBOX].insert_one({"_id": taken, "status": "published"})

    def change(tx):
        tx.db["things"].insert_one({"_id": "x"}, session=tx.session)
        emitted = tx.emit("probe.thing.created", subject_type="thing", subject_id="x", aggregate_version=1, data={})
        tx.events[-1] = replace(emitted, id=taken)  # the outbox insert will now fail

    with pytest.raises(BulkWriteError) as err:
        uow.run(change)
    assert err.value.details["writeErrors"][0]["code"] == 11000  # the duplicate _id, nothing else
    assert db["things"].count_documents({}) == 0, "the change outlived its failed outbox write"
    assert list(db[OUTBOX].find()) == [{"_id": taken, "status": "published"}]


def test_the_same_event_delivered_twice_moves_a_counter_once(infra, probe):
    settings, db = probe
    worker = Worker(consumer, MongoUnitOfWork(db, SERVICE), settings)
    infra.background(worker, worker.run)
    assert worker.ready.wait(15)
    once = event("a")
    publish(settings, once)
    publish(settings, once)
    wait_for(lambda: worker.processed == 2)
    assert counter(db, "a")["applied"] == 1
    assert db[INBOX].count_documents({"event_id": once.id}) == 1


class Rendezvous(MongoUnitOfWork):
    """Holds each unit of work until the other worker has its copy too, so both
    transactions run at the same time."""

    def __init__(self, db, barrier: threading.Barrier):
        super().__init__(db, SERVICE)
        self.barrier = barrier

    def run(self, fn):
        self.barrier.wait(timeout=15)
        return super().run(fn)


def test_the_same_event_delivered_to_two_workers_at_once_moves_a_counter_once(infra, probe):
    settings, db = probe
    barrier = threading.Barrier(2)
    workers = [Worker(consumer, Rendezvous(db, barrier), settings, prefetch=1) for _ in range(2)]
    for worker in workers:
        infra.background(worker, worker.run)
        assert worker.ready.wait(15)
    once = event("a")
    publish(settings, once)
    publish(settings, once)
    wait_for(lambda: counter(db, "a")["applied"] >= 1 and sum(w.processed for w in workers) >= 2, 30)
    assert not barrier.broken, "the two deliveries were not handled side by side"
    assert [w.processed for w in workers] == [1, 1]
    assert counter(db, "a")["applied"] == 1
    assert db[INBOX].count_documents({"event_id": once.id}) == 1


def test_a_consumer_killed_inside_its_transaction_loses_nothing_and_applies_once(infra, probe, tmp_path):
    settings, db = probe
    blocking = BlockingProbe(settings, tmp_path, {"PROBE_BLOCK": "1"}).start()
    try:
        names = topology.Names(settings.amqp_prefix, SERVICE)
        wait_for(lambda: blocking.alive() and queue_consumed(settings.amqp_url, names.queue), 30,
                 lambda: f"the consumer did not start:\n{blocking.log()}")
        held = event("a", block=True)
        publish(settings, held)
        # The handler is inside its transaction, with the event unacked (a consumer that
        # acked on receipt would have acked it by now).
        wait_for(lambda: db["entered"].find_one({"_id": held.id}), 30,
                 lambda: f"the handler never ran:\n{blocking.log()}")
    finally:
        blocking.kill()
    # The server would reap the dead consumer's transaction after 60 s; end it now.
    lsid = db["entered"].find_one({"_id": held.id})["lsid"]
    db.client.admin.command("killSessions", [lsid])
    fresh = Worker(consumer, MongoUnitOfWork(db, SERVICE), settings)
    infra.background(fresh, fresh.run)
    assert fresh.ready.wait(15)
    wait_for(lambda: counter(db, "a")["applied"] >= 1, 30, "the event the killed consumer held was lost")
    wait_for(lambda: fresh.processed >= 1)
    assert counter(db, "a") == {"_id": "a", "applied": 1, "events": [held.id], "versions": [1], "last": 1}
    assert db[INBOX].count_documents({"event_id": held.id}) == 1


class BlockingProbe(processes.ServiceProcess):
    """tests.consumer_probe as its own process, its handler hanging on `block` events."""

    def __init__(self, settings, log_dir, extra_env: dict):
        super().__init__("probe-consumer", [sys.executable, "-m", "tests.consumer_probe"],
                         settings, log_dir)
        self.extra_env = extra_env

    def start(self) -> "BlockingProbe":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv, cwd=processes.REPO_ROOT,
                                                  env={**processes.environment(self.settings), **self.extra_env},
                                                  stdout=log, stderr=subprocess.STDOUT)
        return self

    def alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the consumer exited:\n{self.log()}")
        return True
