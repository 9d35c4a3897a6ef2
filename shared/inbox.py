"""What a consumer has applied: the inbox (one row per event) and, per aggregate, the
highest version applied (its high-water mark). Both are written in the transaction
that applies the event, so they say exactly what was committed.

    inbox               {_id: "consumer:event id", consumer, event_id, claimed_at}
    inbox_aggregates    {_id: "consumer:subject type:subject id", consumer, subject, version,
                         event_ids (those applied at that version)}

An event older than the high-water mark of its aggregate (subject type + id) is skipped:
a retry or a redelivery may arrive after a later event of the same aggregate was applied,
and applying it then would move the state backwards. A consumer whose handlers cannot move
anything backwards (a timeline: every event is an entry of its own, and state keeps the
highest version) claims with `apply_late=True`: an older event is then recorded in the inbox
and applied, and the mark stays where it was. Such handlers must also be idempotent: once
its inbox row is pruned, a copy of an old event is not stopped by the mark.

Why pruning the inbox cannot let a duplicate through: the broker can hand back an event
long after it was applied (a copy waiting in a delay queue, a dead letter replayed weeks
later), so the inbox alone would have to be kept forever. But every event names its
aggregate and version, and the high-water marks are never pruned (one small row per
aggregate, not per event). A copy arriving after its inbox row expired is either older
than its aggregate's mark, or at the mark and listed in `event_ids`: skipped either way.
So the inbox is the fast path for the recent past and the mark the guard for any age,
and INBOX_RETENTION_SECONDS only bounds the inbox's size.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, OperationFailure

from shared.events import Envelope

INBOX = "inbox"
AGGREGATES = "inbox_aggregates"
RETENTION_INDEX = "claimed_expiry"


class AlreadyHandled(Exception):
    """This consumer already committed the effect of this event."""


class Superseded(AlreadyHandled):
    """The consumer already applied a later version of this event's aggregate."""

    def __init__(self, event: Envelope, applied_version: int):
        super().__init__(event.id)
        self.applied_version = applied_version


def claim(db: Database, session: ClientSession, consumer: str, event: Envelope, *, apply_late: bool = False) -> None:
    """Record (consumer, event) and advance the aggregate's mark, in the caller's
    transaction; raises AlreadyHandled (or Superseded, unless `apply_late`) when the event
    must not apply."""
    try:
        db[INBOX].insert_one({"_id": f"{consumer}:{event.id}", "consumer": consumer, "event_id": event.id,
                              "claimed_at": datetime.now(timezone.utc)}, session=session)
    except DuplicateKeyError:
        raise AlreadyHandled(event.id) from None
    # A string key: consumer names and subject types are words without ':' (and an
    # embedded-document _id is not looked up by index on SecantusDB).
    key = f"{consumer}:{event.subject.type}:{event.subject.id}"
    mark = db[AGGREGATES].find_one({"_id": key}, session=session)
    version = event.aggregate_version
    if mark is None or version > mark["version"]:
        change = {"$set": {"consumer": consumer, "subject": {"type": event.subject.type, "id": event.subject.id},
                           "version": version, "event_ids": [event.id]}}
    elif version == mark["version"]:
        if event.id in mark["event_ids"]:
            raise AlreadyHandled(event.id)  # its inbox row was pruned; the mark remembers it
        change = {"$addToSet": {"event_ids": event.id}}  # a producer that repeats a version
    elif apply_late:
        return  # applied in its place (the inbox row stops its copies); the mark stays newer
    else:
        raise Superseded(event, mark["version"])
    # Both transactions of a race write this row: one of them conflicts and runs again.
    db[AGGREGATES].update_one({"_id": key}, change, upsert=True, session=session)


def ensure_indexes(db: Database, retention_seconds: int) -> None:
    """The inbox's retention as a TTL index; a changed retention retunes it in place."""
    try:
        db[INBOX].create_index("claimed_at", name=RETENTION_INDEX, expireAfterSeconds=retention_seconds)
    except OperationFailure as exc:
        if exc.code not in (85, 86):  # IndexOptionsConflict / IndexKeySpecsConflict: another retention
            raise
        db.command("collMod", INBOX, index={"name": RETENTION_INDEX, "expireAfterSeconds": retention_seconds})
