"""Bearer JWTs and roles.

Tokens are signed with an asymmetric key (EdDSA/Ed25519; RS256 accepted so that Keycloak can
replace identity) and name the key in their `kid` header. A service trusts:

- the keys published at JWT_JWKS_URL (identity's /.well-known/jwks.json), cached and refetched
  as shared/jwks.py says;
- in development and tests only, the public half of the Ed25519 key in JWT_DEV_KEY_FILE, under
  the kid `dev-<thumbprint>`; `issue_token` and `make token` sign with it. Production refuses
  the setting and every token whose kid starts with `dev-`.

A service accepts a token only if its key is trusted, it names the service in `aud`, comes
from JWT_ISSUER and lives no longer than JWT_MAX_TTL_SECONDS.

    python -m shared.auth token --role welfare_officer                  # for every service
    python -m shared.auth token --role migrant --migrant-ref PB-ABCD-EFGH --audience documents
"""
from __future__ import annotations

import argparse
import logging
import os
import pkgutil
import stat
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from shared import jwks
from shared.config import Settings

# `family`: a relative who signed in with the phone recorded on a claim or complaint (an
# heir, a complainant who is not the worker); the token names those cases and nothing more.
ROLES = ("migrant", "family", "udc_operator", "welfare_officer", "legal_aid", "admin")
STAFF = frozenset({"udc_operator", "welfare_officer", "legal_aid", "admin"})
ALGORITHMS = jwks.ALGORITHMS
DEV_KID_PREFIX = "dev-"

log = logging.getLogger("probashi.auth")


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    migrant_ref: str | None = None
    udc_centre: str | None = None
    cases: tuple[str, ...] = ()  # the claims and complaints a family member may see

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def as_actor(self) -> dict:
        """How a person is recorded in audit trails and events."""
        actor = {"user": self.subject, "role": self.role}
        if self.udc_centre:
            actor["udc_centre"] = self.udc_centre
        return actor


def issue_token(settings: Settings, *, subject: str, role: str, migrant_ref: str | None = None,
                udc_centre: str | None = None, cases: Iterable[str] = (), ttl_seconds: int | None = None,
                audience: str | Iterable[str] | None = None) -> str:
    """A development or test token, signed with the key in JWT_DEV_KEY_FILE (real tokens come
    from identity, or another identity provider), for `audience`: one service or several, by
    default every service."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "migrant" and not migrant_ref:
        raise ValueError("a migrant token is bound to the migrant's reference")
    cases = list(cases)
    if role == "family" and not cases:
        raise ValueError("a family token names the cases it may see")
    ttl = ttl_seconds or settings.jwt_ttl_seconds
    if ttl > settings.jwt_max_ttl_seconds:
        raise ValueError(f"a token lifetime of {ttl} s exceeds the maximum of {settings.jwt_max_ttl_seconds} s")
    audiences = [audience] if isinstance(audience, str) else list(audience or every_service())
    now = int(time.time())
    claims = {"sub": subject, "role": role, "iss": settings.jwt_issuer,
              "aud": audiences[0] if len(audiences) == 1 else audiences,
              "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
    if migrant_ref:
        claims["migrant_ref"] = migrant_ref
    if udc_centre:
        claims["udc_centre"] = udc_centre
    if cases:
        claims["cases"] = cases
    key = dev_key(settings)
    return sign(claims, key.private_key, key.kid)


def sign(claims: dict, private_key, kid: str) -> str:
    """A token signed by `private_key` (Ed25519: EdDSA; RSA: RS256) naming it as `kid`."""
    return jwt.encode(claims, private_key, algorithm=jwks.algorithm_for(private_key), headers={"kid": kid})


def verify_token(settings: Settings, token: str) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in ALGORITHMS:  # before any key is looked at: no `none`, no HS* with a public key
        raise InvalidToken(f"the algorithm {str(algorithm)[:20]!r} is not accepted (only {', '.join(ALGORITHMS)})")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("the token names no key id (kid)")
    trusted = trusted_key(settings, kid)
    if trusted is None:
        raise InvalidToken(f"unknown key id {kid[:64]!r}")
    if trusted.algorithm != algorithm:
        raise InvalidToken(f"key {kid[:64]!r} signs with {trusted.algorithm}, not {algorithm}")
    try:
        claims = jwt.decode(token, trusted.key, algorithms=[trusted.algorithm], issuer=settings.jwt_issuer,
                            audience=settings.service, options={"require": ["exp", "iat", "sub", "iss", "aud"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    # A stolen long-lived token stays dangerous; however it was signed, cap its lifetime.
    if not isinstance(claims["iat"], int) or not isinstance(claims["exp"], int) \
            or claims["exp"] - claims["iat"] > settings.jwt_max_ttl_seconds:
        raise InvalidToken(f"token lifetime exceeds the maximum of {settings.jwt_max_ttl_seconds} s")
    role = claims.get("role")
    if role not in ROLES:
        raise InvalidToken("token carries no known role")
    if role == "migrant" and not claims.get("migrant_ref"):
        raise InvalidToken("migrant token without a migrant reference")
    cases = claims.get("cases", [])
    if not isinstance(cases, list) or not all(isinstance(case, str) and case for case in cases):
        raise InvalidToken("token names its cases as a list of case ids")
    if role == "family" and not cases:
        raise InvalidToken("family token without the cases it may see")
    return Principal(str(claims["sub"]), role, claims.get("migrant_ref"), claims.get("udc_centre"), tuple(cases))


def trusted_key(settings: Settings, kid: str) -> jwks.TrustedKey | None:
    """The public key a token's kid names: the development key's, or one of the JWKS's."""
    if kid.startswith(DEV_KID_PREFIX):
        if settings.production:
            raise InvalidToken("development tokens are refused in production")
        key = _dev_key_or_none(settings)
        if key is not None and key.kid == kid:
            return jwks.TrustedKey.of(kid, key.private_key.public_key())
    if settings.jwt_jwks_url:
        return jwks.key_set(settings.jwt_jwks_url, settings.jwt_jwks_cache_seconds).key(kid)
    return None


def _dev_key_or_none(settings: Settings) -> "DevKey | None":
    if not settings.jwt_dev_key_file:
        return None
    try:
        return dev_key(settings)
    except RuntimeError as exc:  # checked at start; gone or changed since: trust it no more
        log.warning("not trusting the development key: %s", exc)
        return None


@dataclass(frozen=True)
class DevKey:
    private_key: ed25519.Ed25519PrivateKey
    kid: str


def dev_key(settings: Settings) -> DevKey:
    """The development signing key of JWT_DEV_KEY_FILE (read again only when the file changes)."""
    if settings.production:
        raise RuntimeError("development keys are not used in production")
    if not settings.jwt_dev_key_file:
        raise RuntimeError("JWT_DEV_KEY_FILE is not set: development tokens are signed with that key "
                           "(`make run` creates .data/dev-jwt-key.pem)")
    path = Path(settings.jwt_dev_key_file)
    try:
        info = path.stat()
    except OSError as exc:
        raise RuntimeError(f"JWT_DEV_KEY_FILE {path}: {exc.strerror} (`make run` creates .data/dev-jwt-key.pem)") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):  # as ssh does: a key others can read is no key
        raise RuntimeError(f"JWT_DEV_KEY_FILE {path} is readable by others: chmod 600 {path}")
    return _load_dev_key(str(path), info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=8)
def _load_dev_key(path: str, _mtime_ns: int, _size: int) -> DevKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise RuntimeError(f"JWT_DEV_KEY_FILE {path} is not a PEM private key without a passphrase: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise RuntimeError(f"JWT_DEV_KEY_FILE {path} must hold an Ed25519 key, not {type(key).__name__}")
    return DevKey(key, dev_kid(key.public_key()))


def dev_kid(public_key) -> str:
    return DEV_KID_PREFIX + jwks.thumbprint(public_key)[:16]


def write_dev_key(path: str | os.PathLike) -> Path:
    """A new Ed25519 development key as PEM, readable by its owner only; never overwrites one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return path


def every_service() -> list[str]:
    """The services with an API (`api` and `wsgi` modules) under services/: what a development
    token is for by default. A package that is only a domain so far takes no tokens, nor does the
    web portal (a `wsgi` without an `api`: it passes on the tokens identity gave the person)."""
    import importlib.util

    import services
    return sorted(module.name for module in pkgutil.iter_modules(services.__path__)
                  if module.ispkg and all(importlib.util.find_spec(f"services.{module.name}.{part}") is not None
                                          for part in ("api", "wsgi")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="shared.auth", description="Development tokens")
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("token", help="print a signed bearer token")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--subject", help="user id (default: dev-<role>)")
    token.add_argument("--migrant-ref", help="required for --role migrant")
    token.add_argument("--udc-centre", help="the operator's Union Digital Centre")
    token.add_argument("--case", action="append", default=[], help="for --role family: a case it may see; repeat")
    token.add_argument("--ttl", type=int, help="seconds until it expires")
    token.add_argument("--audience", action="append",
                       help="a service the token is for; repeat for several (default: every service)")
    args = parser.parse_args(argv)
    settings = Settings.from_env("auth")
    if settings.production:
        parser.error("development tokens are not issued in production")
    try:
        dev_key(settings)
        settings.check_token_settings()
    except RuntimeError as exc:
        parser.error(str(exc))
    centre = args.udc_centre or ("UDC-DEV-01" if args.role == "udc_operator" else None)
    try:
        print(issue_token(settings, subject=args.subject or f"dev-{args.role}", role=args.role,
                          migrant_ref=args.migrant_ref, udc_centre=centre, cases=args.case, ttl_seconds=args.ttl,
                          audience=args.audience))
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
