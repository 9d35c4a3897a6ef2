"""How a directory entry change is written: the entry, its `directory.<kind>.changed` event
(checked against its contract by tx.emit) and its audit record, in the caller's transaction."""
from __future__ import annotations

from shared.auth import Principal

from . import domain


def save(tx, kind: str, record: dict, expected_version: int | None, principal: Principal) -> None:
    """A new entry (expected_version None) or the next version of one, published and audited."""
    entries = tx.entries(kind)
    if expected_version is None:
        entries.add(record)
        change = domain.CREATED
    else:
        entries.replace(record, expected_version)
        change = domain.REPLACED
    actor = principal.as_actor()
    tx.emit(domain.EVENT_TYPES[kind], subject_type=kind, subject_id=record["_id"],
            aggregate_version=record["version"], data=domain.event_data(kind, record, change, actor))
    tx.audit.record(principal, change, kind, record["_id"], version=record["version"])
