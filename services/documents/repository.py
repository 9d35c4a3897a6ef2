"""MongoDB adapters of the documents service: document heads, chain records, chain
heads, each document's history (written with the change), the projections fed by other
services' events (owners, cases) and the migrants' verify budget. Serialising a
migrant's chain lives in unique indexes, never in check-then-insert."""
from __future__ import annotations

from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from shared.history import HISTORY, Timeline
from shared.uow import Tx

from .storage import FILES

DOCUMENTS = "documents"
RECORDS = "records"
CHAIN_HEADS = "chain_heads"
OWNERS = "owners"
CASES = "cases"

VERIFY_RUNS = "verify_runs"
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]


class ChainContention(PyMongoError):
    """Another write for the same migrant or document committed first: run the whole
    transaction again on fresh reads. When both transactions overlap, MongoDB reports
    this race itself as a WriteConflict labelled TransientTransactionError; when the
    other one committed first, it shows here as a stale read, and carries the same label
    so the unit of work retries it the same way (its one retry loop, bounded in time)."""

    def __init__(self, what: str):
        super().__init__(f"lost a race for {what}", error_labels=["TransientTransactionError"])


def ensure_indexes(db: Database) -> None:
    # Two uploads for one migrant cannot both take the next place in the chain.
    db[RECORDS].create_index([("owner", ASCENDING), ("seq", ASCENDING)], unique=True, name="chain_position")
    db[RECORDS].create_index([("document_id", ASCENDING), ("version", ASCENDING)], name="by_document")
    db[DOCUMENTS].create_index([("owner", ASCENDING), *NEWEST_FIRST], name="by_owner")
    db[DOCUMENTS].create_index([("owner", ASCENDING), ("doc_type", ASCENDING), *NEWEST_FIRST], name="by_owner_type")
    db[CASES].create_index("document_ids", name="by_document")
    db[HISTORY].create_index([("document_id", ASCENDING), ("occurred_at", DESCENDING), ("_id", DESCENDING)],
                             name="by_document")
    db[FILES].create_index([("metadata.state", ASCENDING), ("uploadDate", ASCENDING)], name="by_state")


def _keyset(query: dict, after: list | None, field: str) -> dict:
    """Items after (value, key) in (field, _id) descending order."""
    if after:
        value, key = after
        # The range bounds the index scan; the $or alone would make a later page a collection scan.
        query[field] = {"$lte": value}
        query["$or"] = [{field: {"$lt": value}}, {"_id": {"$lt": key}}]
    return query


class _Repository:
    collection_name = ""

    def __init__(self, db: Database, session=None):
        self.collection = db[self.collection_name]
        self.session = session


class DocumentRepository(_Repository):
    collection_name = DOCUMENTS

    def add(self, head: dict) -> None:
        try:
            self.collection.insert_one(head, session=self.session)
        except DuplicateKeyError:
            raise ChainContention(head["_id"]) from None

    def get(self, document_id: str) -> dict | None:
        return self.collection.find_one({"_id": document_id}, session=self.session)

    def replace(self, head: dict, expected_revision: int) -> None:
        result = self.collection.replace_one({"_id": head["_id"], "revision": expected_revision}, head,
                                             session=self.session)
        if result.matched_count == 0:
            raise ChainContention(head["_id"])

    def for_owner(self, owner: str) -> list[dict]:
        """Every document of the owner, deleted ones included."""
        return list(self.collection.find({"owner": owner}, session=self.session))

    def page(self, owner: str, doc_type: str | None, limit: int, after: list | None) -> list[dict]:
        query: dict = {"owner": owner, "deleted": None}
        if doc_type:
            query["doc_type"] = doc_type
        return list(self.collection.find(_keyset(query, after, "created_at"), session=self.session)
                    .sort(NEWEST_FIRST).limit(limit))


class RecordRepository(_Repository):
    collection_name = RECORDS

    def add(self, record: dict) -> None:
        try:
            self.collection.insert_one(record, session=self.session)
        except DuplicateKeyError:
            raise ChainContention(record["owner"]) from None

    def last_for_owner(self, owner: str) -> dict | None:
        return self.collection.find_one({"owner": owner}, sort=[("seq", DESCENDING)], session=self.session)

    def for_owner(self, owner: str) -> list[dict]:
        """The owner's chain as stored, in chain order."""
        return list(self.collection.find({"owner": owner}, session=self.session).sort([("seq", ASCENDING)]))

    def for_document(self, document_id: str) -> list[dict]:
        return list(self.collection.find({"document_id": document_id}, session=self.session)
                    .sort([("version", ASCENDING)]))

    def get(self, record_id: str) -> dict | None:
        return self.collection.find_one({"_id": record_id}, session=self.session)

    def many(self, record_ids: list[str]) -> dict[str, dict]:
        return {r["_id"]: r for r in self.collection.find({"_id": {"$in": record_ids}}, session=self.session)}

    def set_verification(self, record_id: str, verification: dict) -> None:
        self.collection.update_one({"_id": record_id}, {"$set": {"verification": verification}}, session=self.session)

    def mark_deleted(self, document_id: str, deletion: dict) -> None:
        # Marked, never removed: the chain must still verify after a deletion.
        self.collection.update_many({"document_id": document_id}, {"$set": {"deleted": True, "deletion": deletion}},
                                    session=self.session)


class ChainHeadRepository(_Repository):
    """The latest (seq, record_hash) of each migrant's chain, so that records cut from
    the end of a chain are noticed too."""
    collection_name = CHAIN_HEADS

    def get(self, owner: str) -> dict | None:
        return self.collection.find_one({"_id": owner}, session=self.session)

    def advance(self, owner: str, previous_seq: int | None, seq: int, record_hash: str) -> None:
        try:
            if previous_seq is None:
                self.collection.insert_one({"_id": owner, "seq": seq, "record_hash": record_hash},
                                           session=self.session)
            else:
                self.collection.update_one({"_id": owner, "seq": previous_seq},
                                           {"$set": {"seq": seq, "record_hash": record_hash}},
                                           upsert=True, session=self.session)
        except DuplicateKeyError:
            raise ChainContention(owner) from None


class OwnerRepository(_Repository):
    collection_name = OWNERS

    def add(self, reference: str, registered_at, event_id: str) -> None:
        self.collection.update_one({"_id": reference},
                                   {"$setOnInsert": {"registered_at": registered_at, "event_id": event_id}},
                                   upsert=True, session=self.session)

    def exists(self, reference: str) -> bool:
        return self.collection.find_one({"_id": reference}, {"_id": 1}, session=self.session) is not None


class CaseRepository(_Repository):
    collection_name = CASES

    def get(self, case_id: str) -> dict | None:
        return self.collection.find_one({"_id": case_id}, session=self.session)

    def many(self, case_ids: list[str]) -> dict[str, dict]:
        return {c["_id"]: c for c in self.collection.find({"_id": {"$in": case_ids}}, session=self.session)}

    def naming(self, document_id: str) -> list[dict]:
        return list(self.collection.find({"document_ids": document_id}, session=self.session))

    def save(self, case: dict) -> None:
        self.collection.replace_one({"_id": case["_id"]}, case, upsert=True, session=self.session)


class HistoryRepository(Timeline):
    """Each document's history."""
    subject_field = "document_id"


class VerifyRunRepository(_Repository):
    """When each migrant last ran the full verify, which re-reads every stored byte."""
    collection_name = VERIFY_RUNS

    def claim(self, owner: str, now: datetime, interval: timedelta) -> datetime | None:
        """Take the owner's turn: None when it is theirs (and recorded), else when the
        next one starts. Atomic, so concurrent requests cannot all slip through."""
        try:
            self.collection.find_one_and_update({"_id": owner, "last_at": {"$lte": now - interval}},
                                                {"$set": {"last_at": now}}, upsert=True, session=self.session)
            return None
        except DuplicateKeyError:
            last = self.collection.find_one({"_id": owner}, session=self.session)
            return (last["last_at"] if last else now) + interval


class ContentIndex(_Repository):
    """The state of GridFS files, changed inside the transaction that commits or deletes them."""
    collection_name = FILES

    def mark(self, content_ids: list, state: str) -> None:
        self.collection.update_many({"_id": {"$in": content_ids}}, {"$set": {"metadata.state": state}},
                                    session=self.session)


class Repositories:
    """Every repository, bound to `self.session` (None outside a transaction)."""
    db: Database
    session = None

    @property
    def documents(self) -> DocumentRepository:
        return DocumentRepository(self.db, self.session)

    @property
    def records(self) -> RecordRepository:
        return RecordRepository(self.db, self.session)

    @property
    def chain_heads(self) -> ChainHeadRepository:
        return ChainHeadRepository(self.db, self.session)

    @property
    def owners(self) -> OwnerRepository:
        return OwnerRepository(self.db, self.session)

    @property
    def cases(self) -> CaseRepository:
        return CaseRepository(self.db, self.session)

    @property
    def history(self) -> HistoryRepository:
        return HistoryRepository(self.db, self.session)

    @property
    def verify_runs(self) -> VerifyRunRepository:
        return VerifyRunRepository(self.db, self.session)

    @property
    def content_index(self) -> ContentIndex:
        return ContentIndex(self.db, self.session)


class Reads(Repositories):
    """Queries outside any transaction."""

    def __init__(self, db: Database):
        self.db = db


class DocumentsTx(Repositories, Tx):
    """A transaction with the documents repositories bound to its session."""
