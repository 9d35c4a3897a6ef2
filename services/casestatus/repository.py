"""MongoDB adapters of the case-status service: what it learned from other services' events.

    entries   the timeline: one per event (entries.entry; `_id` = the event's id, so an event
              applied twice is one entry) or per replayed state (catch_up), with `case_ids`
              (the cases it belongs to, for a case's timeline and family) and `restricted_case`
              (a restricted complaint's id, else null: who may see it is decided in the query)
    facts     per migrant: next_steps' facts (cases, documents), the migrant's phone (from
              registration) and which cases each document was sent for
    cases     case id -> its migrant, to find a case's timeline and facts

Timelines page newest first by entries.sort_key (occurred_at, aggregate version, _id), each
filter with an index ending in that order (shared/keyset.descending_after: plain ranges).
The notification stores (notification_repository.py) share the transaction through CaseStatusTx.
"""
from __future__ import annotations

import heapq

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from shared import keyset
from shared.audit import AuditTrail

from .notification_repository import NotificationTx
from .notification_repository import ensure_indexes as ensure_notification_indexes

ENTRIES, FACTS, CASES = "entries", "facts", "cases"
SORT_FIELDS = ["occurred_at", "aggregate.version", "_id"]
NEWEST_FIRST = [(field, DESCENDING) for field in SORT_FIELDS]


def ensure_indexes(db: Database) -> None:
    entries = db[ENTRIES]
    # A migrant's whole timeline (the migrant, admins), and as other staff see it: the open
    # entries (restricted_case null) and each restricted complaint they may see, one range each.
    entries.create_index([("migrant_reference", ASCENDING), *NEWEST_FIRST], name="by_migrant")
    entries.create_index([("migrant_reference", ASCENDING), ("restricted_case", ASCENDING), *NEWEST_FIRST],
                         name="by_migrant_seen_by_staff")
    entries.create_index([("case_ids", ASCENDING), *NEWEST_FIRST], name="by_case")
    # A document's entries, to link them to a case its upload (arriving late) names.
    entries.create_index([("aggregate.id", ASCENDING), ("aggregate.version", ASCENDING)], name="by_aggregate")
    ensure_notification_indexes(db)
    AuditTrail(db).ensure_indexes()


def empty_facts(migrant: str) -> dict:
    return {"_id": migrant, "cases": {}, "documents": {}, "phone": None, "document_cases": {}}


class EntryRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[ENTRIES]
        self.session = session

    def add(self, entry: dict) -> bool:
        """Insert unless its `_id` is there (the same event or state again): True if new."""
        record = {**entry, "case_ids": entry["audience"]["case_ids"],
                  "restricted_case": entry["case"]["id"] if entry["audience"]["restricted"] else None}
        result = self.collection.update_one({"_id": entry["_id"]}, {"$setOnInsert": record}, upsert=True,
                                            session=self.session)
        return result.upserted_id is not None

    def link_cases(self, aggregate_id: str, case_ids: list[str]) -> None:
        """Entries of `aggregate_id` (a document) belong to these cases too: a verdict that
        arrived before the upload naming its case is seen by that case's family."""
        self.collection.update_many({"aggregate.id": aggregate_id},
                                    {"$addToSet": {"case_ids": {"$each": case_ids},
                                                   "audience.case_ids": {"$each": case_ids}}},
                                    session=self.session)

    def has_version(self, aggregate_id: str, version: int) -> bool:
        """Whether a live entry of the aggregate at `version` or later is on the timeline."""
        return self.collection.find_one({"aggregate.id": aggregate_id, "aggregate.version": {"$gte": version},
                                         "replayed": {"$ne": True}}, {"_id": 1}, session=self.session) is not None

    def page(self, filters: list[dict], limit: int, after: list | None) -> list[dict]:
        """Up to `limit` entries matching any of `filters` (each an equality one index serves),
        newest first, after the keyset position `after`: each read as index ranges, then merged."""
        streams = [keyset.read(self.collection, keyset.descending_after(f, SORT_FIELDS, after), NEWEST_FIRST,
                               limit, self.session) for f in filters]
        merged, seen = [], set()
        for entry in heapq.merge(*streams, key=sort_key, reverse=True):
            if entry["_id"] not in seen:
                seen.add(entry["_id"])
                merged.append(entry)
            if len(merged) >= limit:
                break
        return merged

    def explain_page(self, filters: dict, after: list | None) -> list[dict]:
        return keyset.winning_plans(self.collection, keyset.descending_after(filters, SORT_FIELDS, after),
                                    NEWEST_FIRST)


def sort_key(entry: dict) -> tuple:
    return entry["occurred_at"], entry["aggregate"]["version"], entry["_id"]


class FactsRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[FACTS]
        self.session = session

    def get(self, migrant: str) -> dict | None:
        return self.collection.find_one({"_id": migrant}, session=self.session)

    def put(self, facts: dict) -> None:
        self.collection.replace_one({"_id": facts["_id"]}, facts, upsert=True, session=self.session)


class CaseRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[CASES]
        self.session = session

    def set_owner(self, case_id: str, migrant: str) -> None:
        self.collection.update_one({"_id": case_id}, {"$set": {"migrant_reference": migrant}}, upsert=True,
                                   session=self.session)

    def owner(self, case_id: str) -> str | None:
        row = self.collection.find_one({"_id": case_id}, session=self.session)
        return row["migrant_reference"] if row else None


class CaseStatusTx(NotificationTx):
    """A transaction with the case-status repositories (and the notification stores) bound to it."""

    def __init__(self, db, session, source):
        super().__init__(db, session, source)
        self.entries = EntryRepository(db, session)
        self.facts = FactsRepository(db, session)
        self.cases = CaseRepository(db, session)


class Reads:
    """The same repositories outside any transaction, for queries."""

    def __init__(self, db: Database):
        self.db = db
        self.entries = EntryRepository(db)
        self.facts = FactsRepository(db)
        self.cases = CaseRepository(db)
