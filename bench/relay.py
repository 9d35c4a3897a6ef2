"""Relay throughput: N pending outbox events published by the relay, against a raw pika
publisher with pipelined confirms sending the same messages to the same broker."""
from __future__ import annotations

import time

import pika
from pika.spec import Basic

from shared import mongo
from shared.events import Envelope
from shared.outbox import OutboxStore, outbox_record
from shared.relay import Relay, _body, _properties

from .env import AMQP_URL, BenchEnv, progress
from .report import Row, median

PAYLOAD_BYTES = 600


def events(count: int) -> list[dict]:
    note = "x" * (PAYLOAD_BYTES - 60)
    return [outbox_record(Envelope.new(type="registration.migrant.registered", source="registration",
                                       subject_type="migrant", subject_id=f"PB-BENCH-{i:07d}", aggregate_version=1,
                                       data={"reference": f"PB-BENCH-{i:07d}", "note": note}))
            for i in range(count)]


def seed(store: OutboxStore, records: list[dict]) -> None:
    for start in range(0, len(records), 2000):
        store.outbox.insert_many(records[start:start + 2000], ordered=False)


class RawPublisher:
    """Publishes prepared messages with at most `window` unconfirmed at a time."""

    def __init__(self, exchange: str, messages: list[tuple[str, bytes, pika.BasicProperties]], window: int):
        self.exchange, self.messages, self.window = exchange, messages, window
        self.sent = self.acked = 0
        self.failed = 0

    def run(self) -> float:
        self.connection = pika.SelectConnection(pika.URLParameters(AMQP_URL), on_open_callback=self._open)
        self.connection.ioloop.start()
        if self.acked + self.failed != len(self.messages) or self.failed:
            raise RuntimeError(f"raw publisher: {self.acked} acked, {self.failed} failed of {len(self.messages)}")
        return self.elapsed

    def _open(self, connection) -> None:
        connection.channel(on_open_callback=self._channel_open)

    def _channel_open(self, channel) -> None:
        self.channel = channel
        channel.confirm_delivery(ack_nack_callback=self._confirm, callback=lambda _f: self._start())

    def _start(self) -> None:
        self.started = time.perf_counter()
        self._fill()

    def _fill(self) -> None:
        while self.sent < len(self.messages) and self.sent - self.acked - self.failed < self.window:
            key, body, props = self.messages[self.sent]
            self.channel.basic_publish(self.exchange, key, body, properties=props, mandatory=True)
            self.sent += 1

    def _confirm(self, frame) -> None:
        method = frame.method
        done = method.delivery_tag - (self.acked + self.failed) if method.multiple else 1
        if isinstance(method, Basic.Ack):
            self.acked += done
        else:
            self.failed += done
        if self.acked + self.failed == len(self.messages):
            self.elapsed = time.perf_counter() - self.started
            self.connection.close()
            self.connection.ioloop.stop()
        else:
            self._fill()


def run(env: BenchEnv, count: int, runs: int) -> list[Row]:
    raw_rates, relay_rates = [], []
    records = events(count)
    messages = [(r["type"], _body(r["envelope"]), _properties(r["envelope"])) for r in records]
    for n in range(1, runs + 1):
        settings = env.settings("registration", f"relay{n}")
        queue = env.sink(settings)
        progress(f"relay run {n}/{runs}: raw pika publisher, {count} messages")
        elapsed = RawPublisher(f"{settings.amqp_prefix}.events", messages, settings.relay_batch_size).run()
        raw_rates.append(count / elapsed)
        env.purge(queue)

        store = OutboxStore(mongo.database(settings))
        store.ensure_indexes()
        progress(f"relay run {n}/{runs}: seeding {count} outbox events")
        seed(store, events(count))
        progress(f"relay run {n}/{runs}: relay publishing")
        relay = Relay(store, settings)
        started = time.perf_counter()
        relay.run(stop_when_idle=True)
        elapsed = time.perf_counter() - started
        if relay.published_total != count or store.pending_count():
            raise RuntimeError(f"relay published {relay.published_total} of {count}")
        relay_rates.append(count / elapsed)
        env.purge(queue)
        progress(f"relay run {n}/{runs}: raw {raw_rates[-1]:,.0f}/s, relay {relay_rates[-1]:,.0f}/s")
    return [Row("1. relay throughput", "events/s", median(raw_rates), median(relay_rates),
                f"{count} events of {PAYLOAD_BYTES} B, batch {settings.relay_batch_size}; baseline: pika, pipelined confirms")]
