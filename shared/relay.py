"""The outbox relay: publishes what the outbox holds, and marks an event published only
after the broker confirmed it.

One process per service. It runs on pika's asynchronous connection so that a whole
batch is in flight before the first confirm returns (one-at-a-time confirms cap the
rate at roughly a thousand messages a second). An event no queue is bound to goes to
the alternate exchange's `unrouted` queue (see shared/topology.py); one the broker nacks
(or returns: messages are `mandatory`) stays pending, is retried with a growing delay
and parked after `relay_max_attempts` (shared/outbox.py). A lease in the service
database, renewed while confirms are awaited, lets only one relay publish (shared/lease.py).

A commit wakes the relay through a change stream on the outbox (shared/wakeup.py);
polling is only the sweep for retries that came due. The database is the slow part, so
the relay reads a window of several batches at once and marks a confirmed batch in a
background thread while the next batch of the window is on the wire. A read skips the
events whose mark is still running, so it neither waits for the marks (latency) nor
publishes a confirmed event again. A batch holds at most one event per aggregate, and a
failed batch drops the rest of the window, so no event overtakes an earlier one of its
aggregate.
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
from pika.exceptions import ChannelClosedByBroker
from pika.spec import Basic
from pymongo.errors import PyMongoError

from shared import metrics, topology
from shared.config import Settings
from shared.lease import Lease
from shared.outbox import OutboxStore
from shared.wakeup import OutboxWatcher

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
        self.queue_kind = topology.QueueKind.of(settings)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.confirm_timeout = confirm_timeout
        self.published_total = 0
        self._stopping = False
        self._stop_when_idle = False
        self._connection: pika.SelectConnection | None = None
        self._channel = None
        self._reset_batch()
        self._delivery_tag = 0
        self.lease = Lease(store, self.owner, settings.relay_lease_seconds)
        self._window: deque[list[dict]] = deque()  # batches read, not yet published
        self._marking: list[tuple[Future, set[str]]] = []  # marks running, with their events
        self._marker: ThreadPoolExecutor | None = None
        self._watcher: OutboxWatcher | None = None
        self._idle_timer = None
        self._wake_posted = threading.Event()
        self._fatal: Exception | None = None
        self.ready = threading.Event()

    # -- lifecycle ---------------------------------------------------------------
    def run(self, stop_when_idle: bool = False) -> None:
        """Publish until stop() (or, with stop_when_idle, until the outbox is empty);
        reconnects to the broker with a growing pause when the connection drops."""
        self._stop_when_idle = stop_when_idle
        self._marker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-mark")
        self._watcher = OutboxWatcher(self.store.outbox, self._wake).start()
        pause = 0.5
        try:
            while not self._stopping:
                metrics.beat()
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
            self._watcher.stop()
            self._marker.shutdown(wait=True)  # confirmed events get their mark before exit
        self._collect_marks()
        self.lease.release()
        if self._fatal is not None:
            raise self._fatal

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
        self._idle_timer = None  # it belonged to this connection's loop
        connection.ioloop.stop()

    def _on_channel_open(self, channel) -> None:
        self._channel = channel
        self._delivery_tag = 0  # delivery tags count per channel
        channel.add_on_return_callback(self._on_returned)
        channel.add_on_close_callback(self._on_channel_closed)
        prefix = self.settings.amqp_prefix
        unrouted = topology.unrouted_name(prefix)
        # The same declarations as topology.declare_events_exchange, one callback after another.
        steps = [
            lambda then: channel.exchange_declare(unrouted, exchange_type="fanout", durable=True, callback=then),
            lambda then: channel.queue_declare(unrouted, durable=True, arguments=self.queue_kind.plain(),
                                               callback=then),
            lambda then: channel.queue_bind(unrouted, unrouted, callback=then),
            lambda then: channel.exchange_declare(self.exchange, exchange_type="topic", durable=True,
                                                  arguments=topology.events_exchange_arguments(prefix),
                                                  callback=then),
            lambda then: channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=then),
        ]

        def run(index: int) -> None:
            if index == len(steps):
                self._ready()
            else:
                steps[index](lambda _frame: run(index + 1))
        run(0)

    def _on_channel_closed(self, _channel, reason) -> None:
        if isinstance(reason, ChannelClosedByBroker) and reason.reply_code == 406:
            self._fatal = topology.mismatch(self.settings.amqp_prefix, self.queue_kind, reason.reply_text)
            log.error("%s", self._fatal)
            self._stopping = True
        elif not self._stopping:
            log.error("relay channel closed by the broker: %s", reason)
        if self._connection is not None and self._connection.is_open:
            self._connection.close()

    def _ready(self) -> None:
        self.ready.set()
        log.info("relay publishing to %s", self.exchange, extra={"owner": self.owner})
        self._connection.ioloop.call_later(self.lease.renew_every, self._keep_lease)
        self._schedule(0)

    def _keep_lease(self) -> None:
        """Renews the lease on schedule, also while a batch waits for slow confirms; the
        loop's heartbeat (shared/metrics.py) too."""
        metrics.beat()
        if self._channel is None:
            return  # the connection closed; the next one starts its own timer
        if self.lease.held and not self.lease.renew():
            self._window.clear()  # publish nothing more; _tick waits until it holds it again
        self._connection.ioloop.call_later(self.lease.renew_every, self._keep_lease)

    def _wake(self) -> None:
        """Called by the outbox watcher's thread for every commit: tick now if idle."""
        connection = self._connection
        if connection is None or self._wake_posted.is_set():
            return
        self._wake_posted.set()
        try:
            connection.ioloop.add_callback_threadsafe(self._on_wake)
        except Exception:  # the loop is closing
            self._wake_posted.clear()

    def _on_wake(self) -> None:
        self._wake_posted.clear()
        if self._idle_timer is not None:
            self._connection.ioloop.remove_timeout(self._idle_timer)
            self._idle_timer = None
            self._tick()

    def _on_returned(self, _channel, method, properties, _body) -> None:
        # The broker returns an unroutable mandatory message before confirming it.
        self._returned[properties.message_id] = f"unroutable: {method.reply_code} {method.reply_text}"

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tags = [t for t in self._inflight if t <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        for tag in tags:
            record = self._inflight.pop(tag, None)
            if record is None:
                continue
            event_id = record["_id"]
            if isinstance(method, Basic.Ack) and event_id not in self._returned:
                self._acked.append(event_id)
            else:
                self._failed.append((record, self._returned.get(event_id, "nacked by the broker")))
        if not self._inflight and self._batch_started:
            self._finish_batch()

    # -- the publishing loop ---------------------------------------------------------
    def _schedule(self, delay: float) -> None:
        self._connection.ioloop.call_later(delay, self._tick)

    def _idle(self) -> None:
        """Nothing due: sleep until a commit wakes the relay, or until the next sweep."""
        watching = self._watcher is not None and self._watcher.active.is_set()
        interval = self.settings.relay_sweep_interval if watching else self.settings.relay_poll_interval
        self._idle_timer = self._connection.ioloop.call_later(interval, self._tick)

    def _tick(self) -> None:
        if self._idle_timer is not None:
            self._connection.ioloop.remove_timeout(self._idle_timer)
            self._idle_timer = None
        if self._channel is None or self._inflight:
            return
        self._collect_marks()
        if self._stopping:
            self._close_if_idle()
            return
        if len(self._marking) >= MAX_UNMARKED_BATCHES:
            return  # _mark_done ticks again once a mark lands
        try:
            if not self.lease.hold():
                self._window.clear()
                self._schedule(self.lease.renew_every)
                return
            if not self._window:
                being_marked = set().union(*(ids for _, ids in self._marking))
                self._window.extend(self.store.next_batches(self.settings.relay_batch_size, WINDOW_BATCHES,
                                                            skip=being_marked))
        except PyMongoError as exc:
            log.error("relay cannot read the outbox: %s", exc)
            self._schedule(1.0)
            return
        if not self._window:
            if self._stop_when_idle and self.store.pending_count() == 0:
                self._stopping = True
                self._close_if_idle()
            else:
                self._idle()
            return
        self._publish(self._window.popleft())

    def _publish(self, batch: list[dict]) -> None:
        self._batch_started = time.monotonic()
        for record in batch:
            envelope = record["envelope"]
            self._delivery_tag += 1
            self._inflight[self._delivery_tag] = record
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
        if failed:
            metrics.OUTBOX_PUBLISH_FAILURES.labels(self.settings.service).inc(len(failed))
        for record, reason in failed:
            log.error("event not published, stays pending: %s", reason, extra={"event_id": record["_id"]})
        if failed:
            self._window.clear()  # later events of a failed aggregate must wait for it
        future = self._marker.submit(self._mark, acked, failed)
        self._marking.append((future, {*acked, *(record["_id"] for record, _ in failed)}))
        future.add_done_callback(self._mark_done)
        self._schedule(0 if not failed else self.settings.relay_poll_interval)

    def _mark(self, acked: list[str], failed: list[tuple[dict, str]]) -> int:
        self.store.mark_published(acked)
        parked = self.store.mark_failed(failed, self.settings.relay_max_attempts)
        if parked:
            metrics.OUTBOX_PARKED.labels(self.settings.service).inc(len(parked))
        for event_id in parked:
            log.error("event parked as failed after %d attempts; see `make outbox`",
                      self.settings.relay_max_attempts, extra={"event_id": event_id})
        return len(acked)

    def _mark_done(self, _future: Future) -> None:
        # Runs on the marking thread: wake the loop, which collects the result.
        connection = self._connection
        try:
            connection.ioloop.add_callback_threadsafe(self._tick)
        except Exception:  # the loop is gone; run() collects the marks on exit
            pass

    def _collect_marks(self) -> None:
        while self._marking and self._marking[0][0].done():
            future, _ = self._marking.pop(0)
            error = future.exception()
            if error is None:
                self.published_total += future.result()
                metrics.OUTBOX_PUBLISHED.labels(self.settings.service).inc(future.result())
            elif isinstance(error, PyMongoError):
                # The broker has them; marking fails only if the database is down. They
                # will be published again, and consumers' inboxes drop the duplicates.
                log.error("published events but could not mark them: %s", error)
                self._window.clear()
            else:
                raise error

    def _reset_batch(self) -> None:
        self._inflight: dict[int, dict] = {}  # delivery tag -> outbox record
        self._acked: list[str] = []
        self._failed: list[tuple[dict, str]] = []
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
    store = OutboxStore(mongo.database(settings), settings.relay_max_backoff_seconds)
    store.ensure_indexes()
    relay = Relay(store, settings)
    # Beats at least every lease renewal, or every reconnection attempt (at most 10 s apart).
    metrics.serve(metrics.ScrapeGauges(metrics.OUTBOX_GAUGES, lambda: store.gauges(service)),
                  stale_after=max(120.0, 10 * settings.relay_lease_seconds))
    signal.signal(signal.SIGTERM, lambda *_: relay.stop())
    signal.signal(signal.SIGINT, lambda *_: relay.stop())
    try:
        relay.run()
    except topology.TopologyMismatch as exc:
        raise SystemExit(f"{service} relay cannot start: {exc}") from None
