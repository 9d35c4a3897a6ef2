"""The requester's side, wired in a service's consumer module: learning other services'
snapshots (one line per source), answering the end marker, serving its own state."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any, Callable

import pika
import pika.exceptions
from pymongo import ReturnDocument

from shared.config import Settings

from .events import COMPLETED, PAGE_SIZE, REPLAYS, SNAPSHOTS, Source
from .server import MongoStateReader, ReplayServer

log = logging.getLogger("probashi.replay")


class Replays:
    """A service's replays, in its consumer module:

        replays = Replays(consumer, sources=[DOCUMENTS])           # what it serves
        replays.learn("registration.migrant.snapshot", learn_owner) # one line per source learnt
        ...  replays.start(settings, db)                            # in the process's start
        start = replays.starting(bootstrap.unit_of_work)            # or that start, made here
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

    def starting(self, unit_of_work: Callable[[Settings], Any]) -> Callable[[Settings], Any]:
        """The consumer process's start (EventConsumer.main's `make_uow`): the unit of work,
        with the replays started on its database."""
        def start(settings: Settings):
            uow = unit_of_work(settings)
            self.start(settings, uow.db)
            return uow
        return start

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
