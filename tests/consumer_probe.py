"""A consumer with a visible, non-idempotent effect, for the consumer's own tests.

Its handler increments a counter per aggregate with `$inc` and pushes the event id, so
an event applied twice shows up as a count of 2, never hidden by an idempotent write.
Run as a process (`python -m tests.consumer_probe`, configured like any service); with
PROBE_BLOCK=1 an event whose data has `block` makes the handler note its session in
`entered` (outside the transaction) and then hang inside the open transaction; with
PROBE_CRASH=1 an event whose data has `crash` kills the process before its transaction (a
poison message: no retry, no dead letter of the consumer's own, and no ack).
"""
from __future__ import annotations

import os
import time

from shared import mongo
from shared.consumer import EventConsumer
from shared.uow import MongoUnitOfWork

SERVICE = "probe"


class _Probe(EventConsumer):
    def process(self, uow, event):
        if event.data.get("crash") and os.environ.get("PROBE_CRASH"):
            os._exit(3)  # before its transaction: nothing stays locked for the next delivery
        return super().process(uow, event)


consumer = _Probe(SERVICE)


@consumer.handles("probe.#")
def count(event, tx) -> None:
    if event.data.get("fail"):
        raise RuntimeError(f"cannot apply {event.id}")
    if event.data.get("block") and os.environ.get("PROBE_BLOCK"):
        tx.db["entered"].insert_one({"_id": event.id, "lsid": tx.session.session_id})
        time.sleep(3600)  # until the test kills this process, the transaction stays open
    tx.db["counters"].update_one({"_id": event.subject.id},
                                 {"$inc": {"applied": 1}, "$set": {"last": event.aggregate_version},
                                  "$push": {"events": event.id, "versions": event.aggregate_version}},
                                 upsert=True, session=tx.session)


def unit_of_work(settings) -> MongoUnitOfWork:
    return MongoUnitOfWork(mongo.database(settings), SERVICE)


if __name__ == "__main__":
    consumer.main(unit_of_work)


# -- helpers for the tests that drive it ------------------------------------------------
def event(subject_id: str = "a", version: int = 1, event_type: str = "probe.thing.changed", **data):
    from shared.events import Envelope
    return Envelope.new(type=event_type, source=SERVICE, subject_type="thing", subject_id=subject_id,
                        aggregate_version=version, data=data)


def publish(settings, envelope, headers: dict | None = None, routing_key: str | None = None,
            exchange: str | None = None) -> None:
    """Publish as the relay would (or, with exchange="", straight to a queue)."""
    import pika
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(f"{settings.amqp_prefix}.events" if exchange is None else exchange,
                              routing_key or envelope.type, envelope.to_json(),
                              pika.BasicProperties(message_id=envelope.id, type=envelope.type,
                                                   content_type="application/json", delivery_mode=2,
                                                   headers=headers),
                              mandatory=True)
    finally:
        connection.close()


def declare_queues(settings):
    """The probe's exchange and queues, as its consumer declares them (so publishes are routed)."""
    from kombu import Connection

    from shared import topology
    names = topology.Names(settings.amqp_prefix, SERVICE)
    with Connection(settings.amqp_url) as connection:
        topology.declare(connection, names, consumer.binding_keys, settings.retry_delays_ms,
                         topology.QueueKind.of(settings))
    return names


def counter(db, subject_id: str = "a") -> dict:
    return db["counters"].find_one({"_id": subject_id}) or {"applied": 0, "events": []}


def queue_depth(amqp_url: str, queue: str) -> int | None:
    """Ready messages in a queue (None when it does not exist)."""
    import pika
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker:
        return None
    finally:
        if connection.is_open:
            connection.close()
