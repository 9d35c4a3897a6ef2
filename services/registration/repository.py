"""MongoDB adapters of the registration service: the migrant registry and each migrant's
history (written with the change it describes). Uniqueness lives in unique indexes,
never in check-then-insert."""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.audit import AuditTrail
from shared.errors import PreconditionFailed
from shared.history import HISTORY, Timeline
from shared.uow import Tx

MIGRANTS = "migrants"

# Searchable fields and their indexes; the listing sorts newest first.
SEARCH_FIELDS = ("passport_number", "nid", "birth_registration_number", "phone", "reference")
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]


class DuplicateIdentity(Exception):
    def __init__(self, field: str, value: str):
        super().__init__(f"{field} {value} is already registered")
        self.field, self.value = field, value


def ensure_indexes(db: Database) -> None:
    migrants = db[MIGRANTS]
    # Sparse: a migrant without a passport yet is not indexed, so absences never collide.
    for field in ("passport_number", "nid", "birth_registration_number"):
        migrants.create_index(field, unique=True, sparse=True, name=f"unique_{field}")
    migrants.create_index([("phone", ASCENDING), *NEWEST_FIRST], name="by_phone")
    migrants.create_index(NEWEST_FIRST, name="newest_first")
    db[HISTORY].create_index([("reference", ASCENDING), ("occurred_at", DESCENDING), ("_id", DESCENDING)],
                             name="by_migrant")


class MigrantRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[MIGRANTS]
        self.session = session

    def add(self, migrant: dict) -> None:
        try:
            self.collection.insert_one(migrant, session=self.session)
        except DuplicateKeyError as exc:
            key = (exc.details or {}).get("keyValue") or {"_id": migrant["_id"]}
            field, value = next(iter(key.items()))
            raise DuplicateIdentity(field, value) from None

    def get(self, reference: str) -> dict | None:
        return self.collection.find_one({"_id": reference}, session=self.session)

    def find_by(self, field: str, value: str) -> dict | None:
        return self.collection.find_one({field: value}, session=self.session)

    def replace(self, migrant: dict, expected_version: int) -> None:
        """Write the new state only if nobody changed the record since it was read."""
        try:
            result = self.collection.replace_one({"_id": migrant["_id"], "version": expected_version}, migrant,
                                                 session=self.session)
        except DuplicateKeyError as exc:
            field, value = next(iter(((exc.details or {}).get("keyValue") or {"?": "?"}).items()))
            raise DuplicateIdentity(field, value) from None
        if result.matched_count == 0:
            raise PreconditionFailed("The record changed since you read it; fetch it again and reapply your change.")

    def search(self, filters: dict, limit: int, after: list | None) -> list[dict]:
        found: list[dict] = []
        for query in self.page_queries(filters, after):
            if len(found) >= limit:
                break
            found += self.collection.find(query, session=self.session).sort(NEWEST_FIRST).limit(limit - len(found))
        return found

    @staticmethod
    def page_queries(filters: dict, after: list | None) -> list[dict]:
        """The queries of one page, newest first: after a cursor, the rest of its instant,
        then everything older. Two plain ranges: one $or of both made a later page of
        the unfiltered listing a collection scan (bench/scaling.py explains these)."""
        if not after:
            return [dict(filters)]
        created_at, ref = after
        same_instant = {**filters, "created_at": created_at,
                        "_id": {"$lt": ref, **({"$eq": filters["_id"]} if "_id" in filters else {})}}
        return [same_instant, {**filters, "created_at": {"$lt": created_at}}]


class HistoryRepository(Timeline):
    """Each migrant's registration history."""
    subject_field = "reference"


class RegistrationTx(Tx):
    """A transaction with the registration repositories bound to its session."""

    @property
    def migrants(self) -> MigrantRepository:
        return MigrantRepository(self.db, self.session)

    @property
    def history(self) -> HistoryRepository:
        return HistoryRepository(self.db, self.session)

    @property
    def audit(self) -> AuditTrail:
        return AuditTrail(self.db, self.session)
