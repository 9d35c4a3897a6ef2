"""The public keys a service trusts, fetched from a JWKS (identity's, or Keycloak's certs).

A `KeySet` keeps the keys by `kid` for JWT_JWKS_CACHE_SECONDS, then fetches again on the
next verification. A token naming a `kid` it does not hold makes it fetch at once - that is
how a new signing key is trusted the moment identity publishes it - but at most once per
UNKNOWN_KID_INTERVAL seconds, so a flood of made-up kids cannot turn every request into a
fetch. When a fetch fails the keys fetched before stay trusted (identity restarting must not
sign everybody out) and the next attempt waits the same interval.

Only signing keys for the algorithms verifiers accept are kept: Ed25519 (`EdDSA`) and RSA
(`RS256`, so Keycloak can replace identity); an encryption key or another algorithm in the
same document is skipped.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

log = logging.getLogger("probashi.jwks")

ALGORITHMS = ("EdDSA", "RS256")  # never `none`, never HS*: a public key is no shared secret
UNKNOWN_KID_INTERVAL = 10.0
FETCH_TIMEOUT = 3.0
MAX_DOCUMENT_BYTES = 256 * 1024

Fetcher = Callable[[str], dict]  # JWKS URL -> the parsed document; raises on any failure
Clock = Callable[[], float]  # seconds, only ever compared with itself


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    algorithm: str
    key: object  # a cryptography public key

    @classmethod
    def of(cls, kid: str, public_key) -> "TrustedKey":
        return cls(kid, algorithm_for(public_key), public_key)


def algorithm_for(key) -> str:
    """The one algorithm a key signs or verifies with: a key is never tried under another."""
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "EdDSA"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "RS256"
    raise ValueError(f"unsupported key type {type(key).__name__}: use Ed25519 (or RSA)")


def public_jwk(public_key, kid: str) -> dict:
    """A key as a JWKS entry: what identity publishes at /.well-known/jwks.json."""
    algorithm = algorithm_for(public_key)
    codec = jwt.algorithms.OKPAlgorithm if algorithm == "EdDSA" else jwt.algorithms.RSAAlgorithm
    return {**codec.to_jwk(public_key, as_dict=True), "kid": kid, "use": "sig", "alg": algorithm}


def thumbprint(public_key) -> str:
    """RFC 7638 JWK thumbprint (base64url SHA-256 of the required members, sorted): a key id
    that anyone holding the public key can recompute."""
    jwk = public_jwk(public_key, "")
    required = {"OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def parse(document: dict) -> dict[str, TrustedKey]:
    """The signing keys of a JWKS document, by kid; anything else in it is skipped."""
    keys = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or not entry["kid"]:
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", _default_alg(entry)) not in ALGORITHMS:
            continue
        try:
            key = jwt.PyJWK(entry).key
            keys[entry["kid"]] = TrustedKey.of(entry["kid"], key)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            log.warning("skipping JWKS key %r: %s", entry.get("kid"), exc)
    return keys


def _default_alg(entry: dict) -> str | None:
    return {"OKP": "EdDSA" if entry.get("crv") == "Ed25519" else None, "RSA": "RS256"}.get(entry.get("kty"))


def http_fetch(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
        body = response.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"JWKS document larger than {MAX_DOCUMENT_BYTES} bytes")
    return json.loads(body)


class KeySet:
    def __init__(self, url: str, cache_seconds: float, fetch: Fetcher = http_fetch, clock: Clock = time.monotonic,
                 unknown_kid_interval: float = UNKNOWN_KID_INTERVAL):
        self.url, self.cache_seconds, self.fetch, self.clock = url, cache_seconds, fetch, clock
        self.unknown_kid_interval = unknown_kid_interval
        self.keys: dict[str, TrustedKey] = {}
        self._fresh_until: float | None = None  # None: never fetched
        self._retry_after = float("-inf")  # after a failed fetch
        self._last_unknown_kid_fetch = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str) -> TrustedKey | None:
        with self._lock:
            now = self.clock()
            if now < self._retry_after:  # the last fetch failed a moment ago
                return self.keys.get(kid)
            if self._fresh_until is None or now >= self._fresh_until:
                self._refresh(now)
            elif kid not in self.keys and now - self._last_unknown_kid_fetch >= self.unknown_kid_interval:
                self._last_unknown_kid_fetch = now
                self._refresh(now)
            return self.keys.get(kid)

    def _refresh(self, now: float) -> None:
        try:
            self.keys = parse(self.fetch(self.url))
            self._fresh_until = now + self.cache_seconds
        except Exception as exc:  # noqa: BLE001 - any failure to fetch or parse: keep what we had
            self._retry_after = now + self.unknown_kid_interval
            log.warning("could not fetch the JWKS at %s (keeping %d known keys): %s", self.url, len(self.keys), exc)


_key_sets: dict[str, KeySet] = {}
_key_sets_lock = threading.Lock()


def key_set(url: str, cache_seconds: float) -> KeySet:
    """The process's one KeySet for a JWKS URL: every request of every thread shares its cache."""
    with _key_sets_lock:
        if url not in _key_sets:
            _key_sets[url] = KeySet(url, cache_seconds)
        return _key_sets[url]


def install(keys: KeySet) -> KeySet:
    """Use `keys` for its URL in this process: a KeySet with another fetcher (a service that
    reads its own keys from its database, a test's fake) instead of one over HTTP."""
    with _key_sets_lock:
        _key_sets[keys.url] = keys
    return keys
