"""The identity service layer: one method per use case, over small ports.

Ports: `uow.run(fn)` runs `fn(tx)` in one transaction where `tx.staff`, `tx.refresh_tokens`,
`tx.keys`, `tx.audit` and `tx.emit` are bound to it; `reads` answers queries outside any
transaction; `passwords` hashes and checks; `issuer` makes token pairs.

A refused sign-in still changes something (the failure count, a lock, the audit trail),
so its transaction commits and the refusal is raised after it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from shared.auth import STAFF, Principal
from shared.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, PreconditionFailed
from shared.etags import expected_version
from shared.pagination import decode_cursor, encode_cursor

from . import changes, domain, keys, passwords
from .config import IdentityConfig
from .repository import DuplicateUsername
from .tokens import TokenIssuer, token_hash

REFUSED = "The username or password is not right, or the account cannot sign in."
REFRESH_REFUSED = "The refresh token is not valid (unknown, expired, revoked or already used); sign in again."
# Who an unknown caller is in the audit trail: never the username typed (it is sometimes a password).
NOBODY = Principal("unknown", "anonymous")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Unauthorized(DomainError):
    status, title, slug = 401, "Unauthorized", "sign-in-refused"


class AccountLocked(DomainError):
    status, title, slug = 429, "Too many attempts", "account-locked"

    def __init__(self, retry_after: int):
        super().__init__(f"Too many wrong passwords: the account is locked for {retry_after} s more, or until an "
                         "admin unlocks it.", retry_after_seconds=retry_after)
        self.retry_after = retry_after


class PasswordChangeRequired(DomainError):
    status, title, slug = 403, "Password change required", "password-change-required"


@dataclass
class _Refusal:
    error: DomainError


def _weak(password: str, username: str, field: str = "new_password") -> None:
    problems = passwords.weaknesses(password, username)
    if problems:
        raise Invalid({field: problems}, "The new password is not strong enough; see errors.")


def _next_version(tx, account: dict, now: datetime) -> None:
    """A second event of one transaction gets a version of its own (consumers keep the
    newest version they applied per account)."""
    expected = account["version"]
    domain.touch(account, now)
    tx.staff.replace(account, expected)


class IdentityService:
    def __init__(self, uow, reads, passwords_: passwords.Passwords, issuer: TokenIssuer,
                 config: IdentityConfig = IdentityConfig(), *, clock: Callable[[], datetime] = _utcnow):
        self.uow, self.reads, self.passwords, self.issuer = uow, reads, passwords_, issuer
        self.config, self.clock = config, clock

    def _run(self, fn):
        """Runs fn(tx); a _Refusal it returns is raised once its transaction committed."""
        result = self.uow.run(fn)
        if isinstance(result, _Refusal):
            raise result.error
        return result

    # -- signing keys ----------------------------------------------------------------
    def ensure_keys(self) -> None:
        self.uow.run(lambda tx: keys.ensure(tx, self.clock()))

    def rotate_keys(self) -> dict:
        return self.uow.run(lambda tx: keys.rotate(tx, self.clock(), self.config.access_ttl_seconds))

    def retire_keys(self, force: bool = False) -> list[str]:
        return self.uow.run(lambda tx: keys.retire(tx, self.clock(), force))

    def jwks(self) -> dict:
        return keys.jwks(self.reads.keys)

    # -- staff accounts (admin) --------------------------------------------------------
    def create_staff(self, principal: Principal, body: dict) -> tuple[dict, str]:
        """A new account and its temporary password, shown once: it must be changed at first sign-in."""
        if body["role"] == "udc_operator" and not body.get("udc_centre"):
            raise Invalid({"udc_centre": ["A UDC operator works at a Union Digital Centre: name it."]})
        if body["role"] != "udc_operator" and body.get("udc_centre"):
            raise Invalid({"udc_centre": ["Only a UDC operator works at a Union Digital Centre."]})
        temporary = passwords.temporary_password()
        account = domain.new_account(body, password_hash=self.passwords.hash(temporary), now=self.clock(),
                                     actor=principal.as_actor())

        def create(tx):
            changes.save(tx, account, None, domain.CREATED, principal, by=principal.as_actor())
            return account
        try:
            return domain.view(self.uow.run(create)), temporary
        except DuplicateUsername:
            raise Conflict(f"The username {body['username']} is taken; choose another.") from None

    def create_admin(self, username: str, full_name: str, district: str, password: str) -> dict:
        """The first admin, by the command: with the password they typed (no temporary one)."""
        _weak(password, username, "password")
        account = domain.new_account({"username": username, "full_name": full_name, "role": "admin",
                                      "district": district}, password_hash=self.passwords.hash(password),
                                     now=self.clock(), actor={"user": "create-admin", "role": "admin"})
        account["must_change_password"] = False
        command = Principal("create-admin", "admin")

        def create(tx):
            changes.save(tx, account, None, domain.CREATED, command, by=command.as_actor())
            return account
        try:
            return domain.view(self.uow.run(create))
        except DuplicateUsername:
            raise Conflict(f"The username {username} is taken.") from None

    def get_staff(self, username: str) -> dict:
        return domain.view(self._load(self.reads.staff, username))

    def list_staff(self, limit: int, cursor: str | None) -> dict:
        position = decode_cursor(cursor)
        if position is not None and (len(position) != 1 or not isinstance(position[0], str)):
            raise Invalid({"cursor": ["Not a cursor from this API; start again without it."]})
        found = self.reads.staff.page(limit + 1, position[0] if position else None)
        page = found[:limit]
        after = encode_cursor([page[-1]["_id"]]) if len(found) > limit else None
        return {"items": [domain.view(a) for a in page], "next_cursor": after}

    @staticmethod
    def _load(repo, username: str) -> dict:
        account = repo.get(username)
        if account is None:
            raise NotFound(f"No staff account {username}.")
        return account

    def _step(self, principal: Principal, username: str, if_match: str | None, change) -> dict:
        expected = expected_version(if_match, "account")

        def step(tx):
            account = self._load(tx.staff, username)
            if account["version"] != expected:
                raise PreconditionFailed("The account changed since you read it; fetch it again and reapply "
                                         "your change.", current_version=account["version"])
            if account["status"] != domain.ACTIVE:
                raise Conflict("The account is deactivated: nothing more can be done to it.", allowed=[])
            return change(tx, account, self.clock())
        return domain.view(self.uow.run(step))

    def deactivate(self, principal: Principal, username: str, if_match: str | None, body: dict) -> dict:
        def change(tx, account, now):
            if username == principal.subject:
                raise Conflict("An admin cannot deactivate their own account; another admin can.",
                               allowed=["password-reset", "unlock"])
            expected = account["version"]
            account["status"] = domain.DEACTIVATED
            account["deactivated_at"], account["deactivated_because"] = now, body["reason"]
            domain.touch(account, now)
            tx.refresh_tokens.revoke_subject(username, now, "account deactivated")
            changes.save(tx, account, expected, domain.DEACTIVATED_EVENT, principal, by=principal.as_actor())
            return account
        return self._step(principal, username, if_match, change)

    def reset_password(self, principal: Principal, username: str, if_match: str | None) -> tuple[dict, str]:
        temporary = passwords.temporary_password()
        hashed = self.passwords.hash(temporary)

        def change(tx, account, now):
            expected = account["version"]
            account.update(password_hash=hashed, must_change_password=True, password_changed_at=now)
            domain.unlock(account)
            domain.touch(account, now)
            tx.refresh_tokens.revoke_subject(username, now, "password reset")
            changes.save(tx, account, expected, domain.PASSWORD_RESET, principal, by=principal.as_actor())
            return account
        return self._step(principal, username, if_match, change), temporary

    def unlock(self, principal: Principal, username: str, if_match: str | None) -> dict:
        def change(tx, account, now):
            expected = account["version"]
            domain.unlock(account)
            domain.touch(account, now)
            changes.save(tx, account, expected, domain.UNLOCKED, principal, by=principal.as_actor())
            return account
        return self._step(principal, username, if_match, change)

    # -- signing in ----------------------------------------------------------------------
    def sign_in(self, username: str, password: str, new_password: str | None = None) -> dict:
        cfg = self.config

        def attempt(tx):
            now = self.clock()
            account = tx.staff.get(username)
            if account is None:
                self.passwords.verify(None, password)  # as slow as a real check
                changes.publish_unknown_account(tx, NOBODY)
                return _Refusal(Unauthorized(REFUSED))
            who = Principal(account["username"], account["role"], udc_centre=account.get("udc_centre"))
            expected = account["version"]
            # Refusals for the account's state leave it as it is (published at its version):
            # a guesser hammering a locked account neither lengthens the lock nor makes an
            # admin's ETag stale.
            if account["status"] != domain.ACTIVE:
                self.passwords.verify(None, password)
                changes.publish(tx, domain.SIGN_IN_FAILED, account, who, reason="deactivated")
                return _Refusal(Unauthorized(REFUSED))
            if domain.locked(account, now):
                # Not even checked: a locked account gives a guesser nothing.
                changes.publish(tx, domain.SIGN_IN_FAILED, account, who, reason="locked",
                                locked_until=account["locked_until"].isoformat())
                return _Refusal(AccountLocked(self._retry_after(account, now)))
            if not self.passwords.verify(account["password_hash"], password):
                locks = domain.record_failure(account, now, failures_to_lock=cfg.lockout_failures,
                                              first=cfg.lockout_seconds, cap=cfg.lockout_max_seconds)
                domain.touch(account, now)
                changes.save(tx, account, expected, domain.SIGN_IN_FAILED, who, reason="wrong_password",
                             failed_attempts=account["failed_attempts"] if not locks else cfg.lockout_failures)
                if not locks:
                    return _Refusal(Unauthorized(REFUSED))
                _next_version(tx, account, now)
                changes.publish(tx, domain.LOCKED, account, who, lock_count=account["lock_count"],
                                locked_until=account["locked_until"].isoformat())
                return _Refusal(AccountLocked(self._retry_after(account, now)))
            if domain.temporary_password_expired(account, now, cfg.temporary_password_hours):
                # Right, but too old to use: answered as a wrong one; an admin resets it again.
                changes.publish(tx, domain.SIGN_IN_FAILED, account, who, reason="temporary_password_expired")
                return _Refusal(Unauthorized(REFUSED))
            if account.get("must_change_password") and new_password is None:
                changes.audit(tx, who, "sign_in_refused", username, reason="password_change_required")
                return _Refusal(PasswordChangeRequired(
                    "This password is temporary: sign in again with `new_password` to choose your own."))
            events = [domain.SIGNED_IN]
            if new_password is not None:
                # Judged only once the password is right: nobody learns anything about an account before.
                _weak(new_password, username)
                if new_password == password:
                    raise Invalid({"new_password": ["Choose a password other than the current one."]})
                account.update(password_hash=self.passwords.hash(new_password), must_change_password=False, password_changed_at=now)
                events.insert(0, domain.PASSWORD_CHANGED)
            elif self.passwords.needs_rehash(account["password_hash"]):
                account["password_hash"] = self.passwords.hash(password)  # parameters raised since
            domain.record_success(account, now)
            domain.touch(account, now)
            tx.staff.replace(account, expected)
            for n, event_type in enumerate(events):
                if n:
                    _next_version(tx, account, now)
                changes.publish(tx, event_type, account, who)
            return self.issuer.issue_pair(tx, subject=username, role=account["role"],
                                          udc_centre=account.get("udc_centre"), district=account["district"])
        return self._run(attempt)

    @staticmethod
    def _retry_after(account: dict, now: datetime) -> int:
        return max(1, int((account["locked_until"] - now).total_seconds() + 0.999))

    def change_own_password(self, principal: Principal, current: str, new: str) -> None:
        username = principal.subject
        cfg = self.config

        def change(tx):
            now = self.clock()
            account = tx.staff.get(username)
            if account is None or account["status"] != domain.ACTIVE:
                raise NotFound("Your token names no active staff account here.")
            expected = account["version"]
            if domain.locked(account, now):
                return _Refusal(AccountLocked(self._retry_after(account, now)))
            if not self.passwords.verify(account["password_hash"], current):
                # A stolen token must not become a way to guess the password: it counts.
                locks = domain.record_failure(account, now, failures_to_lock=cfg.lockout_failures,
                                              first=cfg.lockout_seconds, cap=cfg.lockout_max_seconds)
                domain.touch(account, now)
                changes.save(tx, account, expected, domain.SIGN_IN_FAILED, principal, reason="wrong_password",
                             failed_attempts=account["failed_attempts"] if not locks else cfg.lockout_failures)
                if locks:
                    _next_version(tx, account, now)
                    changes.publish(tx, domain.LOCKED, account, principal, lock_count=account["lock_count"],
                                    locked_until=account["locked_until"].isoformat())
                    return _Refusal(AccountLocked(self._retry_after(account, now)))
                return _Refusal(Forbidden("The current password is not right.", field="current_password"))
            _weak(new, username)
            if new == current:
                raise Invalid({"new_password": ["Choose a password other than the current one."]})
            account.update(password_hash=self.passwords.hash(new), must_change_password=False,
                           password_changed_at=now)
            domain.touch(account, now)
            # Every session signed in with the old password ends; this one signs in again.
            tx.refresh_tokens.revoke_subject(username, now, "password changed")
            changes.save(tx, account, expected, domain.PASSWORD_CHANGED, principal)
        self._run(change)

    # -- refresh tokens --------------------------------------------------------------------
    def refresh(self, refresh_token: str) -> dict:
        hashed = token_hash(refresh_token)

        def use(tx):
            now = self.clock()
            record = tx.refresh_tokens.get(hashed)
            if record is None or record["revoked_at"] is not None or record["expires_at"] <= now:
                return _Refusal(Unauthorized(REFRESH_REFUSED))
            subject, identity = record["subject"], record["identity"]
            actor = Principal(subject, identity["role"], identity.get("migrant_ref"), identity.get("udc_centre"))
            if not tx.refresh_tokens.spend(hashed, now):
                # Used before: a copy is in someone else's hands. Nobody in this family keeps a session.
                tx.refresh_tokens.revoke_family(record["family_id"], now, "refresh token reused")
                changes.audit(tx, actor, "refresh_token_reused", subject, family_id=record["family_id"])
                return _Refusal(Unauthorized(REFRESH_REFUSED))
            if identity["role"] in STAFF:
                account = tx.staff.get(subject)
                if account is None or account["status"] != domain.ACTIVE:
                    tx.refresh_tokens.revoke_family(record["family_id"], now, "account deactivated")
                    return _Refusal(Unauthorized(REFRESH_REFUSED))
                identity = {**identity, "role": account["role"], "udc_centre": account.get("udc_centre"),
                            "district": account["district"]}
            return self.issuer.issue_pair(tx, subject=subject, family_id=record["family_id"], **identity)
        return self._run(use)

    def sign_out(self, refresh_token: str) -> None:
        """Ends the session the refresh token belongs to (its whole family). Answers the same
        for a token it does not know: there is nothing to tell a caller about it."""
        hashed = token_hash(refresh_token)

        def revoke(tx):
            record = tx.refresh_tokens.get(hashed)
            if record is None:
                return
            now = self.clock()
            if tx.refresh_tokens.revoke_family(record["family_id"], now, "signed out"):
                identity = record["identity"]
                changes.audit(tx, Principal(record["subject"], identity["role"], identity.get("migrant_ref"),
                                            identity.get("udc_centre")), "signed_out", record["subject"])
        self.uow.run(revoke)
