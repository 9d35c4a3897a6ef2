"""Bearer JWTs and roles.

Each token names the services it is for (`aud`); a service accepts only tokens naming
it, signed with JWT_SECRET, from JWT_ISSUER, and living no longer than JWT_MAX_TTL_SECONDS.

    python -m shared.auth token --role welfare_officer                  # for every service
    python -m shared.auth token --role migrant --migrant-ref PB-ABCD-EFGH --audience documents
"""
from __future__ import annotations

import argparse
import pkgutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import jwt

from shared.config import Settings

# `family`: a relative who signed in with the phone recorded on a claim or complaint (an
# heir, a complainant who is not the worker); the token names those cases and nothing more.
ROLES = ("migrant", "family", "udc_operator", "welfare_officer", "legal_aid", "admin")
STAFF = frozenset({"udc_operator", "welfare_officer", "legal_aid", "admin"})
ALGORITHM = "HS256"


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
    """A development or test token (production tokens come from the identity provider)
    for `audience`: one service or several, by default every service."""
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
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def verify_token(settings: Settings, token: str) -> Principal:
    if not settings.jwt_secret:  # never verify against an empty key
        raise InvalidToken("this service has no signing key")
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=[ALGORITHM], issuer=settings.jwt_issuer,
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


def every_service() -> list[str]:
    """The services with an API (a `wsgi` module) under services/: what a development token
    is for by default. A package that is only a domain so far takes no tokens."""
    import importlib.util

    import services
    return sorted(module.name for module in pkgutil.iter_modules(services.__path__)
                  if module.ispkg and importlib.util.find_spec(f"services.{module.name}.wsgi") is not None)


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
