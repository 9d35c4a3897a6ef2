"""How a claim change is written: the new state, its event (checked against its contract
by tx.emit) and its history line, all in the caller's transaction, so the history is there
as soon as the change is."""
from __future__ import annotations

from . import clocks, domain


def save(tx, claim: dict, expected_version: int | None, event_type: str, **extra) -> None:
    clocks.apply(claim, claim["updated_at"])  # every write keeps the stage clock in step with the status
    if expected_version is None:
        tx.claims.add(claim)
    else:
        tx.claims.replace(claim, expected_version)
    publish(tx, event_type, claim, **extra)


def publish(tx, event_type: str, claim: dict, **extra) -> None:
    event = tx.emit(event_type, subject_type=domain.SUBJECT, subject_id=claim["_id"],
                    aggregate_version=claim["version"], data=domain.event_data(claim, **extra))
    tx.history.add(domain.history_entry(event))
