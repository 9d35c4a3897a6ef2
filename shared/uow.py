"""Unit of work: a state change and the events it raises commit together, or not at all.

The service layer calls `uow.run(fn)`; `fn(tx)` changes state through the repositories
that `tx` carries and calls `tx.emit(...)`. The events are written to the outbox
collection inside the same MongoDB transaction. Nothing is published here: the relay
publishes what the outbox holds after the commit.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.events import Envelope
from shared.outbox import OUTBOX, outbox_record

T = TypeVar("T")
INBOX = "inbox"


class AlreadyHandled(Exception):
    """This consumer already committed the effect of this event."""


class Tx:
    """What a service-layer function sees during one transaction attempt.

    Services subclass it to expose their repositories, bound to `self.session`.
    """

    def __init__(self, db: Database, session: ClientSession, source: str):
        self.db = db
        self.session = session
        self.source = source
        self.events: list[Envelope] = []

    def emit(self, event_type: str, *, subject_type: str, subject_id: str,
             aggregate_version: int, data: dict) -> Envelope:
        event = Envelope.new(type=event_type, source=self.source, subject_type=subject_type,
                             subject_id=subject_id, aggregate_version=aggregate_version, data=data)
        self.events.append(event)
        return event

    def claim_inbox(self, consumer: str, event_id: str) -> None:
        """Record (consumer, event) in this transaction; a second delivery finds it and stops."""
        try:
            self.db[INBOX].insert_one({"_id": f"{consumer}:{event_id}", "consumer": consumer,
                                       "event_id": event_id}, session=self.session)
        except DuplicateKeyError:
            raise AlreadyHandled(event_id) from None


class MongoUnitOfWork:
    def __init__(self, db: Database, source: str, tx_class: type[Tx] = Tx):
        self.db = db
        self.source = source
        self.tx_class = tx_class

    def run(self, fn: Callable[[Tx], T]) -> T:
        # with_transaction retries the whole callback on transient errors (write
        # conflicts, elections), so each attempt starts with a fresh Tx and event list.
        def attempt(session: ClientSession) -> T:
            tx = self.tx_class(self.db, session, self.source)
            result = fn(tx)
            if tx.events:
                self.db[OUTBOX].insert_many([outbox_record(e) for e in tx.events], session=session)
            return result

        with self.db.client.start_session() as session:
            return session.with_transaction(attempt)
