"""Unit of work: a state change and the events it raises commit together, or not at all.

The service layer calls `uow.run(fn)`; `fn(tx)` changes state through the repositories
that `tx` carries and calls `tx.emit(...)`. The events are written to the outbox
collection inside the same MongoDB transaction. Nothing is published here: the relay
publishes what the outbox holds after the commit.
"""
from __future__ import annotations

import itertools
import time
from typing import Callable, TypeVar

from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import PyMongoError

from shared import contracts
from shared import inbox
from shared.events import Envelope
from shared.inbox import INBOX, AlreadyHandled, Superseded  # noqa: F401 (what consumers catch)
from shared.outbox import OUTBOX, outbox_record

T = TypeVar("T")


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
        contracts.check(event)  # an event that breaks its contract is refused with its transaction
        self.events.append(event)
        return event

    def claim(self, consumer: str, event: Envelope, *, apply_late: bool = False) -> None:
        """Record (consumer, event) in this transaction; a second delivery, or an event
        older than what was applied for its aggregate (unless `apply_late`), finds it and
        stops (shared.inbox)."""
        inbox.claim(self.db, self.session, consumer, event, apply_late=apply_late)


class MongoUnitOfWork:
    """Runs `fn(tx)` in one transaction, retrying transient errors (write conflicts,
    elections) for at most `retry_seconds`. pymongo's with_transaction retries for 120 s,
    which turned an unreachable database into a two-minute hang instead of a 503."""

    def __init__(self, db: Database, source: str, tx_class: type[Tx] = Tx, retry_seconds: float = 5.0):
        self.db = db
        self.source = source
        self.tx_class = tx_class
        self.retry_seconds = retry_seconds

    def run(self, fn: Callable[[Tx], T]) -> T:
        deadline = time.monotonic() + self.retry_seconds
        with self.db.client.start_session() as session:
            for attempt in itertools.count():
                if attempt:  # a conflict clears faster if the retries do not pile onto it
                    time.sleep(min(0.01 * 2 ** attempt, 0.5))
                # Each attempt starts with a fresh Tx and event list.
                session.start_transaction()
                try:
                    tx = self.tx_class(self.db, session, self.source)
                    result = fn(tx)
                    if tx.events:
                        self.db[OUTBOX].insert_many([outbox_record(e) for e in tx.events], session=session)
                except BaseException as exc:
                    if session.in_transaction:
                        _abort(session)
                    if _labelled(exc, "TransientTransactionError") and time.monotonic() < deadline:
                        continue
                    raise
                if self._commit(session, deadline):
                    return result

    @staticmethod
    def _commit(session: ClientSession, deadline: float) -> bool:
        """True once committed; False when the whole transaction should run again."""
        while True:
            try:
                session.commit_transaction()
                return True
            except PyMongoError as exc:
                in_time = time.monotonic() < deadline
                if _labelled(exc, "UnknownTransactionCommitResult") and in_time:
                    continue  # committing again is safe: the server applies it once
                if _labelled(exc, "TransientTransactionError") and in_time:
                    return False
                raise


def _labelled(exc: BaseException, label: str) -> bool:
    return isinstance(exc, PyMongoError) and exc.has_error_label(label)


def _abort(session: ClientSession) -> None:
    try:
        session.abort_transaction()
    except PyMongoError:  # the server forgets an unfinished transaction anyway
        pass
