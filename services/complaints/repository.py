"""MongoDB adapters of the complaints service: complaints, their history (written with the
change), and what the service learned from other services' events: migrants from
registration, document owners from the vault, claims (for linking) from claims.

Lists page newest first by (created_at, _id) keysets, each filter with its own index
ending in that order; the queue by due date is due_queue.py."""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared import keyset
from shared.audit import AuditTrail
from shared.errors import PreconditionFailed
from shared.history import Timeline
from shared.keyset import NEWEST_FIRST
from shared.projections import DOCUMENTS, DocumentProjection, MigrantProjection, Projection
from shared.uow import Tx

from . import due_queue

COMPLAINTS = "complaints"
HISTORY = "complaint_history"
CLAIMS = "claims"
# The list's filters (API name -> stored field), each with its own index ending in the list's order.
LIST_FILTERS = {"status": "status", "category": "category", "district": "district", "assignee": "assignee",
                "agency_licence": "agency_licences", "sub_agent_phone": "respondents.phone",
                "migrant_reference": "complainant.migrant_reference", "receipt_number": "receipt_number"}


class DuplicateComplaint(Exception):
    """The drawn complaint id or receipt number is taken: draw again."""


def ensure_indexes(db: Database) -> None:
    complaints = db[COMPLAINTS]
    complaints.create_index("receipt_number", unique=True, name="one_receipt_number")
    complaints.create_index(NEWEST_FIRST, name="newest_first")
    # A filter alone (admins), and with `restricted` (staff: service._alternatives).
    for field in LIST_FILTERS.values():
        complaints.create_index([(field, ASCENDING), *NEWEST_FIRST], name=f"by_{field}")
        complaints.create_index([(field, ASCENDING), ("restricted", ASCENDING), *NEWEST_FIRST],
                                name=f"by_{field}_seen_by_staff")
    complaints.create_index([("restricted", ASCENDING), *NEWEST_FIRST], name="by_restricted")
    db[HISTORY].create_index([("complaint_id", ASCENDING), ("occurred_at", DESCENDING), ("_id", DESCENDING)],
                             name="by_complaint")
    db[DOCUMENTS].create_index([("owner", ASCENDING)], name="by_owner")


class ComplaintRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[COMPLAINTS]
        self.session = session

    def add(self, complaint: dict) -> None:
        try:
            self.collection.insert_one(complaint, session=self.session)
        except DuplicateKeyError:
            raise DuplicateComplaint() from None

    def get(self, complaint_id: str) -> dict | None:
        return self.collection.find_one({"_id": complaint_id}, session=self.session)

    def replace(self, complaint: dict, expected_version: int) -> None:
        """Write the new state only if nobody changed the complaint since it was read."""
        result = self.collection.replace_one({"_id": complaint["_id"], "version": expected_version}, complaint,
                                             session=self.session)
        if result.matched_count == 0:
            raise PreconditionFailed("The complaint changed since you read it; fetch it again and reapply "
                                     "your change.")

    def search(self, alternatives: list[tuple[dict, dict]], limit: int, after: list | None) -> list[dict]:
        """Newest first, the complaints matching any of `alternatives`: each a query in stored
        field names that one index serves (SecantusDB plans an index only for a query whose
        fields an index's prefix covers, and scans for an $or), and conditions checked here
        on what it returns (few rows: a migrant's own complaints, restricted ones)."""
        found: dict[str, dict] = {}
        for query, residual in alternatives:
            rows: list[dict] = []
            for page_query in self.page_queries(query, after):
                if len(rows) >= limit:
                    break
                cursor = self.collection.find(page_query, session=self.session).sort(NEWEST_FIRST)
                for row in cursor if residual else cursor.limit(limit - len(rows)):
                    if matches(row, residual):
                        rows.append(row)
                        if len(rows) >= limit:
                            break
            found.update((row["_id"], row) for row in rows)
        return sorted(found.values(), key=lambda c: (c["created_at"], c["_id"]), reverse=True)[:limit]

    def explain_search(self, query: dict, after: list | None) -> list[dict]:
        """The winning plans of one page's queries (tests check that no filter scans the collection)."""
        return keyset.winning_plans(self.collection, self.page_queries(query, after), NEWEST_FIRST)

    # Newest first: the rest of the cursor's instant, then older (two index ranges, no $or).
    page_queries = staticmethod(keyset.newest_first)


def matches(complaint: dict, conditions: dict) -> bool:
    """Equality on dotted paths, through lists, as MongoDB matches it."""
    return all(value in _values(complaint, path.split(".")) for path, value in conditions.items())


def _values(node, parts: list[str]) -> list:
    if isinstance(node, list):
        return [v for item in node for v in _values(item, parts)] + ([node] if not parts else [])
    if not parts:
        return [node]
    return _values(node.get(parts[0]), parts[1:]) if isinstance(node, dict) else []


class HistoryRepository(Timeline):
    """Each complaint's history, in its own collection."""
    subject_field = "complaint_id"
    collection_name = HISTORY


class ClaimProjection(Projection):
    """Which welfare claims exist and whose they are, for linking a complaint to one."""
    collection_name = CLAIMS


class ComplaintsTx(Tx):
    """A transaction with the complaints repositories bound to its session."""

    @property
    def complaints(self) -> ComplaintRepository:
        return ComplaintRepository(self.db, self.session)

    @property
    def history(self) -> HistoryRepository:
        return HistoryRepository(self.db, self.session)

    @property
    def migrants(self) -> MigrantProjection:
        return MigrantProjection(self.db, self.session)

    @property
    def documents(self) -> DocumentProjection:
        return DocumentProjection(self.db, self.session)

    @property
    def claims(self) -> ClaimProjection:
        return ClaimProjection(self.db, self.session)

    @property
    def audit(self) -> AuditTrail:
        return AuditTrail(self.db, self.session)

    @property
    def due_queue(self) -> due_queue.DueQueue:
        return due_queue.DueQueue(self.db, self.session)


class Reads:
    """The same repositories outside any transaction, for queries."""

    def __init__(self, db: Database):
        self.db = db
        self.complaints = ComplaintRepository(db)
        self.history = HistoryRepository(db)
        self.migrants = MigrantProjection(db)
        self.documents = DocumentProjection(db)
        self.claims = ClaimProjection(db)
        self.due_queue = due_queue.DueQueue(db)
