"""Asymmetric tokens: which keys a service trusts, and the tokens it refuses whatever they claim."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from shared import jwks
from shared.auth import (DEV_KID_PREFIX, InvalidToken, dev_key, dev_kid, issue_token, sign, verify_token,
                         write_dev_key)
from shared.config import ConfigError, Settings
from tests import harness

JWKS_URL = "https://identity.test/api/v1/.well-known/jwks.json"


def settings(service="registration", **overrides) -> Settings:
    return Settings(service=service, **{"jwt_dev_key_file": harness.dev_key_file(), **overrides})


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"sub": "u-1", "role": "admin", "iss": "probashi", "aud": "registration", "iat": now, "exp": now + 600}
    return {key: value for key, value in {**base, **changes}.items() if value is not ...}


def dev_signed(**changes) -> str:
    key = dev_key(settings())
    return sign(claims(**changes), key.private_key, key.kid)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, payload: dict, signature: bytes = b"") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)])


# -- the development key ---------------------------------------------------------------------------

def test_the_development_key_signs_and_its_tokens_verify():
    token = issue_token(settings("auth"), subject="u", role="admin", audience="registration")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"].startswith(DEV_KID_PREFIX)
    assert header["kid"] == dev_kid(dev_key(settings()).private_key.public_key())
    assert verify_token(settings("registration"), token).subject == "u"


def test_a_service_that_trusts_no_key_does_not_start():
    with pytest.raises(RuntimeError, match="JWT_JWKS_URL"):
        Settings(service="registration").check_token_settings()
    with pytest.raises(RuntimeError, match="JWT_JWKS_URL"):
        Settings.from_env("registration", {"JWT_SECRET": "x" * 64}).check_token_settings()  # no longer a key
    with pytest.raises(InvalidToken):
        verify_token(Settings(service="registration"), dev_signed())
    Settings.from_env("registration", {"JWT_JWKS_URL": JWKS_URL}).check_token_settings()


def test_the_token_settings_come_from_the_environment_and_are_checked():
    read = Settings.from_env("claims", {"JWT_JWKS_URL": JWKS_URL, "JWT_JWKS_CACHE_SECONDS": "30",
                                        "JWT_ISSUER": "https://idp.test/realms/probashi"})
    assert (read.jwt_jwks_url, read.jwt_jwks_cache_seconds, read.jwt_issuer, read.jwt_dev_key_file) == (
        JWKS_URL, 30.0, "https://idp.test/realms/probashi", "")
    with pytest.raises(ConfigError, match="JWT_JWKS_CACHE_SECONDS"):
        Settings.from_env("claims", {"JWT_JWKS_CACHE_SECONDS": "five minutes"})
    with pytest.raises(RuntimeError, match="JWT_JWKS_CACHE_SECONDS"):
        Settings(service="claims", jwt_jwks_url=JWKS_URL, jwt_jwks_cache_seconds=0).check_token_settings()
    with pytest.raises(RuntimeError, match="http"):
        Settings(service="claims", jwt_jwks_url="identity-api:8005/jwks.json").check_token_settings()


def test_production_refuses_the_development_key_setting_and_dev_tokens():
    with pytest.raises(RuntimeError, match="JWT_DEV_KEY_FILE"):
        settings(environment="production").check_token_settings()
    with pytest.raises(RuntimeError, match="production"):
        issue_token(settings(environment="production"), subject="u", role="admin")
    production = Settings(service="registration", environment="production", jwt_jwks_url="https://prod.test/jwks")
    with pytest.raises(InvalidToken, match="production"):
        verify_token(production, dev_signed())


def test_production_refuses_a_dev_kid_even_from_its_jwks():
    key = ed25519.Ed25519PrivateKey.generate()
    jwks.install(jwks.KeySet("https://prod.test/dev-kid", 300, fetch=lambda _url: {
        "keys": [jwks.public_jwk(key.public_key(), "dev-published-by-mistake")]}))
    production = Settings(service="registration", environment="production", jwt_jwks_url="https://prod.test/dev-kid")
    with pytest.raises(InvalidToken, match="production"):
        verify_token(production, sign(claims(), key, "dev-published-by-mistake"))


def test_a_development_key_file_must_hold_a_private_ed25519_key(tmp_path):
    readable = write_dev_key(tmp_path / "open.pem")
    readable.chmod(0o644)
    with pytest.raises(RuntimeError, match="chmod 600"):
        settings(jwt_dev_key_file=str(readable)).check_token_settings()
    rsa_file = tmp_path / "rsa.pem"
    rsa_file.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    rsa_file.chmod(0o600)
    with pytest.raises(RuntimeError, match="Ed25519"):
        settings(jwt_dev_key_file=str(rsa_file)).check_token_settings()
    with pytest.raises(RuntimeError, match="JWT_DEV_KEY_FILE"):
        settings(jwt_dev_key_file=str(tmp_path / "missing.pem")).check_token_settings()
    with pytest.raises(FileExistsError):  # never overwrites a key
        write_dev_key(readable)


# -- tokens refused ---------------------------------------------------------------------------------

def test_a_token_signed_by_another_key_is_refused():
    intruder = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(InvalidToken, match="(?i)signature"):  # claiming the development key's kid
        verify_token(settings(), sign(claims(), intruder, dev_key(settings()).kid))
    with pytest.raises(InvalidToken, match="unknown key id"):  # under its own
        verify_token(settings(), sign(claims(), intruder, dev_kid(intruder.public_key())))
    embedded = jwt.encode(claims(), intruder, algorithm="EdDSA", headers={  # a key the token brings is no key
        "kid": dev_key(settings()).kid, "jwk": jwks.public_jwk(intruder.public_key(), "mine"), "jku": "https://x.test"})
    with pytest.raises(InvalidToken, match="(?i)signature"):
        verify_token(settings(), embedded)


def test_a_token_without_a_kid_or_with_an_unknown_one_is_refused():
    private = dev_key(settings()).private_key
    with pytest.raises(InvalidToken, match="kid"):
        verify_token(settings(), jwt.encode(claims(), private, algorithm="EdDSA"))
    with pytest.raises(InvalidToken, match="unknown key id"):
        verify_token(settings(), sign(claims(), private, "key-nobody-published"))


def test_alg_none_is_refused():
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": dev_key(settings()).kid})
    with pytest.raises(InvalidToken, match="algorithm"):
        verify_token(settings(), unsigned)


def test_hs256_with_the_public_key_as_the_secret_is_refused():
    """The classic confusion: the public key is public, so an HMAC made with it proves nothing."""
    public = dev_key(settings()).private_key.public_key()
    for secret in (public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
                   public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)):
        header = {"alg": "HS256", "typ": "JWT", "kid": dev_key(settings()).kid}
        unsigned = hand_made(header, claims()).rsplit(".", 1)[0]
        forged = f"{unsigned}.{b64(hmac.new(secret, unsigned.encode(), hashlib.sha256).digest())}"
        with pytest.raises(InvalidToken, match="algorithm"):
            verify_token(settings(), forged)


def test_a_token_whose_algorithm_is_not_its_keys_is_refused():
    header = {"alg": "RS256", "typ": "JWT", "kid": dev_key(settings()).kid}
    with pytest.raises(InvalidToken, match="EdDSA"):
        verify_token(settings(), hand_made(header, claims(), b"x" * 256))


def test_another_issuer_expired_and_wrong_audience_are_refused():
    with pytest.raises(InvalidToken, match="issuer"):
        verify_token(settings(), dev_signed(iss="someone-else"))
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(settings(), dev_signed(iat=int(time.time()) - 120, exp=int(time.time()) - 60))
    with pytest.raises(InvalidToken, match="(?i)audience"):
        verify_token(settings("documents"), dev_signed(aud="registration"))
    with pytest.raises(InvalidToken, match="aud"):
        verify_token(settings(), dev_signed(aud=...))


def test_a_correctly_signed_token_living_longer_than_the_maximum_is_refused():
    now = int(time.time())
    limit = settings().jwt_max_ttl_seconds
    assert verify_token(settings(), dev_signed(iat=now, exp=now + limit)).role == "admin"
    with pytest.raises(InvalidToken, match="lifetime"):
        verify_token(settings(), dev_signed(iat=now, exp=now + limit + 1))
    with pytest.raises(InvalidToken, match="lifetime"):
        verify_token(settings(), dev_signed(iat=now, exp=now + 100 * 365 * 86400))


def test_a_token_dated_in_the_future_cannot_stretch_its_lifetime():
    later = int(time.time()) + 10 * 365 * 86400  # exp - iat is short, but exp is years away
    with pytest.raises(InvalidToken, match="iat"):
        verify_token(settings(), dev_signed(iat=later, exp=later + 600))


def test_tokens_longer_than_the_maximum_are_not_issued():
    with pytest.raises(ValueError, match="lifetime"):
        issue_token(settings(), subject="u", role="admin", ttl_seconds=settings().jwt_max_ttl_seconds + 1)
    with pytest.raises(RuntimeError, match="lifetime"):
        Settings.from_env("auth", {"JWT_DEV_KEY_FILE": harness.dev_key_file(), "JWT_TTL_SECONDS": "90000",
                                   "JWT_MAX_TTL_SECONDS": "3600"}).check_token_settings()


# -- audiences, roles -------------------------------------------------------------------------------

def test_a_token_is_for_the_services_it_was_issued_for_by_default_all():
    everywhere = issue_token(settings("auth"), subject="u", role="admin")
    assert jwt.decode(everywhere, options={"verify_signature": False})["aud"] == [
        "casestatus", "claims", "complaints", "directory", "documents", "identity", "registration"]
    token = issue_token(settings("registration"), subject="u", role="admin", audience="registration")
    assert verify_token(settings("registration"), token).role == "admin"
    with pytest.raises(InvalidToken, match="(?i)audience"):
        verify_token(settings("documents"), token)


def test_one_token_may_name_several_services():
    token = issue_token(settings("auth"), subject="u", role="admin", audience=("registration", "documents"))
    assert verify_token(settings("registration"), token).subject == "u"
    assert verify_token(settings("documents"), token).subject == "u"
    with pytest.raises(InvalidToken):
        verify_token(settings("claims"), token)


def test_a_family_token_carries_the_cases_it_may_see_and_nothing_without_them():
    token = issue_token(settings(), subject="phone:+8801712345678", role="family", cases=["CLM-2026-ABCDEFGH"])
    principal = verify_token(settings(), token)
    assert (principal.role, principal.cases, principal.is_staff) == ("family", ("CLM-2026-ABCDEFGH",), False)
    with pytest.raises(ValueError, match="cases"):
        issue_token(settings(), subject="x", role="family")
    with pytest.raises(InvalidToken, match="cases"):
        verify_token(settings(), dev_signed(role="family"))
    with pytest.raises(InvalidToken, match="cases"):
        verify_token(settings(), dev_signed(role="family", cases="CLM-2026-ABCDEFGH"))


# -- keys from a JWKS -------------------------------------------------------------------------------

class FakeJwks:
    """The identity provider's JWKS behind KeySet's fetch port: what it publishes, and how
    often it was asked."""

    def __init__(self, *keys):
        self.published = list(keys)
        self.fetches = 0
        self.down = False

    def __call__(self, url: str) -> dict:
        self.fetches += 1
        if self.down:
            raise OSError("connection refused")
        return {"keys": [jwks.public_jwk(key.public_key(), kid) for kid, key in self.published]}


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def identity_key(name: str) -> tuple[str, ed25519.Ed25519PrivateKey]:
    return name, ed25519.Ed25519PrivateKey.generate()


def trusting(url: str, fake: FakeJwks, clock: FakeClock, cache_seconds: float = 300) -> Settings:
    jwks.install(jwks.KeySet(url, cache_seconds, fetch=fake, clock=clock))
    return Settings(service="registration", jwt_jwks_url=url, jwt_jwks_cache_seconds=cache_seconds)


def test_tokens_signed_by_a_published_key_verify_and_the_keys_are_cached():
    a = identity_key("key-a")
    fake, clock = FakeJwks(a), FakeClock()
    service = trusting("https://identity.test/cached", fake, clock)
    for _ in range(3):
        assert verify_token(service, sign(claims(), a[1], "key-a")).subject == "u-1"
    assert fake.fetches == 1


def test_an_unknown_kid_refetches_at_once_but_not_more_than_once_per_ten_seconds():
    a, b, c = identity_key("key-a"), identity_key("key-b"), identity_key("key-c")
    fake, clock = FakeJwks(a), FakeClock()
    service = trusting("https://identity.test/rotation", fake, clock)
    assert verify_token(service, sign(claims(), a[1], "key-a"))
    fake.published.append(b)  # identity rotates: B is published, A still is
    clock.now += 1
    assert verify_token(service, sign(claims(), b[1], "key-b")).subject == "u-1"
    assert fake.fetches == 2
    for n in range(20):  # made-up kids do not make every request a fetch
        with pytest.raises(InvalidToken, match="unknown key id"):
            verify_token(service, sign(claims(), c[1], f"made-up-{n}"))
    assert fake.fetches == 2
    fake.published.append(c)
    clock.now += 5
    with pytest.raises(InvalidToken, match="unknown key id"):
        verify_token(service, sign(claims(), c[1], "key-c"))
    assert fake.fetches == 2
    clock.now += 5  # ten seconds after the last refetch
    assert verify_token(service, sign(claims(), c[1], "key-c"))
    assert fake.fetches == 3
    assert verify_token(service, sign(claims(), a[1], "key-a"))  # the old key still verifies


def test_a_retired_key_is_refused_once_the_cache_time_has_passed():
    a, b = identity_key("key-a"), identity_key("key-b")
    fake, clock = FakeJwks(a, b), FakeClock()
    service = trusting("https://identity.test/retire", fake, clock, cache_seconds=60)
    assert verify_token(service, sign(claims(), a[1], "key-a"))
    fake.published.remove(a)
    clock.now += 59
    assert verify_token(service, sign(claims(), a[1], "key-a"))  # still cached
    clock.now += 1
    with pytest.raises(InvalidToken, match="unknown key id"):
        verify_token(service, sign(claims(), a[1], "key-a"))
    assert verify_token(service, sign(claims(), b[1], "key-b"))


def test_when_the_jwks_cannot_be_fetched_the_known_keys_stay_and_retries_are_paced():
    a = identity_key("key-a")
    fake, clock = FakeJwks(a), FakeClock()
    service = trusting("https://identity.test/down", fake, clock, cache_seconds=60)
    assert verify_token(service, sign(claims(), a[1], "key-a"))
    fake.down = True
    clock.now += 60
    assert verify_token(service, sign(claims(), a[1], "key-a"))  # expired cache, failed fetch: keep A
    assert fake.fetches == 2
    for _ in range(5):
        assert verify_token(service, sign(claims(), a[1], "key-a"))
    assert fake.fetches == 2
    fake.down = False
    clock.now += 10
    assert verify_token(service, sign(claims(), a[1], "key-a"))
    assert fake.fetches == 3


def test_an_rs256_key_from_the_jwks_verifies_as_keycloak_would_sign():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    url = "https://keycloak.test/realms/probashi/protocol/openid-connect/certs"
    jwks.install(jwks.KeySet(url, 300, fetch=lambda _url: {"keys": [
        {**jwks.public_jwk(key.public_key(), "rsa-enc"), "use": "enc", "alg": "RSA-OAEP"},
        jwks.public_jwk(key.public_key(), "rsa-sig")]}))
    service = Settings(service="registration", jwt_jwks_url=url)
    token = sign(claims(), key, "rsa-sig")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert verify_token(service, token).role == "admin"
    with pytest.raises(InvalidToken, match="unknown key id"):  # an encryption key is no signing key
        verify_token(service, sign(claims(), key, "rsa-enc"))


def test_a_jwks_document_keeps_only_signing_keys_it_can_use():
    ed, rs = ed25519.Ed25519PrivateKey.generate(), rsa.generate_private_key(public_exponent=65537, key_size=2048)
    document = {"keys": [jwks.public_jwk(ed.public_key(), "ed"), jwks.public_jwk(rs.public_key(), "rs"),
                         {**jwks.public_jwk(rs.public_key(), "rs512"), "alg": "RS512"},
                         {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
                         {"kty": "OKP", "crv": "Ed25519", "kid": "broken", "x": "!!"},
                         jwks.public_jwk(ed.public_key(), ""), "not a key"]}
    assert {kid: key.algorithm for kid, key in jwks.parse(document).items()} == {"ed": "EdDSA", "rs": "RS256"}
    assert jwks.parse({"nothing": []}) == {} and jwks.parse([]) == {}


def test_a_jwk_thumbprint_is_the_rfc_7638_one():
    # RFC 8037 appendix A.3: the thumbprint of its example Ed25519 public key.
    public = ed25519.Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="))
    assert jwks.thumbprint(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_make_token_prints_a_token_signed_with_the_development_key(monkeypatch, capsys, tmp_path):
    from shared.auth import main
    monkeypatch.setenv("JWT_DEV_KEY_FILE", harness.dev_key_file())
    monkeypatch.delenv("PROBASHI_ENV", raising=False)
    main(["token", "--role", "family", "--case", "CLM-2026-ABCDEFGH", "--audience", "claims"])
    principal = verify_token(settings("claims"), capsys.readouterr().out.strip())
    assert (principal.role, principal.cases) == ("family", ("CLM-2026-ABCDEFGH",))
    monkeypatch.setenv("JWT_DEV_KEY_FILE", str(tmp_path / "never-made.pem"))
    with pytest.raises(SystemExit):
        main(["token", "--role", "admin"])
    assert "make run" in capsys.readouterr().err
