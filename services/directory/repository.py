"""MongoDB adapters of the directory service: one collection per kind of entry, each keyed
by the entry's id (a licence, a country code, a slug).

Agencies page in licence order (RL-9 before RL-10: by the number, `licence_no`), each
filter with an index ending in that order; a name is found by the beginnings of its
words (`terms`, both languages). The other kinds are short lists, read whole."""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared import keyset
from shared.audit import AuditTrail
from shared.errors import PreconditionFailed
from shared.uow import Tx

from . import domain

COLLECTIONS = {domain.AGENCY: "agencies", domain.COUNTRY: "countries", domain.LINK: "links",
               domain.TOPIC: "topics"}
IN_LICENCE_ORDER = [("licence_no", ASCENDING)]
IN_GUIDE_ORDER = [("position", ASCENDING), ("_id", ASCENDING)]
# The short lists are read whole; this only bounds a mistake.
MAX_LIST = 1000


class CreatedMeanwhile(Exception):
    """Another request created the entry between our read and our insert."""


def ensure_indexes(db: Database) -> None:
    agencies = db[COLLECTIONS[domain.AGENCY]]
    agencies.create_index(IN_LICENCE_ORDER, unique=True, name="in_licence_order")
    agencies.create_index([("status", ASCENDING), *IN_LICENCE_ORDER], name="by_status")
    agencies.create_index([("terms", ASCENDING), *IN_LICENCE_ORDER], name="by_name_word")
    agencies.create_index([("status", ASCENDING), ("terms", ASCENDING), *IN_LICENCE_ORDER],
                          name="by_status_and_name_word")
    db[COLLECTIONS[domain.TOPIC]].create_index(IN_GUIDE_ORDER, name="in_guide_order")
    db[COLLECTIONS[domain.TOPIC]].create_index([("kind", ASCENDING), *IN_GUIDE_ORDER], name="by_kind")


class Entries:
    """The entries of one kind."""

    def __init__(self, db: Database, kind: str, session=None):
        self.kind = kind
        self.collection = db[COLLECTIONS[kind]]
        self.session = session

    def get(self, entry_id: str) -> dict | None:
        return self.collection.find_one({"_id": entry_id}, session=self.session)

    def add(self, record: dict) -> None:
        try:
            self.collection.insert_one(record, session=self.session)
        except DuplicateKeyError:
            raise CreatedMeanwhile() from None

    def replace(self, record: dict, expected_version: int) -> None:
        """Write the new version only if nobody changed the entry since it was read."""
        result = self.collection.replace_one({"_id": record["_id"], "version": expected_version}, record,
                                             session=self.session)
        if result.matched_count == 0:
            raise PreconditionFailed(f"The {domain.NOUNS[self.kind]} changed since you read it; fetch it again "
                                     "and reapply your change.")

    def any(self) -> bool:
        return self.collection.find_one({}, {"_id": 1}, session=self.session) is not None

    def all(self, filters: dict | None = None) -> list[dict]:
        order = IN_GUIDE_ORDER if self.kind == domain.TOPIC else [("_id", ASCENDING)]
        return list(self.collection.find(filters or {}, session=self.session).sort(order).limit(MAX_LIST))

    # -- agencies ---------------------------------------------------------------------
    @staticmethod
    def agency_query(status: str | None, words: list[str], after: int | None) -> tuple[dict, list[str]]:
        """Equalities and one range, so one index serves it (SecantusDB plans none for an
        `$all`): the status, the longest word searched for (a beginning of a word of the name,
        domain.search_terms) and the licence numbers after the cursor's. The other words are
        checked on what it finds."""
        query: dict = {}
        if status:
            query["status"] = status
        words = sorted({word[:domain.MAX_TERM] for word in words}, key=lambda w: (-len(w), w))
        if words:
            query["terms"] = words[0]
        if after is not None:
            query["licence_no"] = {"$gt": after}
        return query, words[1:]

    def agency_page(self, status: str | None, words: list[str], after: int | None, limit: int) -> list[dict]:
        query, others = self.agency_query(status, words, after)
        if not others:
            return keyset.read(self.collection, [query], IN_LICENCE_ORDER, limit, session=self.session)
        found = []
        for row in self.collection.find(query, session=self.session).sort(IN_LICENCE_ORDER):
            if set(others) <= set(row["terms"]):
                found.append(row)
                if len(found) == limit:
                    break
        return found

    def explain_agency_page(self, status: str | None, words: list[str], after: int | None) -> list[dict]:
        """The winning plan of a page's query (tests check that no filter scans the collection)."""
        return keyset.winning_plans(self.collection, [self.agency_query(status, words, after)[0]], IN_LICENCE_ORDER)


class DirectoryTx(Tx):
    """A transaction with the directory's collections bound to its session."""

    def entries(self, kind: str) -> Entries:
        return Entries(self.db, kind, self.session)

    @property
    def audit(self) -> AuditTrail:
        return AuditTrail(self.db, self.session)


class Reads:
    """The same collections outside any transaction, for the public reads."""

    def __init__(self, db: Database):
        self.db = db

    def entries(self, kind: str) -> Entries:
        return Entries(self.db, kind)
