"""Every spelling `validation.normalise_*` accepts, as the regular expressions the OpenAPI
document publishes: a client that sends what a pattern admits gets it accepted, and the
fields (`schemas.Normalised`) refuse what a pattern does not admit, even where the
normaliser would have cleaned it up (a line break inside an NID).

Written in the subset of regex syntax that Python, ECMA-262 (OpenAPI) and Rust share:
explicit character classes with \\uXXXX escapes, no \\d or \\s (whose meaning differs).
"""
from __future__ import annotations

import re
import unicodedata

from shared.fields import TEXT_WHITESPACE

from .reference_data import COUNTRIES, COUNTRY_ALIASES, DISTRICTS, _DISTRICT_ALIASES
from .validation import REFERENCE_ALPHABET


# Where a value may be split up: spaces, tabs and no-break spaces (pasted from documents
# and Bangla keyboards). Other whitespace `validation._compact` would drop is refused.
_WHITESPACE = " \\t\\u00a0"
_BENGALI_ZERO = 0x09E6
ANY_DIGIT = "[0-9\\u09e6-\\u09ef]"


def _digit(value: int) -> str:
    return f"[{value}\\u{_BENGALI_ZERO + value:04x}]"


def _digits(low: int, high: int) -> str:
    return f"[{low}-{high}\\u{_BENGALI_ZERO + low:04x}-\\u{_BENGALI_ZERO + high:04x}]"


def _gap(separators: str = "") -> str:
    """Any run of whitespace and `separators` (a hyphen, if any, last)."""
    return f"[{_WHITESPACE}{separators}]*"


def _spaced(units: list[str], separators: str = "") -> str:
    """`units` in order, with whitespace (and `separators`) allowed before, between and after."""
    gap = _gap(separators)
    return "^" + gap + "".join(f"{unit}{gap}" for unit in units) + "$"


def _repeat(unit: str, gap: str, count: str) -> str:
    return f"(?:{unit}{gap}){{{count}}}"


_DIGIT_GAP = _gap("-")
NID = _spaced([f"(?:{'|'.join(_repeat(ANY_DIGIT, _DIGIT_GAP, n) for n in ('10', '13', '17'))})"], "-")
BIRTH_REGISTRATION = _spaced([_repeat(ANY_DIGIT, _DIGIT_GAP, "17")], "-")

_PHONE_GAP = _gap("()-")
_COUNTRY_CODE = (f"(?:(?:\\+{_PHONE_GAP}|{_digit(0)}{_PHONE_GAP}{_digit(0)}{_PHONE_GAP})?"  # +88, 0088 or 88
                 f"{_digit(8)}{_PHONE_GAP}{_digit(8)}{_PHONE_GAP})?")
PHONE = _spaced([_COUNTRY_CODE + _digit(0), _digit(1), _digits(3, 9), _repeat(ANY_DIGIT, _PHONE_GAP, "8")], "()-")

_SPACE = _gap()
PASSPORT = _spaced(["[A-Za-z]", f"(?:[A-Za-z]{_SPACE})?" + _repeat(ANY_DIGIT, _SPACE, "7,8")])

# RL and 1-5 digits that are not all zeros: the zeros before the first other digit, spelled out.
_LICENCE_NUMBER = "|".join(
    _repeat(_digit(0), _DIGIT_GAP, str(zeros)) * bool(zeros) + _digits(1, 9) + _DIGIT_GAP
    + _repeat(ANY_DIGIT, _DIGIT_GAP, f"0,{4 - zeros}")
    for zeros in range(5))
LICENCE = _spaced(["[Rr]", "[Ll]", f"(?:{_LICENCE_NUMBER})"], "-")


# PB-XXXX-XXXX in any case, hyphens and spaces anywhere. The pattern cannot check the
# last character against the others (`validation.normalise_reference` does: 422).
_REFERENCE_LETTERS = "".join(sorted(set(REFERENCE_ALPHABET.lower() + REFERENCE_ALPHABET) - set("23456789")))
_REFERENCE_CHARACTER = f"[{_REFERENCE_LETTERS}" + _digits(2, 9)[1:]
REFERENCE = _spaced(["[Pp]", "[Bb]", _repeat(_REFERENCE_CHARACTER, _DIGIT_GAP, "8")], "-")


def _either_case(letter: str) -> str:
    return f"[{letter.upper()}{letter.lower()}]"


def _country_pattern() -> str:
    codes = sorted(COUNTRIES | set(COUNTRY_ALIASES))
    by_first: dict[str, list[str]] = {}
    for code in codes:
        by_first.setdefault(code[0], []).append(code[1])
    second = {first: "[" + "".join(sorted(set(s.upper() for s in rest) | set(s.lower() for s in rest))) + "]"
              for first, rest in by_first.items()}
    return _spaced([f"(?:{'|'.join(_either_case(first) + _SPACE + second[first] for first in by_first)})"])


COUNTRY = _country_pattern()

# District names in any ASCII case, words run together or apart (space, hyphen, dot,
# apostrophe), "gonj" for "ganj", official names and the older spellings alike.
_WORD_SEPARATORS = ".'\\u2019-"


def _district_words(name: str) -> str:
    words = re.findall(r"[A-Za-z]+", name)
    gap = _gap(_WORD_SEPARATORS)
    letters = gap.join("".join(_either_case(ch) for ch in word) for word in words)
    return letters.replace("[Gg][Aa][Nn][Jj]", "[Gg][AaOo][Nn][Jj]")


DISTRICT = _spaced([f"(?:{'|'.join(_district_words(name) for name in sorted(DISTRICTS | set(_DISTRICT_ALIASES)))})"])


def _ranges(codes: list[int]) -> str:
    out, i = [], 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        out.append(f"\\u{codes[i]:04x}" + (f"-\\u{codes[j]:04x}" if j > i else ""))
        i = j + 1
    return "".join(out)


# `validation.is_bangla_name`: Bengali letters and signs, dots, hyphens, ZWNJ / ZWJ, with a
# letter; at least two characters besides whitespace (the name fields' minimum).
_BENGALI = [code for code in range(0x0980, 0x0A00) if unicodedata.category(chr(code))[0] in "LM"]
_BANGLA_LETTER = "[" + _ranges([c for c in _BENGALI if unicodedata.category(chr(c))[0] == "L"]) + "]"
_BANGLA_SIGN = "[" + _ranges(_BENGALI) + ".\\u200c\\u200d-]"
_TEXT_SPACE = f"[{TEXT_WHITESPACE}]*"
# A letter with at least one more sign before or after it, then any more signs.
_FIRST_TWO = (f"(?:(?:{_BANGLA_SIGN}{_TEXT_SPACE})+{_BANGLA_LETTER}"
              f"|{_BANGLA_LETTER}{_TEXT_SPACE}{_BANGLA_SIGN})")
BANGLA_NAME = f"^{_TEXT_SPACE}{_FIRST_TWO}{_TEXT_SPACE}(?:{_BANGLA_SIGN}{_TEXT_SPACE})*$"
