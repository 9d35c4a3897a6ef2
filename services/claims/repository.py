"""MongoDB adapters of the claims service: claims, their history (written with the change),
payment references, and what the service learned from other services' events (migrants
from registration, documents from the vault). "Never paid twice" lives in unique indexes
(a claim's uniqueness key, a payment's reference), never in check-then-insert."""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared import due_queue, keyset
from shared.audit import AuditTrail
from shared.errors import PreconditionFailed
from shared.history import HISTORY, Timeline
from shared.keyset import NEWEST_FIRST
from shared.projections import DOCUMENTS, DocumentProjection, MigrantProjection
from shared.uow import Tx

from . import domain
from .catalogue_store import VersionRepository

CLAIMS = "claims"

PAYMENT_REFERENCES = "payment_references"
# The queue's filters, each with its own index ending in the listing's order.
QUEUE_FILTERS = ("status", "type", "district", "assignee", "migrant_reference")


class DuplicateClaim(Exception):
    """The uniqueness key is taken (`key`), or, with `key` None, the drawn claim id."""

    def __init__(self, key: str | None):
        super().__init__(f"a claim with key {key} exists" if key else "the claim id is taken")
        self.key = key


class DuplicatePaymentReference(Exception):
    pass


def ensure_indexes(db: Database) -> None:
    claims = db[CLAIMS]
    # Sparse: types without a uniqueness rule (and withdrawn claims) carry no key.
    claims.create_index("unique_key", unique=True, sparse=True, name="never_paid_twice")
    claims.create_index(NEWEST_FIRST, name="newest_first")
    for field in QUEUE_FILTERS:
        claims.create_index([(field, ASCENDING), *NEWEST_FIRST], name=f"by_{field}")
    db[HISTORY].create_index([("claim_id", ASCENDING), ("occurred_at", DESCENDING), ("_id", DESCENDING)],
                             name="by_claim")
    db[DOCUMENTS].create_index([("owner", ASCENDING), ("doc_type", ASCENDING)], name="by_owner")
    ensure_clock_indexes(db)


class ClaimRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[CLAIMS]
        self.session = session

    def add(self, claim: dict) -> None:
        try:
            self.collection.insert_one(claim, session=self.session)
        except DuplicateKeyError as exc:
            key = (exc.details or {}).get("keyValue") or {}
            raise DuplicateClaim(None if "_id" in key else claim.get("unique_key")) from None

    def get(self, claim_id: str) -> dict | None:
        return self.collection.find_one({"_id": claim_id}, session=self.session)

    def holding(self, key: str) -> dict | None:
        return self.collection.find_one({"unique_key": key}, {"_id": 1, "status": 1}, session=self.session)

    def replace(self, claim: dict, expected_version: int) -> None:
        """Write the new state only if nobody changed the claim since it was read."""
        result = self.collection.replace_one({"_id": claim["_id"], "version": expected_version}, claim,
                                             session=self.session)
        if result.matched_count == 0:
            raise PreconditionFailed("The claim changed since you read it; fetch it again and reapply your change.")

    def open_of(self, migrant_reference: str) -> list[dict]:
        return list(self.collection.find({"migrant_reference": migrant_reference,
                                          "status": {"$in": list(domain.OPEN)}}, session=self.session))

    def open_for(self, migrant_reference: str, doc_type: str) -> list[dict]:
        return list(self.collection.find({"migrant_reference": migrant_reference, "status": {"$in": list(domain.OPEN)},
                                          "checklist.doc_types": doc_type}, session=self.session))

    def search(self, filters: dict, limit: int, after: list | None) -> list[dict]:
        return keyset.read(self.collection, self.page_queries(filters, after), NEWEST_FIRST, limit, self.session)

    def explain_search(self, filters: dict, after: list | None) -> list[dict]:
        """The winning plans of one page's queries (tests check that no filter scans the collection)."""
        return keyset.winning_plans(self.collection, self.page_queries(filters, after), NEWEST_FIRST)

    # Newest first, as registration pages: the rest of the cursor's instant, then older.
    page_queries = staticmethod(keyset.newest_first)


# -- stage clocks: the officers' queue by due date and the overdue timer (clocks.py) ---------
# The queue's filters by due date, each with its own index ending in that order; `overdue`
# is a range on due_order itself, so it rides on any of them.
DUE_QUEUE_FILTERS = ("status", "type", "district", "assignee")


def ensure_clock_indexes(db: Database) -> None:
    due_queue.ensure_indexes(db, CLAIMS, DUE_QUEUE_FILTERS)


CLOCK_FIELDS = ("clock", "due_order", "overdue", "overdue_stages")


def backfill_clocks(db: Database, batch_size: int = 500) -> int:
    """Claims written before the stage clocks get theirs, from when their status began (the
    timer runs this at start). Derived fields only, so the version (ETag) stays; a claim
    changed meanwhile got its clock from that change and is left alone."""
    from . import clocks
    claims, done, after = db[CLAIMS], 0, ""
    while True:
        rows = list(claims.find({"due_order": {"$exists": False}, "_id": {"$gt": after}})
                    .sort("_id", ASCENDING).limit(batch_size))
        for claim in rows:
            clocks.apply(claim, claim["stage_since"])
            fields = {name: claim[name] for name in (*CLOCK_FIELDS, "alarm_at") if name in claim}
            done += claims.update_one({"_id": claim["_id"], "version": claim["version"],
                                       "due_order": {"$exists": False}}, {"$set": fields}).modified_count
        if len(rows) < batch_size:
            return done
        after = rows[-1]["_id"]


class DueQueue(due_queue.DueQueue):
    """Claims by due date (then id), filtered, paged by (due_order, _id) keysets; the
    timer's alarms and conditional mark (shared/due_queue.py)."""
    collection_name = CLAIMS


class HistoryRepository(Timeline):
    """Each claim's history."""
    subject_field = "claim_id"


class PaymentReferences:
    """One row per disbursement reference: the unique index makes a second use a duplicate."""

    def __init__(self, db: Database, session=None):
        self.collection = db[PAYMENT_REFERENCES]
        self.session = session

    def add(self, reference: str, claim_id: str) -> None:
        try:
            self.collection.insert_one({"_id": reference, "claim_id": claim_id}, session=self.session)
        except DuplicateKeyError:
            raise DuplicatePaymentReference(reference) from None

    def get(self, reference: str) -> dict | None:
        return self.collection.find_one({"_id": reference}, session=self.session)


class ClaimsTx(Tx):
    """A transaction with the claims repositories bound to its session."""

    @property
    def claims(self) -> ClaimRepository:
        return ClaimRepository(self.db, self.session)

    @property
    def history(self) -> HistoryRepository:
        return HistoryRepository(self.db, self.session)

    @property
    def payment_references(self) -> PaymentReferences:
        return PaymentReferences(self.db, self.session)

    @property
    def migrants(self) -> MigrantProjection:
        return MigrantProjection(self.db, self.session)

    @property
    def documents(self) -> DocumentProjection:
        return DocumentProjection(self.db, self.session)

    @property
    def audit(self) -> AuditTrail:
        return AuditTrail(self.db, self.session)

    @property
    def due_queue(self) -> DueQueue:
        return DueQueue(self.db, self.session)

    @property
    def catalogue_versions(self) -> VersionRepository:
        return VersionRepository(self.db, self.session)


class Reads:
    """The same repositories outside any transaction, for queries."""

    def __init__(self, db: Database):
        self.db = db
        self.claims = ClaimRepository(db)
        self.history = HistoryRepository(db)
        self.migrants = MigrantProjection(db)
        self.documents = DocumentProjection(db)
        self.payment_references = PaymentReferences(db)
        self.due_queue = DueQueue(db)
