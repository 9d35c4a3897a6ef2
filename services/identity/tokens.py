"""Token issuance inside identity, for staff sign-in and one-time codes alike.

An access token is a JWT signed with identity's active Ed25519 key (header `kid`), with
OIDC-compatible claims, living `access_ttl_seconds` (15 minutes). A refresh token is opaque
and random; only its SHA-256 is stored, with the family it belongs to (one sign-in and
every token rotated from it) and what the next access token needs. Using one spends it and
gives a new pair in the same family; a spent one presented again means it was copied, so
the whole family is revoked.
"""
from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Callable

import jwt

from shared.auth import every_service
from shared.config import Settings

from . import keys
from .config import IdentityConfig


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def token_hash(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def sign(claims: dict, key: dict) -> str:
    """Signs with one of identity's keys (PyJWT, EdDSA; `kid` names the key in the JWKS)."""
    return jwt.encode(claims, keys.private_key(key), algorithm=keys.ALGORITHM, headers={"kid": key["kid"]})


class TokenIssuer:
    def __init__(self, settings: Settings, config: IdentityConfig = IdentityConfig(), *,
                 clock: Callable[[], datetime] = _utcnow, audience: Iterable[str] | None = None):
        self.settings, self.config, self.clock = settings, config, clock
        self.audience = list(audience) if audience is not None else None

    def issue_pair(self, tx, *, subject: str, role: str, migrant_ref: str | None = None,
                   udc_centre: str | None = None, district: str | None = None, cases: Iterable[str] = (),
                   phone_number: str | None = None, family_id: str | None = None) -> dict:
        """An access token and a refresh token, the refresh token stored (hashed) in `tx`.
        `family_id` continues a family when a refresh token is rotated; a sign-in starts one."""
        now = self.clock()
        identity = {"role": role, "migrant_ref": migrant_ref, "udc_centre": udc_centre, "district": district,
                    "cases": list(cases), "phone_number": phone_number}
        access = self.access_token(tx.keys, subject, identity, now)
        refresh = secrets.token_urlsafe(32)
        tx.refresh_tokens.add({
            "_id": token_hash(refresh), "family_id": family_id or uuid.uuid4().hex, "subject": subject,
            "identity": identity, "issued_at": now,
            "expires_at": now + timedelta(seconds=self.config.refresh_ttl_seconds),
            "spent_at": None, "revoked_at": None})
        return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                "expires_in": self.config.access_ttl_seconds}

    def access_token(self, keys_repo, subject: str, identity: dict, now: datetime) -> str:
        issued = int(now.timestamp())
        claims = {"iss": self.settings.jwt_issuer, "sub": subject, "aud": self.audience or every_service(),
                  "iat": issued, "exp": issued + self.config.access_ttl_seconds, "jti": uuid.uuid4().hex}
        claims.update({name: value for name, value in identity.items() if value})
        return sign(claims, keys.signing_key(keys_repo))
