"""The legal aid staff's queue of complaints by due date (clocks.py's `due_order`, then id),
filtered and paged by (due_order, _id) keysets, and the overdue timer's page of alarms and its
conditional mark (both as claims', from shared/due_queue.py).

Every filter the queue allows has its own index ending in the queue's order, and `overdue`
is a range on due_order itself, so it rides on any of them: no page scans the collection.

Restricted (confidential) complaints: a staff member who is not an admin sees the open ones
and the restricted ones assigned to them (`visible_to`, the service's spelling of the same
rule). That `$or` runs as one query per branch (an `$or` under a sort would scan), merged in
order. A query's index serves one filter, the most selective given (FILTER_PRIORITY; the
restricted branch's assignee first, so a staff member's restricted complaints are read by
their assignee); the other conditions, `restricted` among them, are checked here on the rows
read, reading on in growing batches. Restricted complaints are few, so the open branch
rarely reads past its first batch; the restricted branch reads by (assignee, restricted),
so only the staff member's own restricted complaints.
"""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.database import Database

from shared import due_queue, keyset
from shared.due_queue import DUE_FIRST

COMPLAINTS = "complaints"
# The queue's filters, most selective first: the index serves the first one given.
# `agency_licences` is one licence, matched in the array (a multikey index).
FILTER_PRIORITY = ("assignee", "agency_licences", "district", "category", "status")
# A filter the index of another serves too: a staff member's restricted complaints.
SERVED_WITH = {"assignee": "restricted"}


def ensure_indexes(db: Database) -> None:
    due_queue.ensure_indexes(db, COMPLAINTS, FILTER_PRIORITY)
    for field, companion in SERVED_WITH.items():
        db[COMPLAINTS].create_index([(field, ASCENDING), (companion, ASCENDING), *DUE_FIRST],
                                    name=f"due_by_{field}_{companion}")


def visible_to(principal) -> dict:
    """The queue filter that keeps restricted complaints from staff they are not assigned to
    (admins see all). Migrants have no queue: the service refuses them before this."""
    if principal.role == "admin":
        return {}
    return {"$or": [{"restricted": False}, {"restricted": True, "assignee": principal.subject}]}


class DueQueue(due_queue.DueQueue):
    """Complaints by due date (then id), filtered, paged by (due_order, _id) keysets; the
    timer's alarms and conditional mark as every service's (shared/due_queue.py)."""
    collection_name = COMPLAINTS

    def page(self, filters: dict, overdue_at, limit: int, after: list | None) -> list[dict]:
        """`overdue_at`: (True, now) keeps the complaints due by `now`, (False, now) the
        others, None all; `after` is the last row's [due_order, _id] of the page before.
        `filters`: the queue's filters, and `visible_to`'s `$or` for staff."""
        found: dict[str, dict] = {}
        for branch in self.branches(filters):
            indexed, checked = self.split(branch)
            for row in self._branch_page(indexed, checked, overdue_at, limit, after):
                found[row["_id"]] = row  # a row both branches keep counts once
        return sorted(found.values(), key=lambda row: (row["due_order"], row["_id"]))[:limit]

    def _branch_page(self, indexed: dict, checked: dict, overdue_at, limit: int, after) -> list[dict]:
        """Up to `limit` rows of one branch, reading on past rows the checked filters drop, in
        batches four times larger each time (few round trips however many are dropped)."""
        rows: list[dict] = []
        batch = limit if not checked else max(limit * 4, 100)
        while len(rows) < limit:
            read = keyset.read(self.collection, self.page_queries(indexed, overdue_at, after), DUE_FIRST, batch,
                               self.session)
            rows += [row for row in read if _matches(row, checked)]
            if len(read) < batch:
                break
            after, batch = [read[-1]["due_order"], read[-1]["_id"]], batch * 4
        return rows[:limit]

    def explain(self, filters: dict, overdue_at, after: list | None) -> list[dict]:
        """The winning plans of one page's queries (tests check that no filter scans the collection)."""
        queries = [query for branch in self.branches(filters)
                   for query in self.page_queries(self.split(branch)[0], overdue_at, after)]
        return keyset.winning_plans(self.collection, queries, DUE_FIRST)

    @staticmethod
    def branches(filters: dict) -> list[dict]:
        """The filters as plain equality queries: one per branch of a top-level `$or`. Beside
        an open-complaints branch the others need only the restricted ones (the service's
        {"assignee": user} reads as visible_to's). A branch that contradicts a filter
        (another assignee) is left out: it keeps nothing."""
        if "$or" not in filters:
            return [dict(filters)]
        rest, alternatives = {k: v for k, v in filters.items() if k != "$or"}, filters["$or"]
        if {"restricted": False} in alternatives:
            alternatives = [b if b == {"restricted": False} else {"restricted": True, **b} for b in alternatives]
        return [{**rest, **branch} for branch in alternatives if all(rest.get(k, v) == v for k, v in branch.items())]

    @staticmethod
    def split(filters: dict) -> tuple[dict, dict]:
        """(what the index serves: the first filter by priority, what is checked on the rows read)."""
        lead = next((f for f in FILTER_PRIORITY if f in filters), None)
        served = {lead, SERVED_WITH.get(lead)} if lead else set()
        indexed = {k: v for k, v in filters.items() if k in served}
        return indexed, {k: v for k, v in filters.items() if k not in served}


def _matches(row: dict, checked: dict) -> bool:
    """The queue's equality filters on a row read (an array field holds the value)."""
    for field, wanted in checked.items():
        value = row.get(field)
        if not (value == wanted or (isinstance(value, list) and wanted in value)):
            return False
    return True
