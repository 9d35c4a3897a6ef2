"""Fault injection for the consumer process itself: the documents service's real consumer
under load from registration's real relay, fed messages whose headers are not what it writes."""
from __future__ import annotations

import json

import pika
import pytest

from shared import mongo
from tests import processes
from tests.load import Counter, Producer, assert_each_event_applied_once, declare_queues
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
EVENTS = 600
MALFORMED_ATTEMPTS = ["not-a-number", "", "1e9", "-1", "[3]"]


def test_consumer_fed_malformed_headers_under_load_keeps_running_and_applies_each_event_once(infra, tmp_path):
    settings, docs = infra.settings("registration"), infra.settings("documents")
    counter = Counter(infra.tap("registration.#"))
    declare_queues(docs)
    db, effects = mongo.database(settings), mongo.database(docs).owners
    consumer = processes.consumer("documents", docs, tmp_path).start()
    relay = processes.relay("registration", settings, tmp_path).start()
    try:
        producer = Producer(settings, EVENTS).start()
        wait_for(lambda: effects.count_documents({}) >= 50, 60, "the consumer made no progress")
        # Copies of real events with an x-attempt header that is not a number: each must be
        # handled (a duplicate, so no second effect) instead of killing the consumer.
        connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
        channel = connection.channel()
        for record, attempt in zip(db.outbox.find().limit(len(MALFORMED_ATTEMPTS)), MALFORMED_ATTEMPTS):
            channel.basic_publish(f"{settings.amqp_prefix}.events", record["type"],
                                  json.dumps(record["envelope"]).encode(),
                                  pika.BasicProperties(message_id=record["_id"], content_type="application/json",
                                                       headers={"x-attempt": attempt}))
        connection.close()
        produced = producer.join()
        wait_for(lambda: consumer.process.poll() is not None or effects.count_documents({}) >= produced, 90,
                 "the consumer did not catch up")
        assert consumer.process.poll() is None, f"the consumer died:\n{consumer.log()[-3000:]}"
        assert_each_event_applied_once(settings, docs, produced, counter)
        assert relay.process.poll() is None and consumer.process.poll() is None
    finally:
        consumer.stop()
        relay.stop()
