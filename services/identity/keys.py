"""Identity's signing keys: Ed25519, in its own database, each with a key id (`kid`, the
RFC 7638 thumbprint) and a state:

    next      published in the JWKS, not signing yet: verifiers that cache the JWKS learn it
              before the first token it signs reaches them
    active    signs every new token (exactly one)
    retiring  signs nothing, still published until every token it signed has expired
    retired   no longer published

`rotate` makes the next key active, the active one retiring, and a new next; `retire`
retires the retiring keys whose tokens have all expired. The first start makes the first
active and next keys.

    python -m services.identity.keys list
    python -m services.identity.keys rotate
    python -m services.identity.keys retire [--force]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

NEXT, ACTIVE, RETIRING, RETIRED = "next", "active", "retiring", "retired"
PUBLISHED = (ACTIVE, NEXT, RETIRING)
ALGORITHM = "EdDSA"
# Clocks differ between machines: a retiring key stays published this much longer.
CLOCK_SKEW = timedelta(minutes=2)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def public_jwk(public_raw: bytes) -> dict:
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64(public_raw)}
    thumbprint = _b64(hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest())
    return {**jwk, "kid": thumbprint, "alg": ALGORITHM, "use": "sig"}


def new_key(state: str, now: datetime) -> dict:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = public_jwk(raw)
    return {"_id": jwk["kid"], "kid": jwk["kid"], "state": state, "private_key_pem": pem, "public_jwk": jwk,
            "created_at": now, "activated_at": now if state == ACTIVE else None, "retiring_since": None,
            "retire_after": None, "retired_at": None}


def private_key(key: dict) -> Ed25519PrivateKey:
    return serialization.load_pem_private_key(key["private_key_pem"].encode(), password=None)


def ensure(tx, now: datetime) -> None:
    """The first start: an active key and a next one, if there are none."""
    tx.keys.guard()
    if not tx.keys.in_state(ACTIVE):
        tx.keys.add(new_key(ACTIVE, now))
    if not tx.keys.in_state(NEXT):
        tx.keys.add(new_key(NEXT, now))


def rotate(tx, now: datetime, access_ttl_seconds: int) -> dict:
    """next -> active, active -> retiring (until its last token expires), a new next."""
    tx.keys.guard()
    upcoming = tx.keys.in_state(NEXT)
    current = tx.keys.in_state(ACTIVE)
    if not upcoming:  # a ring made by hand, or a first start that never ran: make one now
        tx.keys.add(new_key(NEXT, now))
        upcoming = tx.keys.in_state(NEXT)
    for key in current:
        tx.keys.set_state(key["_id"], RETIRING, retiring_since=now,
                          retire_after=now + timedelta(seconds=access_ttl_seconds) + CLOCK_SKEW)
    promoted = upcoming[0]
    tx.keys.set_state(promoted["_id"], ACTIVE, activated_at=now)
    tx.keys.add(new_key(NEXT, now))
    return {"active": promoted["_id"], "retiring": [k["_id"] for k in current]}


def retire(tx, now: datetime, force: bool = False) -> list[str]:
    """Retires the retiring keys whose tokens have all expired (all of them with force)."""
    tx.keys.guard()
    done = []
    for key in tx.keys.in_state(RETIRING):
        if force or key["retire_after"] <= now:
            tx.keys.set_state(key["_id"], RETIRED, retired_at=now)
            done.append(key["_id"])
    return done


def signing_key(keys_repo) -> dict:
    active = keys_repo.in_state(ACTIVE)
    if not active:
        raise RuntimeError("identity has no active signing key: start the service once, or run "
                           "`python -m services.identity.keys rotate`")
    return active[-1]


def jwks(keys_repo) -> dict:
    return {"keys": [key["public_jwk"] for key in keys_repo.in_state(*PUBLISHED)]}


def main(argv: list[str] | None = None) -> None:
    from shared.config import Settings

    from . import bootstrap
    parser = argparse.ArgumentParser(prog="services.identity.keys", description="Identity's signing keys")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every key with its state")
    sub.add_parser("rotate", help="the next key signs from now on; the active one retires once its tokens expired")
    retiring = sub.add_parser("retire", help="stop publishing retiring keys whose tokens have all expired")
    retiring.add_argument("--force", action="store_true", help="retire them now (their tokens stop verifying)")
    args = parser.parse_args(argv)
    settings = Settings.from_env(bootstrap.SERVICE)
    service = bootstrap.build(settings)
    now = datetime.now(timezone.utc)
    if args.command == "rotate":
        print(json.dumps(service.uow.run(lambda tx: rotate(tx, now, service.config.access_ttl_seconds))))
    elif args.command == "retire":
        print(json.dumps({"retired": service.uow.run(lambda tx: retire(tx, now, args.force))}))
    for key in service.reads.keys.all():
        when = key.get("retire_after") or key.get("activated_at") or key["created_at"]
        print(f"{key['_id']}  {key['state']:8}  {when.isoformat()}")


if __name__ == "__main__":
    main()
