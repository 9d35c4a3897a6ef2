"""Staff accounts without I/O: what an account holds, the lockout rule, and what each
event about an account carries (never a password or a hash)."""
from __future__ import annotations

from datetime import datetime, timedelta

from shared.auth import STAFF

SUBJECT = "staff"
# The subject of a sign-in failure for a username that names no account: one id per attempt.
UNKNOWN_SUBJECT = "unknown_account"
ACTIVE, DEACTIVATED = "active", "deactivated"

CREATED = "identity.staff.created"
DEACTIVATED_EVENT = "identity.staff.deactivated"
PASSWORD_CHANGED = "identity.staff.password_changed"
PASSWORD_RESET = "identity.staff.password_reset"
SIGNED_IN = "identity.staff.signed_in"
SIGN_IN_FAILED = "identity.staff.sign_in_failed"
LOCKED = "identity.staff.locked"
UNLOCKED = "identity.staff.unlocked"
STAFF_EVENTS = (CREATED, DEACTIVATED_EVENT, PASSWORD_CHANGED, PASSWORD_RESET, SIGNED_IN, SIGN_IN_FAILED,
                LOCKED, UNLOCKED)

STAFF_ROLES = tuple(sorted(STAFF))
# Kept on the account, never shown or published.
SECRET_FIELDS = ("password_hash",)


def new_account(body: dict, *, password_hash: str, now: datetime, actor: dict) -> dict:
    """A new account whose password is a temporary one: it must be changed at first sign-in."""
    return {
        "_id": body["username"], "username": body["username"], "full_name": body["full_name"],
        "role": body["role"], "district": body["district"], "udc_centre": body.get("udc_centre"),
        "status": ACTIVE, "password_hash": password_hash, "must_change_password": True,
        "failed_attempts": 0, "lock_count": 0, "locked_until": None,
        "created_at": now, "created_by": actor, "updated_at": now, "last_signed_in_at": None,
        "password_changed_at": now, "version": 1,
    }


def temporary_password_expires_at(account: dict, hours: int) -> datetime | None:
    """When a temporary password (a new account's, an admin reset's) stops signing in;
    None for a password the person chose. Counted from when it was set, so a changed
    IDENTITY_TEMPORARY_PASSWORD_HOURS applies to those already handed out."""
    if not account.get("must_change_password"):
        return None
    return account["password_changed_at"] + timedelta(hours=hours)


def temporary_password_expired(account: dict, now: datetime, hours: int) -> bool:
    expires = temporary_password_expires_at(account, hours)
    return expires is not None and expires <= now


def locked(account: dict, now: datetime) -> bool:
    until = account.get("locked_until")
    return until is not None and until > now


def lock_seconds(lock_count: int, first: int, cap: int) -> int:
    """The n-th lock in a row lasts first * 2**(n-1) seconds, at most `cap`."""
    return min(first * 2 ** max(lock_count - 1, 0), cap)


def record_failure(account: dict, now: datetime, *, failures_to_lock: int, first: int, cap: int) -> bool:
    """Counts a wrong password; True when this failure locks the account."""
    account["failed_attempts"] = account.get("failed_attempts", 0) + 1
    if account["failed_attempts"] < failures_to_lock:
        return False
    account["lock_count"] = account.get("lock_count", 0) + 1
    account["locked_until"] = now + timedelta(seconds=lock_seconds(account["lock_count"], first, cap))
    account["failed_attempts"] = 0
    return True


def record_success(account: dict, now: datetime) -> None:
    account.update(failed_attempts=0, lock_count=0, locked_until=None, last_signed_in_at=now)


def unlock(account: dict) -> None:
    account.update(failed_attempts=0, lock_count=0, locked_until=None)


def touch(account: dict, now: datetime) -> dict:
    account["version"] += 1
    account["updated_at"] = now
    return account


def event_data(account: dict, **extra) -> dict:
    """What every staff event carries: who the account is, never its password."""
    return {"username": account["username"], "role": account["role"], "district": account["district"],
            "udc_centre": account.get("udc_centre"), "status": account["status"],
            **{k: v for k, v in extra.items() if v is not None}}


def view(account: dict) -> dict:
    """The account as the API shows it."""
    shown = {k: v for k, v in account.items() if k not in ("_id", *SECRET_FIELDS)}
    return shown
