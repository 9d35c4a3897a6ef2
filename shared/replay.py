"""Replays: a service that starts late asks another for its current state, as events.

    python -m shared.replay --to documents --from registration [--timeout 30]
    make replay ARGS="--to documents --from registration"

Live events reach only the queues bound when they were published, so a service whose
queue is created later (documents before it learnt of migrants, claims) never sees what
happened before. A replay sends it the source's *current state*, once, as events:

- Everything travels over RabbitMQ; nobody reads another service's database. The command
  puts a request on the source's request queue `{prefix}.{source}.replay` (default
  exchange), with `reply_to` = a private queue of its own for progress. The source's
  consumer process (a thread, ReplayServer) serves it and publishes each event through
  the default exchange straight to the requester's own queue `{prefix}.{to}`: never to
  the events exchange, so no other subscriber receives old events (a notification
  service will not send old SMS), and a handler cannot mistake them for news.
- One snapshot event per aggregate, of a distinct type `<service>.<aggregate>.snapshot`
  with its own contract (shared/contracts.py): the aggregate as it stands now, at its
  current `aggregate_version`. Not a re-sent `registered`: that says something happened
  (a welcome SMS), and it cannot carry later changes, steps or membership; re-creating
  each past event would need actors and moments the source no longer keeps. Replayed
  messages are marked: their type (`.snapshot`), an `x-replay` header and their
  correlation id (both the request id), so handlers and log lines tell them apart.
- The requester learns them only through handlers registered with `Replays.learn`
  (one line per source); those are not bound to the events exchange. Any other
  `*.snapshot` is acknowledged and ignored, not dead-lettered.
- Safe to run twice and against live traffic, through the consumer's inbox and
  per-aggregate high-water mark (shared/inbox.py): a snapshot's event id is derived from
  (type, aggregate, version), so the same state replayed again is the same event and is
  skipped as a duplicate; a snapshot older than a live event already applied is skipped
  as superseded; a live event newer than the snapshot still applies after it. A snapshot
  at the same version as a live event carries the same state, so applying both is harmless.
- Reliable without the outbox (a replay is a read, not a change): the source reads its
  collection in pages by `_id` (PAGE_SIZE at a time, never all of it in memory) and
  publishes each event mandatory and confirmed; a queue that is missing (returned) or a
  refusal (nack) stops the replay and is reported to the command. The request is acked
  only after the last event and the end marker were confirmed, so if the source's
  connection drops half way, the request goes back to the queue and is served again
  from the start (harmless, as above) by the reconnected server or another instance.
  The request queue lives while a server consumes it (auto-delete, so stopped services
  and tests leave none behind): with no source running the command says so at once;
  a request nobody takes expires (per-message TTL = the command's timeout).
- Progress: the source reports `started` (how many), `served` after each page and
  `sent`; its last message to the requester's queue is an end marker (`replay.completed`).
  The requester handles the marker after every replayed event before it (one queue, in
  order), and replies how many it applied (counted in its `replays` collection, in the
  transactions that applied them); the rest were already known or superseded. The
  command exits 0 then, and non-zero with a message saying which side did not answer
  within `--timeout` seconds of the last progress, or what failed.
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator, Protocol

import pika
import pika.exceptions
from pymongo import ReturnDocument

from shared import contracts
from shared.config import Settings
from shared.events import Envelope, Subject, to_json_safe

log = logging.getLogger("probashi.replay")

COMPLETED = "replay.completed"
SNAPSHOTS = "#.snapshot"           # the replayed event types: <service>.<aggregate>.snapshot
HEADER = "x-replay"                # on every replayed message: the request it answers
REPLAYS = "replays"                # requester's collection: what it applied of each replay
PAGE_SIZE = 200
REQUEST_QUEUE = {"durable": False, "auto_delete": True}  # exists while a source serves
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_IDS = uuid.UUID("6f1c2a4e-8d0b-4c5e-9a43-1b7e5d2f0c91")  # namespace of snapshot event ids


class ReplayFailed(Exception):
    """The broker does not hold a replayed event: the replay stops and says why."""


class BadRequest(ValueError):
    """A replay request this server cannot serve."""


def request_queue(prefix: str, service: str) -> str:
    return f"{prefix}.{service}.replay"


def service_queue(prefix: str, service: str) -> str:
    return f"{prefix}.{service}"  # shared.topology.Names.queue


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


# -- what a source replays ----------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    subject_id: str
    version: int
    data: dict


@dataclass(frozen=True)
class Source:
    """One kind of aggregate a service replays: its collection, and how a page of stored
    records becomes snapshots (`snapshots(db, records)`, may read more per page)."""
    event_type: str
    subject_type: str
    collection: str
    snapshots: Callable[[object, list[dict]], list[Snapshot]]
    projection: dict | None = None  # the stored fields `snapshots` needs, if not all


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


def snapshot_id(event_type: str, subject_id: str, version: int) -> str:
    """The same state replayed again is the same event: the requester's inbox skips it."""
    return str(uuid.uuid5(_IDS, f"{event_type}:{subject_id}:{version}"))


def snapshot_event(service: str, source: Source, snapshot: Snapshot, request_id: str) -> Envelope:
    """`occurred_at` is when the state was read; correlation and causation are the request."""
    event = Envelope(id=snapshot_id(source.event_type, str(snapshot.subject_id), snapshot.version),
                     type=source.event_type, schema_version=1, source=service, occurred_at=_now_iso(),
                     subject=Subject(source.subject_type, str(snapshot.subject_id)),
                     aggregate_version=snapshot.version, correlation_id=request_id, causation_id=request_id,
                     data=to_json_safe(snapshot.data))
    contracts.check(event)  # a replay publishes nothing a live event could not carry
    return event


def completed_event(service: str, request: "Request", served: int) -> Envelope:
    event = Envelope(id=str(uuid.uuid5(_IDS, f"{COMPLETED}:{request.request_id}")), type=COMPLETED,
                     schema_version=1, source=service, occurred_at=_now_iso(),
                     subject=Subject("replay", request.request_id), aggregate_version=1,
                     correlation_id=request.request_id, causation_id=request.request_id,
                     data={"request_id": request.request_id, "source": service, "served": served,
                           "reply_to": request.reply_to})
    contracts.check(event)
    return event


# -- serving ----------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    request_id: str
    to: str
    reply_to: str

    @classmethod
    def from_message(cls, body: bytes, reply_to: str | None) -> "Request":
        try:
            raw = json.loads(body)
            request = cls(str(raw["request_id"]), str(raw["to"]), reply_to or "")
        except (ValueError, TypeError, KeyError) as exc:
            raise BadRequest(f"not a replay request: {exc!r}") from None
        if not SERVICE_NAME.match(request.to):
            raise BadRequest(f"not a service name: {request.to!r}")
        if not request.request_id.strip() or len(request.request_id) > 100:
            raise BadRequest("a replay request needs a request_id")
        return request


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


# -- the requester's side, wired in its consumer module ------------------------------

class Replays:
    """A service's replays, in its consumer module:

        replays = Replays(consumer, sources=[DOCUMENTS])           # what it serves
        replays.learn("registration.migrant.snapshot", learn_owner) # one line per source learnt
        ...  replays.start(settings, db)                            # in the process's start
    """

    def __init__(self, consumer, sources: list[Source] = ()):
        self.consumer = consumer
        self.service = consumer.service
        self.sources = list(sources)
        self.server: ReplayServer | None = None
        self._learnt: set[str] = set()
        self._amqp_url: str | None = None
        consumer.handles(COMPLETED, routed=False)(self._completed)
        consumer.handles(SNAPSHOTS, routed=False)(self._not_learnt)

    def learn(self, event_type: str, handler) -> None:
        """Apply a source's snapshots with `handler(event, tx)`, counting what was applied."""
        def learnt(event, tx) -> None:
            handler(event, tx)
            tx.db[REPLAYS].update_one({"_id": event.correlation_id}, {"$inc": {"applied": 1}},
                                      upsert=True, session=tx.session)
        self._learnt.add(event_type)
        self.consumer.handles(event_type, routed=False)(learnt)

    def start(self, settings: Settings, db, page_size: int = PAGE_SIZE) -> ReplayServer | None:
        """Serve this service's replays in a thread; answer the end markers of others'."""
        self._amqp_url = settings.amqp_url
        if not self.sources:
            return None
        self.server = ReplayServer(self.service, settings, MongoStateReader(db), self.sources, page_size)
        self.server.start()
        return self.server

    def _not_learnt(self, event, tx) -> None:
        if event.type not in self._learnt:
            log.info("%s does not learn %s; ignored", self.service, event.type, extra={"event_id": event.id})

    def _completed(self, event, tx) -> None:
        data = event.data
        row = tx.db[REPLAYS].find_one_and_update(
            {"_id": data["request_id"]},
            {"$set": {"source": data["source"], "served": data["served"], "completed_at": datetime.now(timezone.utc)}},
            upsert=True, return_document=ReturnDocument.AFTER, session=tx.session)
        applied = row.get("applied", 0)
        log.info("replay of %s: applied %d of %d", data["source"], applied, data["served"],
                 extra={"request_id": data["request_id"]})
        self._reply(data["reply_to"], {"request_id": data["request_id"], "stage": "applied", "by": self.service,
                                       "applied": applied, "served": data["served"]})

    def _reply(self, reply_to: str, message: dict) -> None:
        if not reply_to or not self._amqp_url:
            return
        try:
            connection = pika.BlockingConnection(pika.URLParameters(self._amqp_url))
            try:
                connection.channel().basic_publish("", reply_to, json.dumps(message).encode(),
                                                   pika.BasicProperties(content_type="application/json"))
            finally:
                connection.close()
        except (pika.exceptions.AMQPError, OSError) as exc:  # the command went away: nobody to tell
            log.warning("could not report the replay to %s: %r", reply_to, exc)


# -- the command --------------------------------------------------------------------

class Command:
    def __init__(self, settings: Settings, out=sys.stdout, err=sys.stderr):
        self.settings, self.out, self.err = settings, out, err

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def fail(self, text: str) -> int:
        print(f"replay failed: {text}", file=self.err, flush=True)
        return 1

    def run(self, source: str, to: str, timeout: float) -> int:
        prefix = self.settings.amqp_prefix
        try:
            connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
        except pika.exceptions.AMQPError as exc:
            return self.fail(f"cannot reach RabbitMQ ({exc!r})")
        try:
            target, requests = service_queue(prefix, to), request_queue(prefix, source)
            if _consumers(connection, target) is None:
                return self.fail(f"{to} has no queue {target} yet: start its consumer once (it declares the "
                                 f"queue), then ask for the replay")
            serving = _consumers(connection, requests)
            if serving is None:
                return self.fail(f"{source} is not serving replays under AMQP_PREFIX={prefix} (no queue "
                                 f"{requests}): is its consumer process running? Nothing was replayed.")
            channel = connection.channel()
            reply_to = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
            request_id = str(uuid.uuid4())
            channel.confirm_delivery()
            channel.basic_publish("", requests, json.dumps({"request_id": request_id, "to": to}).encode(),
                                  pika.BasicProperties(reply_to=reply_to, correlation_id=request_id,
                                                       content_type="application/json",
                                                       expiration=str(int(timeout * 1000))), mandatory=True)
            self.say(f"replay {request_id}: asked {source} to replay its current state to {to}")
            return self._follow(channel, reply_to, request_id, source, to, timeout, serving)
        finally:
            if connection.is_open:
                connection.close()

    def _follow(self, channel, reply_to, request_id, source, to, timeout, serving) -> int:
        stage, served, total = "requested", 0, 0
        for method, _, body in channel.consume(reply_to, auto_ack=True, inactivity_timeout=timeout):
            if method is None:
                return self.fail(self._silence(stage, source, to, timeout, served, total, serving))
            try:
                message = json.loads(body)
            except ValueError:
                continue
            if not isinstance(message, dict) or message.get("request_id") != request_id:
                continue
            stage = message.get("stage")
            served, total = message.get("served", served), message.get("total", total)
            if stage == "started":
                self.say(f"{source}: {total} to replay")
            elif stage == "served":
                self.say(f"{source}: served {served} of {total}")
            elif stage == "sent":
                self.say(f"{source}: all {served} sent to {to}; waiting for {to} to apply them")
            elif stage == "failed":
                return self.fail(f"{source} could not replay: {message.get('error')}")
            elif stage == "applied":
                applied = message.get("applied", 0)
                self.say(f"{to}: applied {applied} of {served} ({served - applied} already known, "
                         f"or older than what {to} had)")
                self.say("done")
                return 0
        return self.fail("the broker closed the reply queue")

    @staticmethod
    def _silence(stage, source, to, timeout, served, total, serving) -> str:
        if stage == "requested":
            return (f"{source} did not answer within {timeout:g} s ({serving} replay server(s) on its queue): "
                    f"is its consumer process running? The request expires unserved; nothing was replayed.")
        if stage in ("started", "served"):
            return (f"{source} stopped answering after sending {served} of {total}: run the replay again "
                    f"(safe: what {to} already applied is skipped).")
        return (f"{to} did not confirm within {timeout:g} s that it applied the replay: is its consumer "
                f"running? The events wait in its queue and apply when it runs.")


def _consumers(connection, queue: str) -> int | None:
    """How many consume from `queue`; None when it does not exist."""
    channel = connection.channel()
    try:
        return channel.queue_declare(queue, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            return None
        raise
    finally:
        if channel.is_open:
            channel.close()


def main(argv: list[str] | None = None, settings: Settings | None = None, out=None, err=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.replay",
                                     description="Ask a service to replay its current state, as events, "
                                                 "to one other service's queue (safe to run twice).")
    parser.add_argument("--to", required=True, help="the service that learns (its queue gets the events)")
    parser.add_argument("--from", dest="source", required=True, help="the service whose state is replayed")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds without progress before giving up (default 30)")
    args = parser.parse_args(argv)
    for name in (args.to, args.source):
        if not SERVICE_NAME.match(name):
            parser.error(f"not a service name: {name!r}")
    if args.to == args.source:
        parser.error("a service does not replay to itself")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    settings = settings or Settings.from_env("replay")
    return Command(settings, out or sys.stdout, err or sys.stderr).run(args.source, args.to, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
