"""Fault injection for the relay: the registration service's real relay, publishing to
the documents service's real consumer, with thousands of events the broker refuses forever in its outbox. Fresh
registrations must still go through, each applied once; the refused events are
retried, never marked published. Exact counts, bounded waits."""
from __future__ import annotations

import pytest

from shared import mongo
from shared.events import Envelope
from shared.outbox import outbox_record
from tests import processes
from tests.load import Counter, Producer, declare_queues
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
STUCK = 6000  # more than the relay reads at once (8 batches of 500, before this fix plus 1,500 looked past)
FRESH = 200


def test_thousands_of_refused_events_do_not_stop_fresh_ones(infra, tmp_path):
    settings, docs = infra.settings("registration"), infra.settings("documents")
    db, effects = mongo.database(settings), mongo.database(docs).owners
    declare_queues(docs)
    counter = Counter(infra.tap("registration.migrant.#"))
    full = f"{infra.prefix}.full"  # the broker nacks every publish routed here
    counter.tap.channel.queue_declare(full, arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    counter.tap.channel.queue_bind(full, f"{infra.prefix}.events", routing_key="registration.stuck.#")
    infra.extra_queues.append(full)
    stuck = [Envelope.new(type="registration.stuck.created", source="registration", subject_type="stuck",
                          subject_id=f"s{i}", aggregate_version=1, data={"n": i}) for i in range(STUCK)]
    for start in range(0, STUCK, 1000):
        db.outbox.insert_many([outbox_record(e) for e in stuck[start:start + 1000]])

    started = [processes.relay("registration", settings, tmp_path).start(),
               processes.consumer("documents", docs, tmp_path).start()]
    try:
        wait_for(lambda: db.outbox.count_documents({"attempts": {"$gte": 1}}) >= 1, 60,
                 "the relay is not trying the refused events")
        produced = Producer(settings, FRESH).start().join()
        fresh = lambda: db.outbox.count_documents({"type": "registration.migrant.registered", "status": "published"})
        wait_for(lambda: fresh() == produced and effects.count_documents({}) == produced, 120,
                 lambda: f"{fresh()} of {produced} fresh events published, {effects.count_documents({})} applied, "
                         f"behind {STUCK} refused ones")
        assert all(p.process.poll() is None for p in started)
    finally:
        for process in started:
            process.stop()

    fresh_ids = {r["_id"] for r in db.outbox.find({"type": "registration.migrant.registered"}, {"_id": 1})}
    assert len(fresh_ids) == produced == FRESH
    assert set(counter.drain()) == fresh_ids
    assert {r["event_id"] for r in mongo.database(docs).inbox.find({"consumer": "documents"})} == fresh_ids
    assert effects.count_documents({}) == FRESH
    refused = {"type": "registration.stuck.created"}
    assert db.outbox.count_documents({**refused, "status": "published"}) == 0
    assert db.outbox.count_documents({**refused, "status": {"$in": ["pending", "failed"]}}) == STUCK
    # Due before the fresh ones, so each was tried before they went out: delayed, not skipped.
    assert db.outbox.count_documents({**refused, "attempts": {"$gte": 1}}) == STUCK
