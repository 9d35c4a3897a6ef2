"""Consuming events: declare a handler in one line, the plumbing lives here.

    consumer = EventConsumer("documents")

    @consumer.handles("registration.migrant.registered")
    def add_owner(event: Envelope, tx: Tx) -> None: ...

Each delivery runs its handler inside the service's unit of work together with an inbox
record (consumer, event id); the message is acked only after that transaction
committed, so a redelivered or duplicated event has no second effect. A failing handler
is retried through the delay queues with growing delays; a permanent failure, or the
last failed attempt, goes to the dead-letter queue with the error in its headers. An
unreachable database or a write conflict that outlasts the unit of work's retries is
not the event's fault: the message waits in the first delay queue, spending no attempt.
"""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timezone
from typing import Callable

from kombu import Connection, Producer, Queue
from kombu.mixins import ConsumerMixin
from pymongo.errors import PyMongoError

from shared import context, mongo, topology
from shared.config import Settings
from shared.errors import PermanentError
from shared.events import Envelope, MalformedEvent, topic_matches
from shared.uow import AlreadyHandled, MongoUnitOfWork, Tx

log = logging.getLogger("probashi.consumer")

Handler = Callable[[Envelope, Tx], None]


class EventConsumer:
    def __init__(self, service: str):
        self.service = service
        self._handlers: list[tuple[str, Handler]] = []

    def handles(self, pattern: str) -> Callable[[Handler], Handler]:
        """Register a handler for an event type or topic pattern ('registration.migrant.*')."""
        def register(fn: Handler) -> Handler:
            self._handlers.append((pattern, fn))
            return fn
        return register

    @property
    def binding_keys(self) -> list[str]:
        return sorted({pattern for pattern, _ in self._handlers})

    def handlers_for(self, event_type: str) -> list[Handler]:
        return [fn for pattern, fn in self._handlers if topic_matches(pattern, event_type)]

    def process(self, uow, event: Envelope) -> bool:
        """Apply an event once. Returns False when this consumer already applied it."""
        handlers = self.handlers_for(event.type)
        if not handlers:
            raise PermanentError(f"{self.service} has no handler for {event.type}")

        def apply(tx: Tx) -> None:
            tx.claim_inbox(self.service, event.id)
            for handler in handlers:
                handler(event, tx)

        with context.tracing(correlation_id=event.correlation_id, causation_id=event.id):
            try:
                uow.run(apply)
            except AlreadyHandled:
                log.info("duplicate delivery ignored", extra={"event_id": event.id, "type": event.type})
                return False
        return True

    def main(self, make_uow: Callable[[Settings], MongoUnitOfWork]) -> None:
        """Entry point of a service's consumer process."""
        from shared import logs

        settings = Settings.from_env(self.service)
        logs.configure(f"{self.service}-consumer", settings.log_level)
        worker = Worker(self, make_uow(settings), settings)
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        signal.signal(signal.SIGINT, lambda *_: worker.stop())
        worker.run_forever()


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class Worker(ConsumerMixin):
    """Runs an EventConsumer against the broker, reconnecting when the connection drops."""

    def __init__(self, consumer: EventConsumer, uow, settings: Settings, prefetch: int = 20):
        self.consumer = consumer
        self.uow = uow
        self.settings = settings
        self.prefetch = prefetch
        self.names = topology.Names(settings.amqp_prefix, consumer.service)
        self.delays = settings.retry_delays_ms
        # confirm_publish: a retry or dead letter is acked only once the broker has its copy.
        self.connection = Connection(settings.amqp_url, transport_options={"confirm_publish": True},
                                     heartbeat=30)
        self.producer: Producer | None = None
        self.processed = 0
        self.ready = threading.Event()

    def run_forever(self) -> None:
        log.info("consuming %s", self.consumer.binding_keys, extra={"queue": self.names.queue})
        self.run()

    def stop(self) -> None:
        self.should_stop = True

    def get_consumers(self, consumer_cls, channel):
        queues = topology.service_queues(self.names, self.consumer.binding_keys, self.delays)
        topology.events_exchange(self.names.prefix)(channel).declare()
        for queue in queues:
            queue(channel).declare()
        self.producer = Producer(channel)
        main = Queue(self.names.queue, no_declare=True)
        return [consumer_cls(queues=[main], on_message=self.on_message, prefetch_count=self.prefetch)]

    def on_consume_ready(self, connection, channel, consumers, **kwargs) -> None:
        self.ready.set()

    def on_connection_error(self, exc, interval) -> None:
        self.ready.clear()
        log.warning("broker connection lost (%s); reconnecting in %ss", exc, interval)

    def on_message(self, message) -> None:
        headers = dict(message.headers or {})
        attempt = int(headers.get("x-attempt", 1))
        try:
            event = Envelope.from_json(message.body)
            self.consumer.process(self.uow, event)
        except (MalformedEvent, PermanentError) as exc:
            self._dead_letter(message, headers, attempt, exc)
        except PyMongoError as exc:
            if not (isinstance(exc, mongo.UNAVAILABLE) or exc.has_error_label("TransientTransactionError")):
                self._fail(message, headers, attempt, exc)
            else:
                # The database is down, or a transaction a killed consumer left open still
                # holds this event's rows (until the server reaps it, 60 s): not the event's
                # fault, so no attempt is spent on it; it waits in a delay queue, not here.
                self._defer(message, headers, exc)
        except Exception as exc:  # anything else may pass on a later attempt
            self._fail(message, headers, attempt, exc)
        else:
            message.ack()
        self.processed += 1

    def _fail(self, message, headers: dict, attempt: int, exc: Exception) -> None:
        if attempt <= len(self.delays):
            self._retry(message, headers, attempt, exc)
        else:
            self._dead_letter(message, headers, attempt, exc)

    def _republish(self, message, routing_key: str, headers: dict) -> None:
        props = message.properties
        self.producer.publish(
            message.body, exchange="", routing_key=routing_key, headers=headers,
            content_type=message.content_type or "application/json",
            content_encoding=message.content_encoding or "utf-8",
            message_id=props.get("message_id"), type=props.get("type"),
            correlation_id=props.get("correlation_id"), app_id=props.get("app_id"),
            delivery_mode=2, retry=False)

    def _origin(self, message, headers: dict) -> dict:
        return {"x-original-exchange": headers.get("x-original-exchange", message.delivery_info.get("exchange", "")),
                "x-original-routing-key": headers.get("x-original-routing-key",
                                                      message.delivery_info.get("routing_key", ""))}

    def _retry(self, message, headers: dict, attempt: int, exc: Exception) -> None:
        delay = self.delays[attempt - 1]
        log.warning("handler failed, retry %d in %d ms: %s", attempt, delay, exc,
                    extra={"event_id": message.properties.get("message_id")})
        self._republish(message, self.names.retry_queue(delay), {
            **headers, **self._origin(message, headers), "x-attempt": attempt + 1,
            "x-last-error": str(exc)[:1000], "x-last-error-type": type(exc).__name__})
        message.ack()

    def _defer(self, message, headers: dict, exc: Exception) -> None:
        delay = self.delays[0] if self.delays else 1000
        log.warning("database busy or unavailable; event deferred %d ms: %s", delay, exc,
                    extra={"event_id": message.properties.get("message_id")})
        self._republish(message, self.names.retry_queue(delay), {
            **headers, **self._origin(message, headers), "x-attempt": headers.get("x-attempt", 1),
            "x-last-error": str(exc)[:1000], "x-last-error-type": type(exc).__name__})
        message.ack()

    def _dead_letter(self, message, headers: dict, attempt: int, exc: Exception) -> None:
        log.error("dead-lettered after %d attempt(s): %s", attempt, exc,
                  extra={"event_id": message.properties.get("message_id"), "queue": self.names.dead_letter_queue})
        self._republish(message, self.names.dead_letter_queue, {
            **headers, **self._origin(message, headers), "x-attempts": attempt,
            "x-error": str(exc)[:1000], "x-error-type": type(exc).__name__,
            "x-failed-at": _now_iso(), "x-consumer": self.consumer.service})
        message.ack()
