"""Signing keys, audiences and token lifetimes: the rules that make the edge fail closed."""
from __future__ import annotations

import time

import jwt
import pytest

from shared.auth import ALGORITHM, InvalidToken, issue_token, verify_token
from shared.config import Settings

SECRET = "unit-test-signing-key-0123456789abcdef"


def settings(service="registration", **overrides) -> Settings:
    return Settings(service=service, **{"jwt_secret": SECRET, **overrides})


def signed(claims: dict, secret: str = SECRET) -> str:
    now = int(time.time())
    base = {"sub": "u-1", "role": "admin", "iss": "probashi", "aud": "registration", "iat": now, "exp": now + 600}
    return jwt.encode({**base, **claims}, secret, algorithm=ALGORITHM)


def test_there_is_no_default_signing_key():
    assert Settings(service="registration").jwt_secret == ""
    assert Settings.from_env("registration", {}).jwt_secret == ""
    with pytest.raises(RuntimeError, match="JWT_SECRET"):
        Settings.from_env("registration", {}).check_token_settings()


def test_the_once_published_development_key_is_refused_everywhere():
    for environment in ("development", "production"):
        with pytest.raises(RuntimeError, match="JWT_SECRET"):
            settings(jwt_secret="dev-only-insecure-secret-change-me", environment=environment).check_token_settings()


def test_a_short_key_is_refused_in_every_environment():
    for environment in ("development", "production"):
        with pytest.raises(RuntimeError, match="32"):
            settings(jwt_secret="short-but-private", environment=environment).check_token_settings()
        settings(environment=environment).check_token_settings()


def test_verifying_without_a_key_refuses_every_token():
    token = signed({})
    with pytest.raises(InvalidToken):
        verify_token(Settings(service="registration"), token)


def test_a_token_is_for_the_services_it_was_issued_for_by_default_all():
    everywhere = issue_token(settings("auth"), subject="u", role="admin")
    assert jwt.decode(everywhere, SECRET, algorithms=[ALGORITHM], audience="documents")["aud"] == [
        "claims", "complaints", "documents", "registration"]
    token = issue_token(settings("registration"), subject="u", role="admin", audience="registration")
    assert jwt.decode(token, SECRET, algorithms=[ALGORITHM], audience="registration")["aud"] == "registration"
    assert verify_token(settings("registration"), token).role == "admin"
    with pytest.raises(InvalidToken, match="(?i)audience"):
        verify_token(settings("documents"), token)


def test_one_token_may_name_several_services():
    token = issue_token(settings("auth"), subject="u", role="admin", audience=("registration", "documents"))
    assert verify_token(settings("registration"), token).subject == "u"
    assert verify_token(settings("documents"), token).subject == "u"
    with pytest.raises(InvalidToken):
        verify_token(settings("claims"), token)


def test_a_token_without_an_audience_is_refused():
    claims = {"sub": "u-1", "role": "admin", "iss": "probashi", "iat": int(time.time()), "exp": int(time.time()) + 60}
    with pytest.raises(InvalidToken, match="aud"):
        verify_token(settings(), jwt.encode(claims, SECRET, algorithm=ALGORITHM))


def test_a_correctly_signed_token_living_longer_than_the_maximum_is_refused():
    now = int(time.time())
    limit = settings().jwt_max_ttl_seconds
    assert verify_token(settings(), signed({"iat": now, "exp": now + limit})).role == "admin"
    with pytest.raises(InvalidToken, match="lifetime"):
        verify_token(settings(), signed({"iat": now, "exp": now + limit + 1}))
    with pytest.raises(InvalidToken, match="lifetime"):
        verify_token(settings(), signed({"iat": now, "exp": now + 100 * 365 * 86400}))


def test_tokens_longer_than_the_maximum_are_not_issued():
    with pytest.raises(ValueError, match="lifetime"):
        issue_token(settings(), subject="u", role="admin", ttl_seconds=settings().jwt_max_ttl_seconds + 1)
    with pytest.raises(RuntimeError, match="lifetime"):
        Settings.from_env("auth", {"JWT_SECRET": SECRET, "JWT_TTL_SECONDS": "90000",
                                          "JWT_MAX_TTL_SECONDS": "3600"}).check_token_settings()


def test_wrong_key_issuer_and_expiry_are_refused():
    with pytest.raises(InvalidToken):
        verify_token(settings(), signed({}, secret="another-key-of-sufficient-length-000000"))
    with pytest.raises(InvalidToken, match="issuer"):
        verify_token(settings(), signed({"iss": "someone-else"}))
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(settings(), signed({"iat": int(time.time()) - 120, "exp": int(time.time()) - 60}))


def test_a_token_dated_in_the_future_cannot_stretch_its_lifetime():
    later = int(time.time()) + 10 * 365 * 86400  # exp - iat is short, but exp is years away
    with pytest.raises(InvalidToken, match="iat"):
        verify_token(settings(), signed({"iat": later, "exp": later + 600}))
