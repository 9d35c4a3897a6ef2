"""A record's own timeline (a migrant's registration, a document, a claim): each entry is
written by the transaction that makes the change, and read newest first in keyset pages
(shared/pagination.py). A service names the field that says whose entry it is, and the
collection if its history has its own."""
from __future__ import annotations

from marshmallow import Schema, fields
from pymongo import DESCENDING
from pymongo.database import Database

from shared.pagination import keyset_page, position_after

HISTORY = "history"


class Timeline:
    subject_field: str  # e.g. "reference", "document_id", "claim_id"
    collection_name = HISTORY

    def __init__(self, db: Database, session=None):
        self.collection = db[self.collection_name]
        self.session = session

    def add(self, entry: dict) -> None:
        self.collection.insert_one(entry, session=self.session)

    def page(self, subject_id: str, limit: int, after: list | None) -> list[dict]:
        """Up to `limit` entries older than the (occurred_at, _id) position `after`."""
        query: dict = {self.subject_field: subject_id}
        if after:
            occurred_at, event_id = after
            query["$or"] = [{"occurred_at": {"$lt": occurred_at}},
                            {"occurred_at": occurred_at, "_id": {"$lt": event_id}}]
        return list(self.collection.find(query, session=self.session)
                    .sort([("occurred_at", DESCENDING), ("_id", DESCENDING)]).limit(limit))


def history_page(history, subject_id: str, limit: int, cursor: str | None) -> dict:
    """One page of `history` (a Timeline, or any port with its `page`) as every history
    endpoint answers it: entries with their event id, and the cursor of the next page."""
    page, next_cursor = keyset_page(history.page(subject_id, limit + 1, position_after(cursor)), limit,
                                    "occurred_at")
    return {"items": [{**entry, "event_id": entry["_id"]} for entry in page], "next_cursor": next_cursor}


class TimelineEntrySchema(Schema):
    """One entry as every service's history endpoint shows it."""
    event_id = fields.String(required=True)
    type = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    summary = fields.String(required=True)
    summary_bn = fields.String(required=True, metadata={"description": "the same in Bangla"})
