"""Keyset page queries (shared/keyset.py): plain index ranges, never an $or."""
from __future__ import annotations

from datetime import datetime, timezone

from shared import keyset

AT = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


def test_a_first_page_newest_first_is_the_filters_alone_as_a_new_query():
    filters = {"status": "open"}
    queries = keyset.newest_first(filters, None)
    assert queries == [{"status": "open"}] and queries[0] is not filters


def test_a_later_page_newest_first_is_the_rest_of_the_cursors_instant_then_older():
    assert keyset.newest_first({"status": "open"}, [AT, "C-9"]) == [
        {"status": "open", "created_at": AT, "_id": {"$lt": "C-9"}},
        {"status": "open", "created_at": {"$lt": AT}}]



def test_a_later_page_over_three_fields_is_each_tie_then_beyond():
    fields = ["occurred_at", "aggregate.version", "_id"]
    assert keyset.descending_after({"m": "PB-1"}, fields, None) == [{"m": "PB-1"}]
    assert keyset.descending_after({"m": "PB-1"}, fields, [AT, 3, "E-9"]) == [
        {"m": "PB-1", "occurred_at": AT, "aggregate.version": 3, "_id": {"$lt": "E-9"}},
        {"m": "PB-1", "occurred_at": AT, "aggregate.version": {"$lt": 3}},
        {"m": "PB-1", "occurred_at": {"$lt": AT}}]
