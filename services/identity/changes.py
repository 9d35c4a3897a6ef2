"""How an account change is written: the new state, its event (checked against its
contract by tx.emit) and its audit record, all in the caller's transaction."""
from __future__ import annotations

from shared.auth import Principal

from . import domain


def save(tx, account: dict, expected_version: int | None, event_type: str, actor: Principal, **extra) -> None:
    if expected_version is None:
        tx.staff.add(account)
    else:
        tx.staff.replace(account, expected_version)
    publish(tx, event_type, account, actor, **extra)


def publish(tx, event_type: str, account: dict, actor: Principal, **extra) -> None:
    tx.emit(event_type, subject_type=domain.SUBJECT, subject_id=account["_id"], aggregate_version=account["version"],
            data=domain.event_data(account, **extra))
    audit(tx, actor, event_type.rsplit(".", 1)[-1], account["_id"], **extra)


def audit(tx, actor: Principal, action: str, username: str, **details) -> None:
    tx.audit.record(actor, action, domain.SUBJECT, username, **{k: v for k, v in details.items() if v is not None})
