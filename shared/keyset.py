"""Keyset pages read as plain index ranges (shared/pagination.py makes their cursors).

A later page is "the rest of the cursor's instant, then beyond it": two queries, each one
index range, read in turn. Never one `$or`: under a sort, SecantusDB scans for it.
"""
from __future__ import annotations

from pymongo import DESCENDING
from pymongo.collection import Collection

NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]


def newest_first(filters: dict, after: list | None) -> list[dict]:
    """The queries of a page newest first by (created_at, _id), after the position `after`."""
    if not after:
        return [dict(filters)]
    created_at, last_id = after
    return [{**filters, "created_at": created_at, "_id": {"$lt": last_id}},
            {**filters, "created_at": {"$lt": created_at}}]


def descending_after(filters: dict, fields: list[str], after: list | None) -> list[dict]:
    """The queries of a page sorted descending by `fields` (the last one unique, e.g. _id),
    after the position `after` (one value per field): for (a, b, _id), the rest of a's and
    b's tie, then the rest of a's tie, then beyond a; each an equality prefix and one range."""
    if not after:
        return [dict(filters)]
    queries = []
    for n in range(len(fields) - 1, -1, -1):
        query = {**filters, **dict(zip(fields[:n], after[:n]))}
        query[fields[n]] = {"$lt": after[n]}
        queries.append(query)
    return queries


def read(collection: Collection, queries: list[dict], sort: list, limit: int, session=None,
         projection: dict | None = None) -> list[dict]:
    """Up to `limit` rows of `queries` in turn, each sorted by `sort` (a page's order)."""
    found: list[dict] = []
    for query in queries:
        if len(found) >= limit:
            break
        found += collection.find(query, projection, session=session).sort(sort).limit(limit - len(found))
    return found


def winning_plans(collection: Collection, queries: list[dict], sort: list) -> list[dict]:
    """The winning plan of each query (tests check that no filter scans the collection)."""
    return [collection.find(query).sort(sort).limit(21).explain()["queryPlanner"]["winningPlan"]
            for query in queries]


def winning_plan(answer):
    """The winning plan wherever an explain answer nests it (an aggregate's cursor stage, a
    find's queryPlanner), or None."""
    if isinstance(answer, dict):
        if "winningPlan" in answer:
            return answer["winningPlan"]
        answer = list(answer.values())
    if isinstance(answer, list):
        for item in answer:
            found = winning_plan(item)
            if found is not None:
                return found
    return None
