"""Serving replays: a thread of the source's consumer process reads its own database page
by page and publishes each snapshot, confirmed, to the requester's queue only."""
from __future__ import annotations

import json
import logging
import threading
from typing import Iterator, Protocol

import pika
import pika.exceptions

from shared.config import Settings
from shared.events import Envelope

from .events import (HEADER, PAGE_SIZE, REQUEST_QUEUE, BadRequest, Request, Snapshot, Source, completed_event,
                     request_queue, service_queue, snapshot_event)

log = logging.getLogger("probashi.replay")


class ReplayFailed(Exception):
    """The broker does not hold a replayed event: the replay stops and says why."""


class StateReader(Protocol):
    def count(self, source: Source) -> int: ...
    def pages(self, source: Source, size: int) -> Iterator[list[Snapshot]]: ...


class MongoStateReader:
    """Pages through a collection by `_id`: one page in memory at a time."""

    def __init__(self, db):
        self.db = db

    def count(self, source: Source) -> int:
        return self.db[source.collection].count_documents({})

    def pages(self, source: Source, size: int) -> Iterator[list[Snapshot]]:
        after = None
        while True:
            query = {} if after is None else {"_id": {"$gt": after}}
            page = list(self.db[source.collection].find(query, source.projection).sort("_id", 1).limit(size))
            if not page:
                return
            yield source.snapshots(self.db, page)
            if len(page) < size:
                return
            after = page[-1]["_id"]


class Publisher(Protocol):
    def event(self, queue: str, event: Envelope, request_id: str) -> None:
        """Raise ReplayFailed unless the broker confirmed that `queue` holds the event."""

    def progress(self, reply_to: str, message: dict) -> None:
        """Best effort: the command may have gone."""


def serve(service: str, prefix: str, request: Request, sources: list[Source], reader: StateReader,
          publisher: Publisher, page_size: int = PAGE_SIZE) -> int:
    """Replay the current state of `sources` to the requester's queue; returns how many."""
    if request.to == service:
        raise BadRequest(f"{service} does not consume its own events")
    target = service_queue(prefix, request.to)
    total = sum(reader.count(source) for source in sources)
    report = {"request_id": request.request_id, "source": service}
    publisher.progress(request.reply_to, {**report, "stage": "started", "total": total})
    served = 0
    for source in sources:
        for page in reader.pages(source, page_size):
            for snapshot in page:
                publisher.event(target, snapshot_event(service, source, snapshot, request.request_id),
                                request.request_id)
                served += 1
            publisher.progress(request.reply_to, {**report, "stage": "served", "served": served, "total": total})
    publisher.event(target, completed_event(service, request, served), request.request_id)
    publisher.progress(request.reply_to, {**report, "stage": "sent", "served": served, "total": total})
    return served


class PikaPublisher:
    """Each event mandatory and confirmed, on a channel in confirm mode."""

    def __init__(self, channel):
        self.channel = channel
        channel.confirm_delivery()

    def event(self, queue: str, event: Envelope, request_id: str) -> None:
        props = event.amqp_properties()
        headers = {**props.pop("headers"), HEADER: request_id}
        try:
            self.channel.basic_publish("", queue, event.to_json(),
                                       pika.BasicProperties(headers=headers, **props), mandatory=True)
        except pika.exceptions.UnroutableError:
            raise ReplayFailed(f"no queue {queue} took the events (was it deleted?)") from None
        except pika.exceptions.NackError:
            raise ReplayFailed(f"the broker refused (nacked) an event for {queue}") from None

    def progress(self, reply_to: str, message: dict) -> None:
        if reply_to:
            self.channel.basic_publish("", reply_to, json.dumps(message).encode(),
                                       pika.BasicProperties(content_type="application/json"))


class ReplayServer:
    """Serves replay requests one at a time, in a thread of the consumer process."""

    def __init__(self, service: str, settings: Settings, reader: StateReader, sources: list[Source],
                 page_size: int = PAGE_SIZE, reconnect_pause: float = 2.0):
        self.service, self.settings, self.reader, self.sources = service, settings, reader, sources
        self.page_size, self.reconnect_pause = page_size, reconnect_pause
        self.queue = request_queue(settings.amqp_prefix, service)
        self.ready = threading.Event()
        self._stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        self.thread = threading.Thread(target=self.run, name=f"{self.service}-replays", daemon=True)
        self.thread.start()
        return self.thread

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._consume()
            except (pika.exceptions.AMQPError, OSError) as exc:
                # A request being served stays unacked: the broker hands it back, served from the start.
                log.warning("replay server lost the broker (%r); reconnecting in %ss", exc, self.reconnect_pause)
                self._stopping.wait(self.reconnect_pause)
            except Exception:  # a bug here must not end replays for the life of the process
                log.exception("replay server failed; starting again in %ss", self.reconnect_pause)
                self._stopping.wait(self.reconnect_pause)

    def _consume(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
        try:
            requests = connection.channel()
            requests.queue_declare(self.queue, **REQUEST_QUEUE)
            requests.basic_qos(prefetch_count=1)
            publisher = PikaPublisher(connection.channel())
            self.ready.set()
            for method, props, body in requests.consume(self.queue, inactivity_timeout=0.5):
                if self._stopping.is_set():
                    break
                if method is not None:
                    self._answer(publisher, props, body)
                    requests.basic_ack(method.delivery_tag)
        finally:
            self.ready.clear()
            if connection.is_open:
                connection.close()

    def _answer(self, publisher: PikaPublisher, props, body: bytes) -> None:
        reply_to = props.reply_to or ""
        try:
            request = Request.from_message(body, reply_to)
            log.info("replaying %s to %s", self.service, request.to, extra={"request_id": request.request_id})
            served = serve(self.service, self.settings.amqp_prefix, request, self.sources, self.reader,
                           publisher, self.page_size)
        except (pika.exceptions.AMQPConnectionError, pika.exceptions.ChannelClosed):
            raise  # the connection broke: reconnect, and the request comes back
        except Exception as exc:  # refused, a missing queue, the database: the command says so
            log.error("replay failed: %s", exc, extra={"request_id": props.correlation_id})
            publisher.progress(reply_to, {"request_id": props.correlation_id, "source": self.service,
                                          "stage": "failed", "error": f"{type(exc).__name__}: {exc}"[:500]})
            return
        log.info("replayed %d events of %s to %s", served, self.service, request.to,
                 extra={"request_id": request.request_id})
