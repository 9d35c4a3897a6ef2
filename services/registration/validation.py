"""Rules for what an operator types at registration.

Each `normalise_*` returns the one stored spelling of a value or raises ValueError with a
short message fit to show beside the field. No I/O: "today" is always passed in.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date

from shared import spellings
from shared.check_characters import ALPHABET, check_character
from shared.spellings import ascii_upper as _ascii_upper, compact as _compact

from .reference_data import COUNTRIES, COUNTRY_ALIASES, find_district

# Phones and agency licences: the rule every service shares (shared/spellings.py).
normalise_phone = spellings.normalise_phone
normalise_licence = spellings.normalise_licence


def normalise_nid(text: str) -> str:
    """A national ID number: 10 digits (smart card) or 13 / 17 (older cards)."""
    digits = _compact(text)
    if not re.fullmatch(r"[0-9]{10}|[0-9]{13}|[0-9]{17}", digits):
        raise ValueError("NID must be 10, 13 or 17 digits.")
    return digits


def normalise_birth_registration(text: str) -> str:
    """A birth registration number: 17 digits."""
    digits = _compact(text)
    if not re.fullmatch(r"[0-9]{17}", digits):
        raise ValueError("Birth registration number must be 17 digits.")
    return digits


def normalise_passport(text: str) -> str:
    """A Bangladesh passport number: 1-2 letters then 7-8 digits, upper case."""
    number = _ascii_upper(_compact(text, ""))
    if not re.fullmatch(r"[A-Z]{1,2}[0-9]{7,8}", number):
        raise ValueError("Passport number must be 1-2 letters then 7-8 digits (e.g. BX0123456).")
    return number


# ZWNJ / ZWJ shape conjuncts (e.g. the ya-phala in র‍্য), so real names contain them.
_BANGLA_NAME_EXTRAS = frozenset(" .-\u200c\u200d")


def is_bangla_name(text: str) -> bool:
    """True if `text` is Bengali letters and signs, spaces, dots, hyphens, with a letter."""
    if not isinstance(text, str):
        return False
    has_letter = False
    for ch in text:
        if ch in _BANGLA_NAME_EXTRAS:
            continue
        kind = unicodedata.category(ch)[0]
        # Letters and vowel signs only: Bengali digits, currency and unassigned points are out.
        if not "\u0980" <= ch <= "\u09ff" or kind not in "LM":
            return False
        has_letter = has_letter or kind == "L"
    return has_letter


def normalise_district(text: str) -> str:
    """The official English name of a district, from any case or older spelling."""
    name = find_district(text) if isinstance(text, str) else None
    if name is None:
        raise ValueError("Unknown district.")
    return name


def normalise_country(text: str) -> str:
    """An ISO 3166-1 alpha-2 country code, upper case."""
    code = _ascii_upper(_compact(text, ""))
    code = COUNTRY_ALIASES.get(code, code)
    if code not in COUNTRIES:
        raise ValueError("Not a two-letter ISO country code (e.g. SA).")
    return code


EARLIEST_BIRTH_DATE = date(1900, 1, 1)
MINIMUM_AGE_YEARS = 15


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def check_date_of_birth(value: date, today: date, minimum_age_years: int = MINIMUM_AGE_YEARS) -> date:
    """A plausible date of birth for a worker: after 1900 and old enough on `today`."""
    if value >= today:
        raise ValueError("Date of birth must be in the past.")
    if value <= EARLIEST_BIRTH_DATE:
        raise ValueError(f"Date of birth must be after {EARLIEST_BIRTH_DATE.isoformat()}.")
    if value > years_before(today, minimum_age_years):
        raise ValueError(f"Must be at least {minimum_age_years} years old.")
    return value


def check_not_future(value: date, today: date) -> date:
    if value > today:
        raise ValueError("Must not be in the future.")
    return value


def check_future(value: date, today: date) -> date:
    if value <= today:
        raise ValueError("Must be in the future.")
    return value


REFERENCE_ALPHABET = ALPHABET  # shared/check_characters.py says why these characters
_REFERENCE_BODY_LENGTH = 8  # 7 random characters, then their check character


def _format_reference(body: str) -> str:
    return f"PB-{body[:4]}-{body[4:]}"


def new_reference(rng=secrets) -> str:
    """A new migrant reference "PB-XXXX-XXXX"; the last character checks the other 7.

    `rng` is anything with `choice` (secrets, random.Random(seed)). 30**7 (about 2e10)
    values make a clash unlikely, but the store must still insist on uniqueness.
    """
    payload = "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(_REFERENCE_BODY_LENGTH - 1))
    return _format_reference(payload + check_character(payload))


def normalise_reference(text: str) -> str:
    """A migrant reference as PB-XXXX-XXXX, from any case, with or without hyphens."""
    compact = _ascii_upper(_compact(text))
    body = compact[2:]
    if (not compact.startswith("PB") or len(body) != _REFERENCE_BODY_LENGTH
            or any(ch not in REFERENCE_ALPHABET for ch in body)):
        raise ValueError("Reference must look like PB-XXXX-XXXX.")
    if check_character(body[:-1]) != body[-1]:
        raise ValueError("Reference has a typo: please check each character.")
    return _format_reference(body)


def is_valid_reference(text: str) -> bool:
    """True if `text` is a well-formed reference whose check character matches."""
    try:
        normalise_reference(text)
    except ValueError:
        return False
    return True
