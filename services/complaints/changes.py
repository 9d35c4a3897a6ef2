"""How a complaint change is written: the new state (its clocks kept in step), its event
(checked against its contract by tx.emit) and its history line, all in the caller's
transaction, so the history is there as soon as the change is."""
from __future__ import annotations

from . import clocks, domain


def save(tx, complaint: dict, expected_version: int | None, event_type: str, **extra) -> None:
    clocks.apply(complaint, complaint["updated_at"])  # every write keeps the clocks in step
    if expected_version is None:
        tx.complaints.add(complaint)
    else:
        tx.complaints.replace(complaint, expected_version)
    publish(tx, event_type, complaint, **extra)


def publish(tx, event_type: str, complaint: dict, **extra) -> None:
    """`extra`: the fields of hearing, referral, award or overdue events (their event_data)."""
    event = tx.emit(event_type, subject_type=domain.SUBJECT, subject_id=complaint["_id"],
                    aggregate_version=complaint["version"], data=domain.event_data(complaint, **extra))
    tx.history.add(domain.history_entry(event))
