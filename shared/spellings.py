"""Phone numbers and recruiting-agency licences, one rule for every service that takes them:
each `normalise_*` returns the one stored spelling (+8801XXXXXXXXX, RL-<n>) or raises
ValueError with a message fit to show beside the field, and each pattern is every spelling
it takes, as the OpenAPI documents publish it (`shared.fields.Normalised` pairs the two and
refuses what the pattern does not admit, e.g. a number split by a line break).

Patterns are written in the subset of regex syntax that Python, ECMA-262 (OpenAPI) and Rust
share: explicit character classes with \\uXXXX escapes, no \\d or \\s (whose meaning differs).
The building blocks are public so a service can spell its own values the same way
(registration's NID, passport ... in services/registration/spellings.py).
"""
from __future__ import annotations

import re

# Bangla keyboards type Bengali digits; every rule below is written in ASCII ones.
_BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")


def compact(text: str, separators: str = "-") -> str:
    """`text` with Bengali digits made ASCII and whitespace and `separators` removed."""
    if not isinstance(text, str):
        raise ValueError("Must be text.")
    text = text.translate(_BENGALI_DIGITS)
    return "".join(ch for ch in text if not ch.isspace() and ch not in separators)


def ascii_upper(text: str) -> str:
    # Upper-casing non-ASCII can invent ASCII letters ("ß" -> "SS"); leave it to fail.
    return text.upper() if text.isascii() else text


# -- pattern building blocks -------------------------------------------------------------------

# Where a value may be split up: spaces, tabs and no-break spaces (pasted from documents
# and Bangla keyboards). Other whitespace `compact` would drop is refused.
WHITESPACE = " \\t\\u00a0"
_BENGALI_ZERO = 0x09E6
ANY_DIGIT = "[0-9\\u09e6-\\u09ef]"


def digit(value: int) -> str:
    return f"[{value}\\u{_BENGALI_ZERO + value:04x}]"


def digits(low: int, high: int) -> str:
    return f"[{low}-{high}\\u{_BENGALI_ZERO + low:04x}-\\u{_BENGALI_ZERO + high:04x}]"


def gap(separators: str = "") -> str:
    """Any run of whitespace and `separators` (a hyphen, if any, last)."""
    return f"[{WHITESPACE}{separators}]*"


def spaced(units: list[str], separators: str = "") -> str:
    """`units` in order, with whitespace (and `separators`) allowed before, between and after."""
    between = gap(separators)
    return "^" + between + "".join(f"{unit}{between}" for unit in units) + "$"


def repeat(unit: str, between: str, count: str) -> str:
    return f"(?:{unit}{between}){{{count}}}"


DIGIT_GAP = gap("-")

# -- phone -------------------------------------------------------------------------------------

# The national form is 01 + operator digit (3-9) + 8 digits; "+88" / "88" / "0088"
# before it is the country code 880 written the way people write it.
_MOBILE = re.compile(r"(?:(?:\+|00)?88)?(01[3-9][0-9]{8})")


def normalise_phone(text: str) -> str:
    """A Bangladesh mobile number as +8801XXXXXXXXX."""
    match = _MOBILE.fullmatch(compact(text, "-()"))
    if not match:
        raise ValueError("Not a Bangladesh mobile number (e.g. 01712345678).")
    return "+88" + match.group(1)


_PHONE_GAP = gap("()-")
_COUNTRY_CODE = (f"(?:(?:\\+{_PHONE_GAP}|{digit(0)}{_PHONE_GAP}{digit(0)}{_PHONE_GAP})?"  # +88, 0088 or 88
                 f"{digit(8)}{_PHONE_GAP}{digit(8)}{_PHONE_GAP})?")
PHONE = spaced([_COUNTRY_CODE + digit(0), digit(1), digits(3, 9), repeat(ANY_DIGIT, _PHONE_GAP, "8")], "()-")

# -- recruiting-agency licence -----------------------------------------------------------------

_LICENCE = re.compile(r"RL([0-9]{1,5})")
_LICENCE_OR_NUMBER = re.compile(r"(?:RL)?([0-9]{1,5})")


def _licence(text: str, rule: re.Pattern) -> str:
    match = rule.fullmatch(ascii_upper(compact(text)))
    if not match or int(match.group(1)) == 0:
        raise ValueError("Licence must look like RL-1234.")
    # RL-0123 and RL-123 are one licence; one spelling keeps agency lookups exact.
    return f"RL-{int(match.group(1))}"


def normalise_licence(text: str) -> str:
    """A recruiting-agency licence as RL-<number>, without leading zeros."""
    return _licence(text, _LICENCE)


def normalise_licence_or_number(text: str) -> str:
    """As `normalise_licence`, and the number alone ("1234") names the licence too."""
    return _licence(text, _LICENCE_OR_NUMBER)


# 1-5 digits that are not all zeros: the zeros before the first other digit, spelled out.
_LICENCE_NUMBER = "(?:" + "|".join(
    repeat(digit(0), DIGIT_GAP, str(zeros)) * bool(zeros) + digits(1, 9) + DIGIT_GAP
    + repeat(ANY_DIGIT, DIGIT_GAP, f"0,{4 - zeros}")
    for zeros in range(5)) + ")"
LICENCE = spaced(["[Rr]", "[Ll]", _LICENCE_NUMBER], "-")
LICENCE_OR_NUMBER = spaced([f"(?:[Rr]{DIGIT_GAP}[Ll]{DIGIT_GAP})?{_LICENCE_NUMBER}"], "-")
