"""Settings only the identity service has, read from the environment at start.

    IDENTITY_ACCESS_TTL_SECONDS    lifetime of an access token (default 900: 15 minutes)
    IDENTITY_REFRESH_TTL_SECONDS   lifetime of a refresh token (default 1209600: 14 days)
    IDENTITY_LOCKOUT_FAILURES      failed sign-ins in a row that lock an account (default 5)
    IDENTITY_LOCKOUT_SECONDS       the first lock's length; each further one doubles it (default 60)
    IDENTITY_LOCKOUT_MAX_SECONDS   the longest a lock lasts (default 3600)
    IDENTITY_TEMPORARY_PASSWORD_HOURS  how long a temporary password (new account, admin reset)
                                   signs in before it expires (default 72)
    IDENTITY_PUBLIC_URL            the service's address as clients reach it, for the OpenID
                                   configuration's jwks_uri (default: the address asked)
    IDENTITY_ARGON2_TIME_COST, IDENTITY_ARGON2_MEMORY_KIB, IDENTITY_ARGON2_PARALLELISM
                                   Argon2id parameters (default: argon2-cffi's RFC 9106 low-memory
                                   profile); a stored hash made with others is rehashed at sign-in

A bad value stops start-up instead of falling back silently.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from argon2 import profiles

_DEFAULT_HASH = profiles.RFC_9106_LOW_MEMORY


@dataclass(frozen=True)
class IdentityConfig:
    access_ttl_seconds: int = 900
    refresh_ttl_seconds: int = 14 * 24 * 3600
    lockout_failures: int = 5
    lockout_seconds: int = 60
    lockout_max_seconds: int = 3600
    temporary_password_hours: int = 72
    public_url: str | None = None
    argon2_time_cost: int = _DEFAULT_HASH.time_cost
    argon2_memory_kib: int = _DEFAULT_HASH.memory_cost
    argon2_parallelism: int = _DEFAULT_HASH.parallelism

    @classmethod
    def from_env(cls, env: dict | None = None) -> "IdentityConfig":
        env = os.environ if env is None else env
        d = cls()

        def number(name: str, default: int, least: int) -> int:
            raw = env.get(name, "").strip()
            try:
                value = int(raw) if raw else default
            except ValueError:
                raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
            if value < least:
                raise ValueError(f"{name} must be {least} or more, got {value}")
            return value

        config = cls(
            access_ttl_seconds=number("IDENTITY_ACCESS_TTL_SECONDS", d.access_ttl_seconds, 1),
            refresh_ttl_seconds=number("IDENTITY_REFRESH_TTL_SECONDS", d.refresh_ttl_seconds, 60),
            lockout_failures=number("IDENTITY_LOCKOUT_FAILURES", d.lockout_failures, 1),
            lockout_seconds=number("IDENTITY_LOCKOUT_SECONDS", d.lockout_seconds, 1),
            lockout_max_seconds=number("IDENTITY_LOCKOUT_MAX_SECONDS", d.lockout_max_seconds, 1),
            temporary_password_hours=number("IDENTITY_TEMPORARY_PASSWORD_HOURS", d.temporary_password_hours, 1),
            public_url=(env.get("IDENTITY_PUBLIC_URL") or "").rstrip("/") or None,
            argon2_time_cost=number("IDENTITY_ARGON2_TIME_COST", d.argon2_time_cost, 1),
            argon2_memory_kib=number("IDENTITY_ARGON2_MEMORY_KIB", d.argon2_memory_kib, 8),
            argon2_parallelism=number("IDENTITY_ARGON2_PARALLELISM", d.argon2_parallelism, 1),
        )
        if config.lockout_max_seconds < config.lockout_seconds:
            raise ValueError("IDENTITY_LOCKOUT_MAX_SECONDS must be at least IDENTITY_LOCKOUT_SECONDS")
        return config
