"""Fault injection for the case-status consumer process: a mixed stream - registrations through
registration's service layer (tests/load.py's Producer) and claim approvals through claims'
outbox - published by the two services' real relay processes, applied by `python -m
services.casestatus.consumer` while it is SIGKILLed mid-stream or its broker connection is cut
twice. Each test ends with exact counts: every event produced is in case status's inbox once and
is one timeline entry (entries == events, the same ids), and every approval queued exactly one
SMS, to its claimant (SMS == planned): nothing lost, nothing applied twice.

Production starts only once the consumer consumes its queue (tests.load.queue_consumed): it
binds its keys one by one after declaring the queue, so the queue existing is not enough."""
from __future__ import annotations

import threading
import time

import pytest

from services.casestatus import notifications
from shared import deadletters, mongo, topology
from shared.config import Settings
from shared.uow import MongoUnitOfWork
from tests import processes
from tests.load import Counter, Producer, queue_consumed
from tests.tcpproxy import TcpProxy
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
REGISTRATIONS, APPROVALS = 400, 200


def claimant_phone(n: int) -> str:
    return f"+88017{n:08d}"


class Approvals:
    """Claim approvals written to claims' outbox (as claims' service layer would, contract
    checked), one transaction each, in a thread of its own; claims' relay publishes them."""

    def __init__(self, settings: Settings, count: int):
        self.uow = MongoUnitOfWork(mongo.database(settings), "claims")
        self.count, self.written, self.error = count, 0, None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Approvals":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for n in range(self.count):
                self.uow.run(lambda tx, n=n: tx.emit(
                    "claims.claim.approved", subject_type="claim", subject_id=f"CLM-2026-F{n:07d}", aggregate_version=3,
                    data={"case_id": f"CLM-2026-F{n:07d}", "status": "approved", "document_ids": [],
                          "claim_type": "medical_aid", "migrant_reference": f"PB-FLT-{n:04d}",
                          "claimant_phone": claimant_phone(n), "approved_amount": 50000}))
                self.written += 1
        except BaseException as exc:  # reported by join()
            self.error = exc

    def join(self, timeout: float = 120) -> int:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "approvals did not finish"
        if self.error:
            raise self.error
        return self.written


class Stream:
    """Both producers, the two relays and the settings of the three services."""

    def __init__(self, infra, tmp_path, amqp_url: str | None = None):
        over = {"amqp_url": amqp_url} if amqp_url else {}
        self.registration, self.claims = infra.settings("registration", **over), infra.settings("claims", **over)
        self.casestatus = infra.settings("casestatus", **over)
        self.amqp_url, self.tmp_path = infra.amqp_url, tmp_path
        self.db = mongo.database(self.casestatus)
        self.relays = [processes.relay(name, settings, tmp_path).start()
                       for name, settings in (("registration", self.registration), ("claims", self.claims))]

    def consumer(self):
        return processes.consumer("casestatus", self.casestatus, self.tmp_path).start()

    def wait_consuming(self, consumer) -> None:
        queue = topology.Names(self.casestatus.amqp_prefix, "casestatus").queue
        wait_for(lambda: queue_consumed(self.amqp_url, queue), 30,
                 lambda: f"the consumer never consumed its queue:\n{consumer.log()}")

    def produce(self) -> tuple[Producer, Approvals]:
        return Producer(self.registration, REGISTRATIONS).start(), Approvals(self.claims, APPROVALS).start()

    def inbox(self) -> list[str]:
        return [r["event_id"] for r in self.db.inbox.find({"consumer": "casestatus"}, {"event_id": 1})]

    def published(self) -> dict[str, str]:
        """Every event in the two outboxes: id -> type."""
        return {r["_id"]: r["type"] for settings in (self.registration, self.claims)
                for r in mongo.database(settings).outbox.find({}, {"type": 1})}

    def pending(self) -> int:
        return sum(mongo.database(s).outbox.count_documents({"status": "pending"})
                   for s in (self.registration, self.claims))

    def assert_each_event_applied_once(self, producers, counter: Counter | None = None, timeout: float = 120):
        registered, approved = producers[0].join(), producers[1].join()
        produced = registered + approved
        wait_for(lambda: len(self.inbox()) >= produced and self.pending() == 0, timeout,
                 lambda: f"case status applied {len(self.inbox())} of {produced} events, {self.pending()} pending")
        time.sleep(1.0)  # anything applied twice would show up now
        published = self.published()
        assert (registered, approved) == (REGISTRATIONS, APPROVALS) and len(published) == produced
        inbox = self.inbox()
        assert len(inbox) == produced and set(inbox) == set(published)
        entries = [r["_id"] for r in self.db.entries.find({}, {"_id": 1})]
        assert len(entries) == produced and set(entries) == set(published)  # entries == events
        sms = list(self.db.notifications.find({}, {"event_id": 1, "to": 1}))
        approvals = {event_id for event_id, kind in published.items() if kind == "claims.claim.approved"}
        assert len(sms) == APPROVALS and {s["event_id"] for s in sms} == approvals  # SMS == planned
        assert {s["_id"] for s in sms} == {notifications.key(s["event_id"], s["to"]) for s in sms}
        assert {s["to"] for s in sms} == {claimant_phone(n) for n in range(APPROVALS)}
        assert deadletters.DeadLetterQueue(self.casestatus).list() == []
        if counter is not None:
            assert set(counter.drain()) >= set(published)  # every event reached the broker

    def stop(self) -> None:
        for relay in self.relays:
            relay.stop()


def test_casestatus_consumer_killed_mid_stream_loses_nothing_and_applies_nothing_twice(infra, tmp_path):
    stream = Stream(infra, tmp_path)
    consumer = stream.consumer()
    try:
        stream.wait_consuming(consumer)
        producers = stream.produce()
        wait_for(lambda: len(stream.inbox()) >= (REGISTRATIONS + APPROVALS) // 4, 60, "the consumer made no progress")
        # Up to `prefetch` deliveries are unacked and one transaction may be open: the broker
        # hands them to the next consumer, whose inbox drops what was committed.
        consumer.kill()
        killed_at = len(stream.inbox())
        consumer = stream.consumer()
        stream.assert_each_event_applied_once(producers, timeout=150)
        assert killed_at < REGISTRATIONS + APPROVALS and consumer.process.poll() is None
    finally:
        consumer.stop()
        stream.stop()


def test_casestatus_consumer_reconnects_after_its_broker_connection_is_cut_twice(infra, tmp_path):
    proxy = TcpProxy("127.0.0.1", 5672).start()
    stream, consumer = None, None
    try:
        counter = Counter(infra.tap("#"))
        stream = Stream(infra, tmp_path, amqp_url=proxy.url())
        consumer = stream.consumer()
        stream.wait_consuming(consumer)
        producers = stream.produce()
        for applied in ((REGISTRATIONS + APPROVALS) // 4, (REGISTRATIONS + APPROVALS) // 2):
            wait_for(lambda: len(stream.inbox()) >= applied, 60, "no progress before the cut")
            proxy.cut()  # every connection of the relays and the consumer drops at once
            time.sleep(1.5)
            proxy.restore()
        stream.assert_each_event_applied_once(producers, counter)
        assert all(relay.process.poll() is None for relay in stream.relays) and consumer.process.poll() is None
        assert consumer.log().count("Connection to broker lost") >= 2  # kombu, reconnecting
    finally:
        if consumer is not None:
            consumer.stop()
        if stream is not None:
            stream.stop()
        proxy.close()
