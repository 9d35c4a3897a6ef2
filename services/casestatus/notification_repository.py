"""MongoDB adapters of case-status notifications: the SMS planned (notifications.plan) and
their delivery state, and each phone's language and opt-out.

A notification is `queued` (waiting for its send_at), `sending` (claimed by one sender until
lease_until), then `sent`, `failed` (with the gateway's reason) or `cancelled` (its phone opted
out after it was queued). Senders claim a notification with a conditional update, so two
replicas never both send it; a claim whose sender died runs out and the notification is
claimed again (see sender.py for what that crash window means).

Attaching both to a unit of work: compose `NotificationTx` into the service's Tx class
(`class CaseStatusTx(NotificationTx): ...` calling `super().__init__(db, session, source)`),
which gives `tx.notifications` and `tx.preferences` bound to the transaction's session; or
call `stores(db, session)` for the pair. Outside a transaction pass no session.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database

from shared import keyset
from shared.uow import Tx

NOTIFICATIONS = "notifications"
PREFERENCES = "notification_preferences"  # {_id: phone, language, opted_out, updated_at, updated_by}

QUEUED, SENDING, SENT, FAILED, CANCELLED = "queued", "sending", "sent", "failed", "cancelled"
STATES = (QUEUED, SENDING, SENT, FAILED, CANCELLED)
# Staff lists: newest first by (created_at, _id), one index per filter (no page scans).
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
LIST_FILTERS = ("state", "to", "event_id", "migrant")


def ensure_indexes(db: Database) -> None:
    notifications = db[NOTIFICATIONS]
    # The sender's two reads: queued and due, and claims whose sender died.
    notifications.create_index([("state", ASCENDING), ("send_at", ASCENDING)], name="due")
    notifications.create_index([("state", ASCENDING), ("lease_until", ASCENDING)], name="claims")
    notifications.create_index(NEWEST_FIRST, name="newest_first")
    for field in LIST_FILTERS:
        notifications.create_index([(field, ASCENDING), *NEWEST_FIRST], name=f"newest_by_{field}")


class NotificationStore:
    def __init__(self, db: Database, session=None):
        self.collection = db[NOTIFICATIONS]
        self.session = session

    def queue(self, planned: list[dict], now: datetime | None = None, **fields) -> int:
        """Insert each planned SMS unless its _id (event, phone) is there already: an event
        delivered twice plans the same _id and queues nothing more. `fields` (e.g. migrant=...)
        go on each new record. Returns how many were new."""
        added = 0
        for sms in planned:
            record = {"attempts": 0, "last_error": None, "sent_at": None, "created_at": now or sms["send_at"],
                      **fields, **sms}
            result = self.collection.update_one({"_id": sms["_id"]}, {"$setOnInsert": record}, upsert=True,
                                                session=self.session)
            added += result.upserted_id is not None
        return added

    def get(self, notification_id: str) -> dict | None:
        return self.collection.find_one({"_id": notification_id}, session=self.session)

    def due(self, now: datetime, limit: int) -> list[dict]:
        """Up to `limit` notifications a sender may claim now: queued ones whose send_at has
        come (earliest first), then claims that ran out (their sender died)."""
        found = list(self.collection.find({"state": QUEUED, "send_at": {"$lte": now}}, session=self.session)
                     .sort([("state", ASCENDING), ("send_at", ASCENDING)]).limit(limit))
        if len(found) < limit:
            found += self.collection.find({"state": SENDING, "lease_until": {"$lte": now}}, session=self.session) \
                .sort([("state", ASCENDING), ("lease_until", ASCENDING)]).limit(limit - len(found))
        return found

    def claim(self, notification_id: str, now: datetime, lease_until: datetime, owner: str) -> dict | None:
        """Take one due notification for this sender until `lease_until`; None when another
        sender took it first (or it is no longer due). The database decides: one winner.
        Each claim counts as an attempt, and carries a token the marks must present."""
        token = uuid.uuid4().hex
        return self.collection.find_one_and_update(
            {"_id": notification_id, "$or": [{"state": QUEUED, "send_at": {"$lte": now}},
                                             {"state": SENDING, "lease_until": {"$lte": now}}]},
            {"$set": {"state": SENDING, "lease_until": lease_until, "claimed_by": owner, "claim": token,
                      "claimed_at": now},
             "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER, session=self.session)

    def mark_sent(self, claimed: dict, now: datetime, gateway_id: str, segments: int) -> bool:
        return self._finish(claimed, {"state": SENT, "sent_at": now, "gateway_id": gateway_id,
                                      "segments": segments, "last_error": None})

    def mark_retry(self, claimed: dict, send_at: datetime, error: str) -> bool:
        return self._finish(claimed, {"state": QUEUED, "send_at": send_at, "last_error": error})

    def mark_failed(self, claimed: dict, now: datetime, error: str) -> bool:
        return self._finish(claimed, {"state": FAILED, "failed_at": now, "last_error": error})

    def mark_cancelled(self, claimed: dict, now: datetime, reason: str) -> bool:
        return self._finish(claimed, {"state": CANCELLED, "cancelled_at": now, "last_error": reason})

    def _finish(self, claimed: dict, fields: dict) -> bool:
        """Record an outcome only under the claim it came from: False when the claim ran out
        and another sender holds the notification now (it decides the outcome)."""
        result = self.collection.update_one(
            {"_id": claimed["_id"], "state": SENDING, "claim": claimed["claim"]},
            {"$set": fields, "$unset": {"lease_until": "", "claimed_by": "", "claim": "", "claimed_at": ""}},
            session=self.session)
        return result.matched_count == 1

    def page(self, filters: dict, limit: int, after: list | None) -> list[dict]:
        """Newest first by (created_at, _id); `filters` equalities on LIST_FILTERS."""
        return keyset.read(self.collection, keyset.newest_first(filters, after), NEWEST_FIRST, limit,
                           self.session)


class PreferenceStore:
    def __init__(self, db: Database, session=None):
        self.collection = db[PREFERENCES]
        self.session = session

    def for_phones(self, phones) -> dict[str, dict]:
        """{phone: {"language", "opted_out"}} for the phones that chose anything."""
        phones = [p for p in dict.fromkeys(phones) if p]
        if not phones:
            return {}
        return {row["_id"]: {"language": row.get("language"), "opted_out": bool(row.get("opted_out"))}
                for row in self.collection.find({"_id": {"$in": phones}}, session=self.session)}

    def get(self, phone: str) -> dict:
        return self.for_phones([phone]).get(phone) or {"language": None, "opted_out": False}

    def set(self, phone: str, language: str | None = None, opted_out: bool | None = None, *, by: str,
            now: datetime | None = None) -> dict:
        """Change what is given (None keeps it); returns the phone's preferences now."""
        changes = {"updated_by": by, **({"updated_at": now} if now else {})}
        if language is not None:
            changes["language"] = language
        if opted_out is not None:
            changes["opted_out"] = bool(opted_out)
        row = self.collection.find_one_and_update({"_id": phone}, {"$set": changes}, upsert=True,
                                                  return_document=ReturnDocument.AFTER, session=self.session)
        return {"language": row.get("language"), "opted_out": bool(row.get("opted_out"))}


def stores(db: Database, session=None) -> tuple[NotificationStore, PreferenceStore]:
    return NotificationStore(db, session), PreferenceStore(db, session)


class NotificationTx(Tx):
    """A unit-of-work Tx with `notifications` and `preferences` bound to its session; the
    service's Tx subclasses it (cooperatively: `super().__init__(db, session, source)`)."""

    def __init__(self, db, session, source):
        super().__init__(db, session, source)
        self.notifications, self.preferences = stores(db, session)
