"""A service's queue of records by due date (its clocks' `due_order`, then _id), paged by
(due_order, _id) keysets, and the overdue timer's side of it: the page of alarms due and the
conditional mark (shared/timers.py runs them).

A service subclasses DueQueue to name its collection, and sets up its indexes with
`ensure_indexes`: each filter the queue allows with its own index ending in the queue's
order, so no page scans; `overdue` is a range on due_order itself and rides on any of them.
"""
from __future__ import annotations

from collections import Counter

from pymongo import ASCENDING
from pymongo.database import Database

from shared import keyset

DUE_FIRST = [("due_order", ASCENDING), ("_id", ASCENDING)]
ALARMS = [("alarm_at", ASCENDING), ("_id", ASCENDING)]


def ensure_indexes(db: Database, collection: str, filters) -> None:
    records = db[collection]
    records.create_index(DUE_FIRST, name="due_first")
    for field in filters:
        records.create_index([(field, ASCENDING), *DUE_FIRST], name=f"due_by_{field}")
    # Sparse: only records whose running clock is not yet marked overdue carry an alarm.
    records.create_index(ALARMS, name="alarms", sparse=True)


def page_queries(filters: dict, overdue_at, after: list | None) -> list[dict]:
    """`overdue_at`: (True, now) keeps the records due by `now`, (False, now) the others,
    None all. A first page is one range; a later page is the rest of the cursor's due date,
    then everything due later: two plain index ranges (an $or would scan)."""
    low, high = None, None  # due_order > low, due_order <= high
    if overdue_at is not None:
        overdue, now = overdue_at
        low, high = (None, now) if overdue else (now, None)
    first: list[dict] = []
    if after:
        due_order, last_id = after
        if (low is None or due_order > low) and (high is None or due_order <= high):
            first = [{**filters, "due_order": due_order, "_id": {"$gt": last_id}}]
        low = due_order if low is None else max(low, due_order)
    due = {**({"$gt": low} if low is not None else {}), **({"$lte": high} if high is not None else {})}
    return first + [{**filters, **({"due_order": due} if due else {})}]


class DueQueue:
    """Records by due date (then id), filtered, paged by (due_order, _id) keysets."""
    collection_name: str  # e.g. "claims"

    def __init__(self, db: Database, session=None):
        self.collection = db[self.collection_name]
        self.session = session

    page_queries = staticmethod(page_queries)

    def page(self, filters: dict, overdue_at, limit: int, after: list | None) -> list[dict]:
        """Up to `limit` records matching `filters` (equalities one index serves), due first."""
        return keyset.read(self.collection, self.page_queries(filters, overdue_at, after), DUE_FIRST, limit,
                           self.session)

    def explain(self, filters: dict, overdue_at, after: list | None) -> list[dict]:
        """The winning plans of one page's queries (tests check that no filter scans the collection)."""
        return keyset.winning_plans(self.collection, self.page_queries(filters, overdue_at, after), DUE_FIRST)

    def alarms(self, now, limit: int, after: list | None) -> list[dict]:
        """Records with a running clock due by `now` and not marked yet, by alarm (index
        `alarms`): the timer's page, `after` the keyset where its last full page stopped."""
        if after:
            alarm_at, last_id = after
            queries = [{"alarm_at": alarm_at, "_id": {"$gt": last_id}},
                       {"alarm_at": {"$gt": alarm_at, "$lte": now}}]
        else:
            queries = [{"alarm_at": {"$lte": now}}]
        return keyset.read(self.collection, queries, ALARMS, limit, self.session, {"_id": 1, "alarm_at": 1})

    def counts(self, statuses, now) -> tuple[dict[str, int], dict[str, int]]:
        """How many records are in each of `statuses`, and how many of those are due by `now`
        (the metrics' open and overdue cases): a count per status by the status index, and
        the overdue rows alone by the `due_first` range, never the whole collection."""
        *by_status, overdue = self._count_queries(statuses, now)
        in_status = {status: self.collection.count_documents(query, session=self.session)
                     for status, query in zip(statuses, by_status)}
        due = Counter(row["status"] for row in self.collection.find(overdue, {"status": 1}, session=self.session))
        return in_status, {status: due.get(status, 0) for status in statuses}

    @staticmethod
    def _count_queries(statuses, now) -> list[dict]:
        return [*({"status": status} for status in statuses), {"due_order": {"$lte": now}}]

    def explain_counts(self, statuses, now) -> list[dict]:
        """The winning plans of `counts`' queries (tests check that none scans the collection)."""
        return [self.collection.find(query).explain()["queryPlanner"]["winningPlan"]
                for query in self._count_queries(statuses, now)]

    def mark(self, record: dict, expected_version: int, stage: str) -> bool:
        """Write the record marked overdue only if nobody changed it and that stage was not
        marked: the database decides, so two timers cannot both publish."""
        result = self.collection.replace_one({"_id": record["_id"], "version": expected_version,
                                              "overdue_stages": {"$ne": stage}}, record, session=self.session)
        return result.matched_count == 1
