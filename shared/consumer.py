"""Consuming events: declare a handler in one line, the plumbing lives here.

    consumer = EventConsumer("documents")

    @consumer.handles("registration.migrant.registered")
    def add_owner(event: Envelope, tx: Tx) -> None: ...

Each delivery runs its handler inside the service's unit of work together with an inbox
record (consumer, event id) and its aggregate's high-water mark (shared.inbox); the
message is acked only after that transaction committed, so a redelivered or duplicated
event has no second effect, and an event older than what was already applied for its
aggregate is skipped (and logged), unless the consumer applies late events
(`EventConsumer(service, apply_late=True)`: handlers that keep every event in its place and
cannot move state backwards, see shared.inbox).

A failing handler is retried through the delay queues with growing delays; a permanent
failure, or the last failed attempt, goes to the dead-letter queue with the error in its
headers. Retries and dead letters are published mandatory and confirmed
(shared.republisher): the original is acked only once the broker holds the copy, and
otherwise goes back to the queue. An unreachable database or a write conflict that
outlasts the unit of work's retries is not the event's fault: the message waits in the
first delay queue, spending no attempt, for up to DEFER_LIMIT_SECONDS; after that its
failures count like any other. Nothing a message carries (a malformed header, say) and
no error in this code stops the worker: such a message is retried or dead-lettered.
What this code cannot catch (the process dies, or hangs until it is killed, on one
message) the broker does: a quorum queue dead-letters a message into the same
dead-letter queue once AMQP_DELIVERY_LIMIT deliveries of it ended without an ack
(shared/topology.py). The broker counts per queue (x-delivery-count), and a copy this
code publishes (a retry, a deferral: a process killed mid-transaction leaves its rows
locked, so the next delivery conflicts and is deferred) would start again from zero; so
each copy carries the deliveries so far (x-redeliveries), and a message past the limit
is dead-lettered here. Several consumer processes may share one queue: the inbox makes
each event apply once whichever of them gets it.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime, timezone
from typing import Callable

from kombu import Connection, Queue
from kombu.mixins import ConsumerMixin

from shared import context, inbox, metrics, mongo, topology
from shared.config import ConfigError, Settings
from shared.errors import PermanentError
from shared.events import Envelope, MalformedEvent, topic_matches
from shared.republisher import Republisher, RepublishFailed
from shared.uow import AlreadyHandled, MongoUnitOfWork, Superseded, Tx

log = logging.getLogger("probashi.consumer")

Handler = Callable[[Envelope, Tx], None]


class EventConsumer:
    def __init__(self, service: str, *, apply_late: bool = False):
        self.service = service
        self.apply_late = apply_late
        self._handlers: list[tuple[str, Handler]] = []
        self._unrouted: set[str] = set()

    def handles(self, pattern: str, *, routed: bool = True) -> Callable[[Handler], Handler]:
        """Register a handler for an event type or topic pattern ('registration.migrant.*').
        routed=False: no binding; such events reach the queue only directly (shared.replay)."""
        def register(fn: Handler) -> Handler:
            self._handlers.append((pattern, fn))
            if not routed:
                self._unrouted.add(pattern)
            return fn
        return register

    @property
    def binding_keys(self) -> list[str]:
        return sorted({pattern for pattern, _ in self._handlers if pattern not in self._unrouted})

    def handlers_for(self, event_type: str) -> list[Handler]:
        return [fn for pattern, fn in self._handlers if topic_matches(pattern, event_type)]

    def process(self, uow, event: Envelope) -> bool:
        """Apply an event once. Returns False when this consumer already applied it, or a
        later version of its aggregate (unless it applies late events)."""
        handlers = self.handlers_for(event.type)
        if not handlers:
            raise PermanentError(f"{self.service} has no handler for {event.type}")

        def apply(tx: Tx) -> None:
            tx.claim(self.service, event, apply_late=self.apply_late)
            for handler in handlers:
                handler(event, tx)

        with context.tracing(correlation_id=event.correlation_id, causation_id=event.id):
            try:
                uow.run(apply)
            except Superseded as stale:
                log.warning("event older than version %d already applied to %s %s; skipped",
                            stale.applied_version, event.subject.type, event.subject.id,
                            extra={"event_id": event.id, "type": event.type,
                                   "aggregate_version": event.aggregate_version})
                return False
            except AlreadyHandled:
                log.info("duplicate delivery ignored", extra={"event_id": event.id, "type": event.type})
                return False
        return True

    def main(self, make_uow: Callable[[Settings], MongoUnitOfWork]) -> None:
        """Entry point of a service's consumer process."""
        from shared import logs

        try:
            settings = Settings.from_env(self.service)
            settings.check_consumer()
        except ConfigError as exc:
            raise SystemExit(f"{self.service} consumer cannot start: {exc}") from None
        logs.configure(f"{self.service}-consumer", settings.log_level)
        worker = Worker(self, make_uow(settings), settings)
        # kombu's loop turns at least every second while connected, and between reconnection
        # attempts (at most 30 s apart) while not; a handler is bounded by the database's timeouts.
        metrics.serve(metrics.ScrapeGauges(metrics.DEAD_LETTER_GAUGES, worker.dead_letter_gauges))
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        signal.signal(signal.SIGINT, lambda *_: worker.stop())
        try:
            worker.run_forever()
        except topology.TopologyMismatch as exc:
            raise SystemExit(f"{self.service} consumer cannot start: {exc}") from None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _attempt(headers: dict) -> int:
    """The attempt a message is on, from a header anyone could have set: a value that is
    not a positive whole number counts as the first attempt (the next retry writes a good one)."""
    value = headers.get("x-attempt", 1)
    try:
        return max(1, int(value))
    except (TypeError, ValueError, OverflowError):
        log.warning("unreadable x-attempt header %r; counted as the first attempt", value)
        return 1


class DeliveryLimitReached(Exception):
    """Delivered more often than AMQP_DELIVERY_LIMIT without an ack, copies included."""


def _count(headers: dict, name: str) -> int:
    try:
        return max(0, int(headers.get(name) or 0))
    except (TypeError, ValueError, OverflowError):
        return 0


def _redeliveries(headers: dict) -> int:
    """Deliveries of this event that ended without an ack: the broker's count for this
    copy (quorum queues), plus what earlier copies carried."""
    return _count(headers, "x-delivery-count") + _count(headers, "x-redeliveries")


def _deferred_since(headers: dict) -> datetime | None:
    value = headers.get("x-deferred-since")
    try:
        since = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None  # unreadable: deferral starts counting now
    return since if since is None or since.tzinfo else since.replace(tzinfo=timezone.utc)


class Worker(ConsumerMixin):
    """Runs an EventConsumer against the broker, reconnecting when the connection drops."""

    def __init__(self, consumer: EventConsumer, uow, settings: Settings, prefetch: int = 20,
                 put_back_pause: float = 1.0):
        settings.check_consumer()  # retries need their delay queues: refuse to start without
        self.consumer = consumer
        self.uow = uow
        self.settings = settings
        self.prefetch = prefetch
        self.put_back_pause = put_back_pause
        self.names = topology.Names(settings.amqp_prefix, consumer.service)
        self.queue_kind = topology.QueueKind.of(settings)
        self.delays = settings.retry_delays_ms
        self.connection = Connection(settings.amqp_url, heartbeat=30)
        self.republisher = Republisher(settings.amqp_url, self._declare_queues)
        mongo.prepare(uow.db, [lambda db: inbox.ensure_indexes(db, settings.inbox_retention_seconds)])
        self.processed = 0
        self.put_back = 0
        self.ready = threading.Event()

    def run_forever(self) -> None:
        log.info("consuming %s", self.consumer.binding_keys, extra={"queue": self.names.queue})
        self.run()

    def stop(self) -> None:
        self.should_stop = True

    def _declare_queues(self, channel) -> list[Queue]:
        topology.events_exchange(self.names.prefix, self.queue_kind)(channel).declare()
        queues = topology.service_queues(self.names, self.consumer.binding_keys, self.delays, self.queue_kind)
        for queue in queues:
            queue(channel).declare()
        return queues

    def get_consumers(self, consumer_cls, channel):
        self._declare_queues(channel)
        main = Queue(self.names.queue, no_declare=True)
        return [consumer_cls(queues=[main], on_message=self.on_message, prefetch_count=self.prefetch)]

    def on_consume_ready(self, connection, channel, consumers, **kwargs) -> None:
        self.ready.set()
        metrics.CONSUMER_CONNECTED.labels(self.consumer.service).set(1)

    def on_iteration(self) -> None:
        metrics.beat()

    def on_consume_end(self, connection, channel) -> None:
        self.republisher.close()

    def on_connection_error(self, exc, interval) -> None:
        self.ready.clear()
        metrics.beat()  # reconnecting is the loop at work
        metrics.CONSUMER_CONNECTED.labels(self.consumer.service).set(0)
        log.warning("broker connection lost (%s); reconnecting in %ss", exc, interval)

    # -- one delivery -----------------------------------------------------------------
    def on_message(self, message) -> None:
        try:
            self._handle(message)
        except RepublishFailed as exc:
            self._put_back(message, exc)
        except self.connection.connection_errors + self.connection.channel_errors:
            raise  # the consumer's own connection broke: kombu reconnects, the broker redelivers
        except Exception as exc:  # a bug here must not stop the worker
            log.exception("unexpected error while handling a message",
                          extra={"event_id": message.properties.get("message_id")})
            self._last_resort(message, exc)
        self.processed += 1

    def _handle(self, message) -> None:
        headers = dict(message.headers or {})
        attempt = _attempt(headers)
        started = time.perf_counter()
        redeliveries = _redeliveries(headers)
        # A copy starts at the broker's count of zero; it carries the total instead.
        headers = {**{k: v for k, v in headers.items() if k != "x-delivery-count"}, "x-redeliveries": redeliveries}
        if self.queue_kind.quorum and redeliveries > self.settings.amqp_delivery_limit:
            self._dead_letter(message, headers, attempt, DeliveryLimitReached(
                f"delivered {redeliveries + 1} times without an ack (AMQP_DELIVERY_LIMIT="
                f"{self.settings.amqp_delivery_limit}): its consumer died or lost its connection while handling it"))
            return
        try:
            event = Envelope.from_json(message.body)
            self.consumer.process(self.uow, event)
        except (MalformedEvent, PermanentError) as exc:
            self._dead_letter(message, headers, attempt, exc)
        except Exception as exc:  # anything else may pass on a later attempt
            if mongo.unavailable(exc) and self._may_defer(headers):
                # The database is down, or a transaction a killed consumer left open still
                # holds this event's rows (until the server reaps it, 60 s): not the event's
                # fault, so no attempt is spent on it; it waits in a delay queue, not here.
                self._defer(message, headers, exc)
            else:
                self._fail(message, headers, attempt, exc)
        else:
            message.ack()
            self._count(metrics.CONSUMER_HANDLED, message)
        finally:
            metrics.CONSUMER_HANDLER_DURATION.labels(self.consumer.service, self._event_type(message)).observe(
                time.perf_counter() - started)

    def _event_type(self, message) -> str:
        """The message's event type as a metric label: only a type this consumer handles, so
        no message adds series of its own."""
        event_type = message.properties.get("type")
        return event_type if isinstance(event_type, str) and self.consumer.handlers_for(event_type) else "other"

    def _count(self, counter, message) -> None:
        counter.labels(self.consumer.service, self._event_type(message)).inc()

    def dead_letter_gauges(self) -> dict:
        """The dead-letter queue's depth (a passive declare: the queue is left as it is), read
        at scrape time on a connection of its own (this runs on the metrics server's thread)."""
        # One quick try: a broker that is away leaves the gauge out of this scrape, never blocks it.
        with Connection(self.settings.amqp_url, connect_timeout=2, transport_options={"max_retries": 1}) as connection:
            _, count, _ = connection.default_channel.queue_declare(self.names.dead_letter_queue, passive=True)
        return {"probashi_dead_letters": {(self.consumer.service,): count}}

    def _may_defer(self, headers: dict) -> bool:
        since = _deferred_since(headers)
        if since is None or (_now() - since).total_seconds() < self.settings.defer_limit_seconds:
            return True
        log.warning("database errors for over %ss; the event spends its attempts now",
                    self.settings.defer_limit_seconds)
        return False

    def _fail(self, message, headers: dict, attempt: int, exc: Exception) -> None:
        if attempt <= len(self.delays):
            self._retry(message, headers, attempt, exc)
        else:
            self._dead_letter(message, headers, attempt, exc)

    def _republish(self, message, routing_key: str, headers: dict) -> None:
        """A copy to one of this consumer's queues; raises RepublishFailed unless confirmed."""
        props = message.properties
        self.republisher.publish(
            message.body, routing_key, headers=headers,
            content_type=message.content_type or "application/json",
            content_encoding=message.content_encoding or "utf-8",
            message_id=props.get("message_id"), type=props.get("type"),
            correlation_id=props.get("correlation_id"), app_id=props.get("app_id"), delivery_mode=2)

    def _origin(self, message, headers: dict) -> dict:
        return {"x-original-exchange": headers.get("x-original-exchange", message.delivery_info.get("exchange", "")),
                "x-original-routing-key": headers.get("x-original-routing-key",
                                                      message.delivery_info.get("routing_key", ""))}

    @staticmethod
    def _error(exc: Exception, prefix: str = "x-last-error") -> dict:
        return {prefix: str(exc)[:1000], f"{prefix}-type": type(exc).__name__}

    def _retry(self, message, headers: dict, attempt: int, exc: Exception) -> None:
        delay = self.delays[attempt - 1]
        log.warning("handler failed, retry %d in %d ms: %s", attempt, delay, exc,
                    extra={"event_id": message.properties.get("message_id")})
        self._republish(message, self.names.retry_queue(delay), {
            **headers, **self._origin(message, headers), "x-attempt": attempt + 1, **self._error(exc)})
        message.ack()
        self._count(metrics.CONSUMER_RETRIED, message)

    def _defer(self, message, headers: dict, exc: Exception) -> None:
        delay = self.delays[0]
        since = _deferred_since(headers) or _now()
        log.warning("database busy or unavailable; event deferred %d ms: %s", delay, exc,
                    extra={"event_id": message.properties.get("message_id")})
        self._republish(message, self.names.retry_queue(delay), {
            **headers, **self._origin(message, headers), "x-attempt": _attempt(headers),
            "x-deferred-since": _iso(since), **self._error(exc)})
        message.ack()
        self._count(metrics.CONSUMER_DEFERRED, message)

    def _dead_letter(self, message, headers: dict, attempt: int, exc: Exception) -> None:
        log.error("dead-lettered after %d attempt(s): %s", attempt, exc,
                  extra={"event_id": message.properties.get("message_id"), "queue": self.names.dead_letter_queue})
        self._republish(message, self.names.dead_letter_queue, {
            **headers, **self._origin(message, headers), "x-attempts": attempt,
            "x-error": str(exc)[:1000], "x-error-type": type(exc).__name__,
            "x-failed-at": _iso(_now()), "x-consumer": self.consumer.service})
        message.ack()
        self._count(metrics.CONSUMER_DEAD_LETTERED, message)

    def _put_back(self, message, reason: Exception) -> None:
        """The broker has no copy: give the original back to the queue, after a pause so a
        lasting fault does not spin, to be handled again."""
        log.error("message goes back to the queue: %s", reason,
                  extra={"event_id": message.properties.get("message_id")})
        self.put_back += 1
        time.sleep(self.put_back_pause)
        if not message.acknowledged:
            message.requeue()

    def _last_resort(self, message, exc: Exception) -> None:
        """Our own code failed on this message: dead-letter it with nothing but the error."""
        if message.acknowledged:
            return
        try:
            self._dead_letter(message, {}, 1, exc)
        except self.connection.connection_errors + self.connection.channel_errors:
            raise
        except Exception as failed:  # RepublishFailed, or the same bug again
            self._put_back(message, failed)
