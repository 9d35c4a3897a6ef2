"""Narrowing a record for someone who may see part of it (a family member's view of a claim
or complaint): keep named fields, drop actor ids at any depth. Each service says what it keeps."""
from __future__ import annotations

# A history line for someone outside the office: what happened and when, never who did it.
HISTORY_LINE = ("event_id", "type", "status", "occurred_at", "summary", "summary_bn")


def only(record: dict | None, keep) -> dict | None:
    if record is None:
        return None
    return {k: record[k] for k in keep if k in record}


def without(value, keys: frozenset[str]):
    """`value` with every key in `keys` removed from the dicts it holds, at any depth."""
    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without(v, keys) for v in value]
    return value


def family_history_line(entry: dict) -> dict:
    return only(entry, HISTORY_LINE)
