"""How an account change is written: the new state, its event (checked against its
contract by tx.emit) and its audit record, all in the caller's transaction."""
from __future__ import annotations

import uuid

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


def publish_unknown_account(tx, actor: Principal) -> None:
    """A sign-in for a username that names no account: published and audited under an id of
    its own, never under the name typed (it is sometimes a password)."""
    attempt = uuid.uuid4().hex
    tx.emit(domain.SIGN_IN_FAILED, subject_type=domain.UNKNOWN_SUBJECT, subject_id=attempt, aggregate_version=1,
            data={"reason": "unknown_account"})
    tx.audit.record(actor, "sign_in_failed", domain.UNKNOWN_SUBJECT, attempt, reason="unknown_account")


def audit(tx, actor: Principal, action: str, username: str, **details) -> None:
    tx.audit.record(actor, action, domain.SUBJECT, username, **{k: v for k, v in details.items() if v is not None})
