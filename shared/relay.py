"""The outbox relay: publishes what the outbox holds, and marks an event published only
after the broker confirmed it.

One process per service. It runs on pika's asynchronous connection so that a whole
batch is in flight before the first confirm returns (one-at-a-time confirms cap the
rate at roughly a thousand messages a second). Messages are published `mandatory`:
an event no queue is bound for comes back, stays pending and is retried later, like
one the broker nacked. A lease in the service database lets only one relay publish.

The database is the slow part, so the relay reads a window of several batches at once
and marks a confirmed batch in a background thread while the next batch of the window
is on the wire. It reads again only once every mark has landed, so a read never sees an
event that was confirmed but not yet marked. A failed batch drops the rest of the
window: the next read holds back that aggregate's later events, keeping their order.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import pika
from pika.spec import Basic
from pymongo.errors import PyMongoError

from shared.config import Settings
from shared.outbox import OutboxStore

log = logging.getLogger("probashi.relay")

WINDOW_BATCHES = 8  # batches read from the outbox at once: each read costs O(pending) on SecantusDB
MAX_UNMARKED_BATCHES = 2  # confirmed batches whose mark may still be running


def _properties(envelope: dict) -> pika.BasicProperties:
    return pika.BasicProperties(
        message_id=envelope["id"],
        type=envelope["type"],
        content_type="application/json",
        content_encoding="utf-8",
        correlation_id=envelope["correlation_id"],
        app_id=envelope["source"],
        delivery_mode=pika.DeliveryMode.Persistent,
        timestamp=int(time.time()),
        headers={"schema_version": envelope["schema_version"],
                 "subject_type": envelope["subject"]["type"],
                 "subject_id": envelope["subject"]["id"],
                 "aggregate_version": envelope["aggregate_version"]},
    )


def _body(envelope: dict) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Relay:
    def __init__(self, store: OutboxStore, settings: Settings, confirm_timeout: float = 30.0):
        self.store = store
        self.settings = settings
        self.exchange = f"{settings.amqp_prefix}.events"
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.confirm_timeout = confirm_timeout
        self.published_total = 0
        self._stopping = False
        self._stop_when_idle = False
        self._connection: pika.SelectConnection | None = None
        self._channel = None
        self._reset_batch()
        self._delivery_tag = 0
        self._lease_until = 0.0
        self._window: deque[dict] = deque()
        self._marking: list[Future] = []
        self._marker: ThreadPoolExecutor | None = None
        self.ready = threading.Event()

    # -- lifecycle ---------------------------------------------------------------
    def run(self, stop_when_idle: bool = False) -> None:
        """Publish until stop() (or, with stop_when_idle, until the outbox is empty);
        reconnects to the broker with a growing pause when the connection drops."""
        self._stop_when_idle = stop_when_idle
        self._marker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-mark")
        pause = 0.5
        try:
            while not self._stopping:
                self._connection = pika.SelectConnection(
                    pika.URLParameters(self.settings.amqp_url),
                    on_open_callback=self._on_connection_open,
                    on_open_error_callback=self._on_connection_error,
                    on_close_callback=self._on_connection_closed)
                self._connection.ioloop.start()
                if self._stopping:
                    break
                log.warning("relay disconnected from the broker; reconnecting in %.1fs", pause)
                time.sleep(pause)
                pause = min(pause * 2, 10.0)
        finally:
            self._marker.shutdown(wait=True)  # confirmed events get their mark before exit
        self._collect_marks()
        self.store.release_lease(self.owner)

    def stop(self) -> None:
        """Thread-safe: finish the batch in flight, then close."""
        self._stopping = True
        connection = self._connection
        if connection is not None:
            try:
                connection.ioloop.add_callback_threadsafe(self._close_if_idle)
            except Exception:  # the loop already ended
                pass

    # -- broker callbacks ----------------------------------------------------------
    def _on_connection_open(self, connection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_connection_error(self, connection, error) -> None:
        log.error("relay cannot connect to the broker: %s", error)
        connection.ioloop.stop()

    def _on_connection_closed(self, connection, reason) -> None:
        self._channel = None
        if self._inflight:
            # Unconfirmed events were never marked published: they go out again.
            log.warning("connection closed with %d unconfirmed events; they stay pending", len(self._inflight))
        self._reset_batch()
        self._window.clear()
        connection.ioloop.stop()

    def _on_channel_open(self, channel) -> None:
        self._channel = channel
        self._delivery_tag = 0  # delivery tags count per channel
        channel.add_on_return_callback(self._on_returned)
        channel.exchange_declare(exchange=self.exchange, exchange_type="topic", durable=True,
                                 callback=lambda _frame: channel.confirm_delivery(
                                     ack_nack_callback=self._on_confirm,
                                     callback=lambda _f: self._ready()))

    def _ready(self) -> None:
        self.ready.set()
        log.info("relay publishing to %s", self.exchange, extra={"owner": self.owner})
        self._schedule(0)

    def _on_returned(self, _channel, method, properties, _body) -> None:
        # The broker returns an unroutable mandatory message before confirming it.
        self._returned[properties.message_id] = f"unroutable: {method.reply_code} {method.reply_text}"

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tags = [t for t in self._inflight if t <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        for tag in tags:
            event_id = self._inflight.pop(tag, None)
            if event_id is None:
                continue
            if isinstance(method, Basic.Ack) and event_id not in self._returned:
                self._acked.append(event_id)
            else:
                self._failed[event_id] = self._returned.get(event_id, "nacked by the broker")
        if not self._inflight and self._batch_started:
            self._finish_batch()

    # -- the publishing loop ---------------------------------------------------------
    def _schedule(self, delay: float) -> None:
        self._connection.ioloop.call_later(delay, self._tick)

    def _tick(self) -> None:
        if self._channel is None or self._inflight:
            return
        self._collect_marks()
        if self._stopping:
            self._close_if_idle()
            return
        if len(self._marking) >= MAX_UNMARKED_BATCHES or (not self._window and self._marking):
            return  # _mark_done ticks again once a mark lands
        try:
            if not self._hold_lease():
                self._window.clear()
                self._schedule(self.settings.relay_lease_seconds / 3)
                return
            if not self._window:
                size = self.settings.relay_batch_size
                self._window.extend(self.store.next_batch(size * WINDOW_BATCHES, lookahead=size * 3))
        except PyMongoError as exc:
            log.error("relay cannot read the outbox: %s", exc)
            self._schedule(1.0)
            return
        if not self._window:
            if self._stop_when_idle and self.store.pending_count() == 0:
                self._stopping = True
                self._close_if_idle()
            else:
                self._schedule(self.settings.relay_poll_interval)
            return
        batch = [self._window.popleft() for _ in range(min(self.settings.relay_batch_size, len(self._window)))]
        self._publish(batch)

    def _hold_lease(self) -> bool:
        now = time.monotonic()
        if now < self._lease_until - self.settings.relay_lease_seconds * 2 / 3:
            return True
        if self.store.acquire_lease(self.owner, self.settings.relay_lease_seconds):
            self._lease_until = now + self.settings.relay_lease_seconds
            return True
        self._lease_until = 0.0
        return False

    def _publish(self, batch: list[dict]) -> None:
        self._batch_started = time.monotonic()
        for record in batch:
            envelope = record["envelope"]
            self._delivery_tag += 1
            self._inflight[self._delivery_tag] = record["_id"]
            self._channel.basic_publish(self.exchange, envelope["type"], _body(envelope),
                                        properties=_properties(envelope), mandatory=True)
        self._watchdog = self._connection.ioloop.call_later(self.confirm_timeout, self._confirm_timed_out)

    def _confirm_timed_out(self) -> None:
        if self._inflight:
            log.error("no confirm for %d events in %.0fs; reconnecting", len(self._inflight), self.confirm_timeout)
            self._connection.close()

    def _finish_batch(self) -> None:
        if self._watchdog is not None:
            self._connection.ioloop.remove_timeout(self._watchdog)
        acked, failed = self._acked, self._failed
        self._reset_batch()
        for event_id, reason in failed.items():
            log.error("event not published, stays pending: %s", reason, extra={"event_id": event_id})
        if failed:
            self._window.clear()  # later events of a failed aggregate must wait for it
        future = self._marker.submit(self._mark, acked, failed)
        self._marking.append(future)
        future.add_done_callback(self._mark_done)
        self._schedule(0 if not failed else self.settings.relay_poll_interval)

    def _mark(self, acked: list[str], failed: dict[str, str]) -> int:
        self.store.mark_published(acked)
        self.store.mark_failed(failed)
        return len(acked)

    def _mark_done(self, _future: Future) -> None:
        # Runs on the marking thread: wake the loop, which collects the result.
        connection = self._connection
        try:
            connection.ioloop.add_callback_threadsafe(self._tick)
        except Exception:  # the loop is gone; run() collects the marks on exit
            pass

    def _collect_marks(self) -> None:
        while self._marking and self._marking[0].done():
            future = self._marking.pop(0)
            error = future.exception()
            if error is None:
                self.published_total += future.result()
            elif isinstance(error, PyMongoError):
                # The broker has them; marking fails only if the database is down. They
                # will be published again, and consumers' inboxes drop the duplicates.
                log.error("published events but could not mark them: %s", error)
                self._window.clear()
            else:
                raise error

    def _reset_batch(self) -> None:
        self._inflight: dict[int, str] = {}
        self._acked: list[str] = []
        self._failed: dict[str, str] = {}
        self._returned: dict[str, str] = {}
        self._batch_started = 0.0
        self._watchdog = None

    def _close_if_idle(self) -> None:
        if self._inflight:
            return  # _finish_batch runs first, then the next tick closes
        connection = self._connection
        if connection is not None and connection.is_open:
            connection.close()
        elif connection is not None:
            connection.ioloop.stop()


def main(service: str) -> None:
    """Entry point of a service's relay process."""
    import signal

    from shared import logs, mongo

    settings = Settings.from_env(service)
    logs.configure(f"{service}-relay", settings.log_level)
    store = OutboxStore(mongo.database(settings))
    store.ensure_indexes()
    relay = Relay(store, settings)
    signal.signal(signal.SIGTERM, lambda *_: relay.stop())
    signal.signal(signal.SIGINT, lambda *_: relay.stop())
    relay.run()
