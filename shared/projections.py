"""What a service keeps of other services' events (its projections): a collection per
source aggregate, keyed by the source's id, written by the consumer's handlers in the
transaction that records the event in the inbox (shared/consumer.py).

A service's projections.py says which events and fields it keeps; the reading of an
event's instant and migrant reference, and the collections, are the same everywhere.
"""
from __future__ import annotations

from datetime import datetime

from pymongo.database import Database

from shared.errors import PermanentError

MIGRANTS = "migrants"
DOCUMENTS = "documents"


def occurred(event) -> datetime:
    """When the event happened (its envelope's ISO instant)."""
    return datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))


def migrant_reference(event) -> str:
    """The migrant a registration event is about; none is an event no retry can fix."""
    reference = event.data.get("reference") or event.subject.id
    if not isinstance(reference, str) or not reference.strip():
        raise PermanentError("registration event without a migrant reference")
    return reference


class Projection:
    """One row per source aggregate, by its id; a subclass names the collection."""
    collection_name: str

    def __init__(self, db: Database, session=None):
        self.collection = db[self.collection_name]
        self.session = session

    def get(self, source_id: str) -> dict | None:
        return self.collection.find_one({"_id": source_id}, session=self.session)

    def save(self, row: dict) -> None:
        """The row as the source published it last (its `_id` the source's id)."""
        self.collection.replace_one({"_id": row["_id"]}, row, upsert=True, session=self.session)

    def update(self, source_id: str, changes: dict) -> None:
        """Set these fields, keeping the rest (several events each publish a part)."""
        self.collection.update_one({"_id": source_id}, {"$set": changes}, upsert=True, session=self.session)

    def remove(self, source_id: str) -> None:
        self.collection.delete_one({"_id": source_id}, session=self.session)


class MigrantProjection(Projection):
    """What registration published of each migrant, by reference."""
    collection_name = MIGRANTS


class DocumentProjection(Projection):
    """What the vault published of each document: its owner and type, and what else a service keeps."""
    collection_name = DOCUMENTS

    def of_owner(self, owner: str) -> list[dict]:
        return list(self.collection.find({"owner": owner}, session=self.session))
