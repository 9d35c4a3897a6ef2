"""HTTP entry point of the identity service: thin, everything else is the service layer.

Two groups of routes: sign-in and staff administration under /api/v1, and what verifiers
read at the well-known addresses (/.well-known/jwks.json, /.well-known/openid-configuration).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from flask import Flask, request

from shared import jwks, mongo
from shared.auth import STAFF
from shared.config import Settings
from shared.http.api import PUBLIC, Api, Reply
from shared.http.app import broker_check, create_app
from shared.http.steps import with_etag
from shared.http.problems import Problem
from shared.pagination import PageQuerySchema

from . import bootstrap, domain, otp_api
from .config import IdentityConfig
from .schemas import (ETAG, DeactivationSchema, JwksSchema, OpenIdConfigurationSchema, PasswordChangeSchema,
                      RefreshSchema, SignInSchema, StaffCreateSchema, StaffPageSchema, StaffSchema,
                      StaffWithPasswordSchema, TokenPairSchema)
from .service import AccountLocked, IdentityService, Unauthorized

PREFIX = "/api/v1"
ADMINS = frozenset({"admin"})
NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 5.1: token answers are never cached
IF_MATCH = {"If-Match": "the ETag of the account as read (GET answers it), e.g. \"3\""}
STEP_PROBLEMS = {409: "The account is deactivated (or it is your own): names the allowed steps",
                 412: "If-Match is stale: the account changed since it was read", 428: "If-Match is missing"}
SIGN_IN_PROBLEMS = {401: "Wrong username or password, or an account that cannot sign in",
                    403: "A temporary password: sign in again with new_password",
                    429: "Locked after repeated wrong passwords (Retry-After says how long)"}


@contextmanager
def refusals():
    """A refused credential as HTTP says it: 401 with WWW-Authenticate, a lock 429 with Retry-After."""
    try:
        yield
    except Unauthorized as exc:
        raise Problem(401, exc.title, exc.detail, slug=exc.slug,
                      headers={"WWW-Authenticate": 'Bearer realm="probashi", error="invalid_token"'}) from None
    except AccountLocked as exc:
        raise Problem(429, exc.title, exc.detail, slug=exc.slug, headers={"Retry-After": str(exc.retry_after)},
                      retry_after_seconds=exc.retry_after) from None


def make_api(service: IdentityService, config: IdentityConfig) -> Api:
    api = Api("identity", url_prefix="")

    def pair(answer: dict) -> Reply:
        return Reply(answer, 200, NO_CACHE)

    # -- sessions and tokens (public: the body is the credential) -------------------------
    @api.route(f"{PREFIX}/sessions", "POST", roles=PUBLIC, body=SignInSchema, response=TokenPairSchema,
               response_headers=NO_CACHE, problems=SIGN_IN_PROBLEMS,
               summary="Staff sign-in: username and password give an access token (15 minutes) and a refresh token")
    def sign_in(principal, body):
        with refusals():
            return pair(service.sign_in(body["username"], body["password"], body.get("new_password")))

    @api.route(f"{PREFIX}/tokens/refresh", "POST", roles=PUBLIC, body=RefreshSchema, response=TokenPairSchema,
               response_headers=NO_CACHE, problems={401: "Unknown, expired, revoked or already used (which revokes "
                                                         "every token of its sign-in)"},
               summary="A new token pair for a refresh token, which is spent")
    def refresh(principal, body):
        with refusals():
            return pair(service.refresh(body["refresh_token"]))

    @api.route(f"{PREFIX}/sessions/sign-out", "POST", roles=PUBLIC, body=RefreshSchema, status=204,
               summary="Sign out: the refresh token and every token of its sign-in are revoked")
    def sign_out(principal, body):
        service.sign_out(body["refresh_token"])
        return Reply(None, 204)

    # -- one-time codes (otp package): POST /otp/requests, POST /otp/verifications -------------
    otp_api.add_routes(api, service.otp, PREFIX, NO_CACHE)

    # -- what verifiers read: under /api/v1 like every route, and at the root where OpenID
    # discovery looks for them ------------------------------------------------------------
    def jwks(principal):
        return Reply(service.jwks(), 200, {"Cache-Control": "public, max-age=300"})

    def openid_configuration(principal):
        base = config.public_url or request.host_url.rstrip("/")
        return {"issuer": service.issuer.settings.jwt_issuer, "jwks_uri": f"{base}{PREFIX}/.well-known/jwks.json",
                "token_endpoint": f"{base}{PREFIX}/sessions",
                "grant_types_supported": ["password", "refresh_token"],
                "id_token_signing_alg_values_supported": ["EdDSA"],
                "token_endpoint_auth_methods_supported": ["none"],
                "subject_types_supported": ["public"], "response_types_supported": ["token"],
                "claims_supported": ["iss", "sub", "aud", "iat", "exp", "jti", "role", "migrant_ref", "udc_centre",
                                     "district", "cases", "phone_number"]}

    for root in (PREFIX, ""):
        jwks.__name__, openid_configuration.__name__ = f"jwks{root}", f"openid_configuration{root}"
        api.route(f"{root}/.well-known/jwks.json", "GET", roles=PUBLIC, response=JwksSchema, tag="keys",
                  response_headers={"Cache-Control": "how long a verifier may keep it"},
                  summary="The public keys tokens are signed with: the active one, the next and those retiring")(jwks)
        api.route(f"{root}/.well-known/openid-configuration", "GET", roles=PUBLIC,
                  response=OpenIdConfigurationSchema, tag="keys",
                  summary="OpenID Provider metadata: the issuer and where its keys are")(openid_configuration)

    # -- staff administration (admin) ------------------------------------------------------
    def handed_over(account: dict, temporary: str) -> dict:
        expires = domain.temporary_password_expires_at(account, config.temporary_password_hours)
        return {**account, "temporary_password": temporary, "temporary_password_expires_at": expires}

    @api.route(f"{PREFIX}/staff", "POST", roles=ADMINS, body=StaffCreateSchema, response=StaffWithPasswordSchema,
               status=201, response_headers={**ETAG, **NO_CACHE, "Location": "the new account's URL"},
               problems={409: "The username is taken"},
               summary="Create a staff account; its temporary password is answered once, must be changed at "
                       "first sign-in and expires (IDENTITY_TEMPORARY_PASSWORD_HOURS, 72 by default)")
    def create_staff(principal, body):
        account, temporary = service.create_staff(principal, body)
        return with_etag(handed_over(account, temporary), 201, **NO_CACHE,
                         Location=f"{PREFIX}/staff/{account['username']}")

    @api.route(f"{PREFIX}/staff", "GET", roles=ADMINS, query=PageQuerySchema, response=StaffPageSchema,
               summary="Staff accounts by username")
    def list_staff(principal, query):
        return service.list_staff(query["limit"], query["cursor"])

    @api.route(f"{PREFIX}/staff/<username>", "GET", roles=ADMINS, response=StaffSchema, response_headers=ETAG,
               summary="A staff account (never its password)")
    def get_staff(principal, username):
        return with_etag(service.get_staff(username))

    @api.route(f"{PREFIX}/staff/<username>/deactivation", "POST", roles=ADMINS, body=DeactivationSchema,
               response=StaffSchema, response_headers=ETAG, headers=IF_MATCH, problems=STEP_PROBLEMS,
               summary="Deactivate an account: it cannot sign in and its refresh tokens are revoked; needs If-Match")
    def deactivate(principal, username, body):
        return with_etag(service.deactivate(principal, username, request.headers.get("If-Match"), body))

    @api.route(f"{PREFIX}/staff/<username>/password-reset", "POST", roles=ADMINS, response=StaffWithPasswordSchema,
               response_headers={**ETAG, **NO_CACHE}, headers=IF_MATCH, problems=STEP_PROBLEMS,
               summary="Reset a password: a temporary one, answered once, to change at next sign-in; unlocks the "
                       "account and revokes its refresh tokens; needs If-Match")
    def reset_password(principal, username):
        account, temporary = service.reset_password(principal, username, request.headers.get("If-Match"))
        return with_etag(handed_over(account, temporary), 200, **NO_CACHE)

    @api.route(f"{PREFIX}/staff/<username>/unlock", "POST", roles=ADMINS, response=StaffSchema,
               response_headers=ETAG, headers=IF_MATCH, problems=STEP_PROBLEMS,
               summary="Unlock an account locked by wrong passwords; needs If-Match")
    def unlock(principal, username):
        return with_etag(service.unlock(principal, username, request.headers.get("If-Match")))

    @api.route(f"{PREFIX}/me/password", "POST", roles=STAFF, body=PasswordChangeSchema, status=204,
               problems={403: "The current password is not right", 404: "Your token names no active staff account",
                         429: "Locked after repeated wrong passwords"},
               summary="Change your own password (the current one is needed); every session signs in again")
    def change_password(principal, body):
        with refusals():
            service.change_own_password(principal, body["current_password"], body["new_password"])
        return Reply(None, 204)

    return api


def trust_own_keys(settings: Settings, service: IdentityService) -> Settings:
    """Identity accepts the tokens it signs (an admin's, a staff member's changing their
    password) by reading its JWKS from its own database, never over HTTP from itself. With
    no JWT_JWKS_URL set, a URL of its own names that key set (never fetched)."""
    url = settings.jwt_jwks_url or f"http://localhost/identity-own-keys/{settings.database}"
    jwks.install(jwks.KeySet(url, settings.jwt_jwks_cache_seconds, fetch=lambda _url: service.jwks()))
    return replace(settings, jwt_jwks_url=url)


def create(settings: Settings | None = None, configure_logging: bool = True,
           config: IdentityConfig | None = None) -> Flask:
    settings = settings or Settings.from_env(bootstrap.SERVICE)
    config = config or IdentityConfig.from_env()
    service = bootstrap.build(settings, config)
    settings = trust_own_keys(settings, service)
    db = service.reads.db
    app = create_app(settings, make_api(service, config), title="Probashi identity",
                     description="Sign-in for staff (passwords, lockout, admin resets) and the tokens every service "
                                 "verifies: access tokens signed with Ed25519 keys published as a JWKS, refresh "
                                 "tokens that rotate and can be revoked.",
                     readiness={"database": lambda: mongo.ping(db), "broker": broker_check(settings)},
                     configure_logging=configure_logging)
    app.config["IDENTITY_SERVICE"] = service  # for tests and the commands that run beside the app
    return app
