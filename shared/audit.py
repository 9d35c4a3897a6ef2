"""Audit trail: who did what to which record, kept in the service's own database.

Reads by staff are recorded before the data is returned; if the audit record cannot be
written the read fails, so there is no unaudited access.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from shared import context
from shared.auth import Principal

AUDIT = "audit"


class AuditTrail:
    def __init__(self, db: Database, session=None):
        self.collection = db[AUDIT]
        self.session = session  # inside a transaction, the record commits or aborts with it

    def ensure_indexes(self) -> None:
        self.collection.create_index([("subject_id", ASCENDING), ("at", DESCENDING)], name="by_subject")

    def record(self, actor: Principal, action: str, subject_type: str, subject_id: str, **details) -> None:
        trace = context.current()
        self.collection.insert_one({
            "at": datetime.now(timezone.utc), "actor": actor.as_actor(), "action": action,
            "subject_type": subject_type, "subject_id": subject_id, "details": details,
            "request_id": trace.request_id, "correlation_id": trace.correlation_id,
        }, session=self.session)

    def for_subject(self, subject_id: str, limit: int = 50, before=None) -> list[dict]:
        query: dict = {"subject_id": subject_id}
        if before is not None:
            query["_id"] = {"$lt": before}
        return list(self.collection.find(query).sort([("_id", DESCENDING)]).limit(limit))
