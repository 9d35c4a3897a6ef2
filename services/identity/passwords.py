"""Passwords: Argon2id hashes (argon2-cffi, never hand-rolled) and the minimum strength.

A hash records its own parameters, so raising them later needs no migration: a hash made
with older ones still verifies, and is replaced at the next successful sign-in."""
from __future__ import annotations

import secrets
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from .common_passwords import COMMON_PASSWORDS
from .config import IdentityConfig

MIN_LENGTH = 12
MAX_LENGTH = 128  # Argon2 takes any length; a cap keeps one request from costing much more


class Passwords:
    def __init__(self, config: IdentityConfig = IdentityConfig()):
        self.hasher = PasswordHasher(time_cost=config.argon2_time_cost, memory_cost=config.argon2_memory_kib,
                                     parallelism=config.argon2_parallelism, type=Type.ID)

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        if not stored_hash:
            # Same work as a real check, so a missing account costs the caller as much time.
            self.hasher.hash(password)
            return False
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)


def weaknesses(password: str, username: str) -> list[str]:
    """Why a new password is refused; empty when it is strong enough."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        problems.append("This password is too common or too easy to guess.")
    if username and username.lower() in lowered:
        problems.append("The password may not contain the username.")
    return problems


def temporary_password() -> str:
    """A one-time password an admin hands over; it must be changed at first sign-in."""
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits
