"""PLACEHOLDER until the clocks work package (branch wp/complaints-clocks) is merged: its
due_queue.py replaces this file. Complaints by due date (then id), filtered, paged by
(due_order, _id) keysets, as services/claims/repository.py DueQueue pages claims; with the
placeholder clocks nothing is ever due, so the queue is in complaint-number order."""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.database import Database

COMPLAINTS = "complaints"
DUE_FIRST = [("due_order", ASCENDING), ("_id", ASCENDING)]
FILTERS = ("status", "category", "district", "assignee", "agency_licences")


def ensure_indexes(db: Database) -> None:
    complaints = db[COMPLAINTS]
    complaints.create_index(DUE_FIRST, name="due_first")
    complaints.create_index([("restricted", ASCENDING), *DUE_FIRST], name="due_by_restricted")
    for field in FILTERS:
        complaints.create_index([(field, ASCENDING), *DUE_FIRST], name=f"due_by_{field}")
        complaints.create_index([(field, ASCENDING), ("restricted", ASCENDING), *DUE_FIRST],
                                name=f"due_by_{field}_seen_by_staff")
    complaints.create_index([("alarm_at", ASCENDING), ("_id", ASCENDING)], name="alarms", sparse=True)


def branches(filters: dict) -> list[dict]:
    """`filters` with its top-level $or as separate queries; a branch that contradicts a
    filter (another assignee) matches nothing and is left out."""
    rest = {k: v for k, v in filters.items() if k != "$or"}
    return [{**rest, **branch} for branch in filters.get("$or", [{}])
            if all(rest.get(k, v) == v for k, v in branch.items())]


class DueQueue:
    def __init__(self, db: Database, session=None):
        self.collection = db[COMPLAINTS]
        self.session = session

    def page(self, filters: dict, overdue_at, limit: int, after: list | None) -> list[dict]:
        """A top-level `$or` (who may see a restricted complaint) is one query per branch,
        merged here: SecantusDB answers an $or with a sort by scanning the collection."""
        found: dict[str, dict] = {}
        for branch in branches(filters):
            rows: list[dict] = []
            for query in self.page_queries(branch, overdue_at, after):
                if len(rows) >= limit:
                    break
                rows += self.collection.find(query, session=self.session).sort(DUE_FIRST).limit(limit - len(rows))
            found.update((row["_id"], row) for row in rows)
        return sorted(found.values(), key=lambda c: (c["due_order"], c["_id"]))[:limit]

    def explain(self, filters: dict, overdue_at, after: list | None) -> list[dict]:
        return [self.collection.find(query).sort(DUE_FIRST).limit(21).explain()["queryPlanner"]["winningPlan"]
                for branch in branches(filters) for query in self.page_queries(branch, overdue_at, after)]

    @staticmethod
    def page_queries(filters: dict, overdue_at, after: list | None) -> list[dict]:
        low, high = None, None  # due_order > low, due_order <= high
        if overdue_at is not None:
            overdue, now = overdue_at
            low, high = (None, now) if overdue else (now, None)
        first: list[dict] = []
        if after:
            due_order, complaint_id = after
            if (low is None or due_order > low) and (high is None or due_order <= high):
                first = [{**filters, "due_order": due_order, "_id": {"$gt": complaint_id}}]
            low = due_order if low is None else max(low, due_order)
        due = {**({"$gt": low} if low is not None else {}), **({"$lte": high} if high is not None else {})}
        return first + [{**filters, **({"due_order": due} if due else {})}]

    def alarms(self, now, limit: int, after: list | None) -> list[dict]:
        return []  # the placeholder clocks set no alarm

    def mark(self, complaint: dict, expected_version: int, stage: str) -> bool:
        result = self.collection.replace_one({"_id": complaint["_id"], "version": expected_version,
                                              "overdue_stages": {"$ne": stage}}, complaint, session=self.session)
        return result.matched_count == 1
