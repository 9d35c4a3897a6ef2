"""One-time sign-in codes sent by SMS to migrants and their families: the rules, no I/O.

A code is 6 digits from `secrets`, valid for 5 minutes and 5 tries, and used once. Only
the newest code of a phone counts: asking again makes the earlier one useless.

Stored hashed: HMAC-SHA256 keyed with a random salt of the code's own, over the phone and
the code. Not argon2: a 6-digit code has a million values, so no hash, however slow, keeps
a stolen row's code secret for long - what protects it is that it dies within 5 minutes
and 5 tries. A slow hash would only make every verification cost tens of milliseconds of
CPU on a public, unauthenticated route. The hash keeps codes out of the database, its
backups and its change streams in clear; the salt makes each row a search of its own.

Rate limits count every request, for known and unknown phones alike (a limit that only
known phones reach would tell which phones are known), over a sliding window:
per phone (3 per 15 minutes) and per client address (10 per 15 minutes).

The answer to a request is the same whether the phone is known or not; the service
decides whether to send. Every refusal of a verification (wrong, expired, spent, no code,
unknown phone) is one answer too, so it cannot tell a known phone from an unknown one.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.spellings import compact

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
MAX_TRIES = 5
WINDOW = timedelta(minutes=15)
PER_PHONE = 3
PER_CLIENT = 10

# The outcome of a verification (events say which; the answer never does).
VERIFIED, WRONG, EXPIRED, SPENT, NO_CODE = "verified", "wrong", "expired", "spent", "no_code"
UNKNOWN_PHONE = "unknown_phone"  # the right code, for a phone nobody is known by

MESSAGES = {
    "bn": "প্রবাসী কোড: {code}। ৫ মিনিট বৈধ। কাউকে জানাবেন না।",
    "en": "Probashi code: {code}. Valid 5 minutes. Do not share it.",
}
DEFAULT_LANGUAGE = "bn"


@dataclass(frozen=True)
class Limits:
    per_phone: int = PER_PHONE
    per_client: int = PER_CLIENT
    window: timedelta = WINDOW


@dataclass(frozen=True)
class RateLimited:
    """Which limit a request ran into, and when the oldest request it counted leaves the window."""
    limit: str  # "phone" or "client"
    retry_after: timedelta


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def message(code: str, language: str = DEFAULT_LANGUAGE) -> str:
    # The code stays in ASCII digits in Bangla too: that is what a basic phone's keypad types.
    return MESSAGES.get(language, MESSAGES[DEFAULT_LANGUAGE]).format(code=code)


def _digest(salt: bytes, phone: str, code: str) -> str:
    return hmac.new(salt, f"{phone}\n{code}".encode(), hashlib.sha256).hexdigest()


def issued(phone: str, code: str, now: datetime, request_id: str) -> dict:
    """The stored record of a code sent to (normalised) `phone`: never the code itself."""
    salt = secrets.token_bytes(16)
    return {"_id": request_id, "phone": phone, "salt": salt.hex(), "hash": _digest(salt, phone, code),
            "created_at": now, "expires_at": now + CODE_LIFETIME, "tries": 0, "spent": False}


def normalised_code(text) -> str | None:
    """What a person typed as the code (Bangla digits, spaces) as 6 ASCII digits, or None."""
    try:
        code = compact(text)
    except ValueError:
        return None
    return code if len(code) == CODE_DIGITS and code.isascii() and code.isdigit() else None


def verify(record: dict | None, code: str, now: datetime) -> tuple[str, dict | None]:
    """The outcome of presenting `code` against a phone's newest record, and the record as it
    must be stored after (None: nothing to store). A try counts whatever it presents, so the
    sixth is refused even with the right code; a code that verified is spent."""
    if record is None:
        return NO_CODE, None
    if record["spent"] or record["tries"] >= MAX_TRIES:
        return SPENT, None
    if now >= record["expires_at"]:
        return EXPIRED, None
    tries = record["tries"] + 1
    expected = record["hash"]
    given = _digest(bytes.fromhex(record["salt"]), record["phone"], code or "")
    if hmac.compare_digest(expected, given):
        return VERIFIED, {**record, "tries": tries, "spent": True, "verified_at": now}
    return WRONG, {**record, "tries": tries, "spent": tries >= MAX_TRIES}


def rate_limited(requests: list[dict], phone: str, client: str, now: datetime,
                 limits: Limits = Limits()) -> RateLimited | None:
    """Whether one more request for `phone` from `client` goes over a limit, given the stored
    requests (`{"phone", "client", "at"}`, any age: those outside the window do not count)."""
    recent = [r for r in requests if r["at"] > now - limits.window]
    for limit, key, value, most in (("phone", "phone", phone, limits.per_phone),
                                    ("client", "client", client, limits.per_client)):
        counted = sorted(r["at"] for r in recent if r[key] == value)
        if len(counted) >= most:
            # Free again once enough of them leave the window for this one to fit.
            return RateLimited(limit, counted[len(counted) - most] + limits.window - now)
    return None


def request_record(request_id: str, phone: str, client: str, now: datetime) -> dict:
    return {"_id": request_id, "phone": phone, "client": client, "at": now}


def token_claims(phone: str, migrant_ref: str | None, cases: list[str]) -> dict | None:
    """Who a verified phone signs in as: the migrant whose own phone it is; otherwise a family
    member of the cases that record it; otherwise nobody (None)."""
    if migrant_ref:
        return {"subject": f"migrant:{migrant_ref}", "role": "migrant", "migrant_ref": migrant_ref,
                "phone_number": phone}
    if cases:
        return {"subject": f"family:{phone}", "role": "family", "cases": sorted(cases), "phone_number": phone}
    return None
