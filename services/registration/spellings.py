"""Every spelling `validation.normalise_*` accepts, as the regular expressions the OpenAPI
document publishes: a client that sends what a pattern admits gets it accepted, and the
fields (`shared.fields.Normalised`) refuse what a pattern does not admit, even where the
normaliser would have cleaned it up (a line break inside an NID).

Phones and agency licences follow the rule every service shares (shared/spellings.py, whose
building blocks and regex dialect these patterns use); the rest are registration's own.
"""
from __future__ import annotations

import re
import unicodedata

from shared import spellings as shared
from shared.fields import TEXT_WHITESPACE
from shared.spellings import ANY_DIGIT, DIGIT_GAP, digits, gap, repeat, spaced

from .reference_data import COUNTRIES, COUNTRY_ALIASES, DISTRICTS, _DISTRICT_ALIASES
from .validation import REFERENCE_ALPHABET

PHONE = shared.PHONE
LICENCE = shared.LICENCE

NID = spaced([f"(?:{'|'.join(repeat(ANY_DIGIT, DIGIT_GAP, n) for n in ('10', '13', '17'))})"], "-")
BIRTH_REGISTRATION = spaced([repeat(ANY_DIGIT, DIGIT_GAP, "17")], "-")

_SPACE = gap()
PASSPORT = spaced(["[A-Za-z]", f"(?:[A-Za-z]{_SPACE})?" + repeat(ANY_DIGIT, _SPACE, "7,8")])


# PB-XXXX-XXXX in any case, hyphens and spaces anywhere. The pattern cannot check the
# last character against the others (`validation.normalise_reference` does: 422).
_REFERENCE_LETTERS = "".join(sorted(set(REFERENCE_ALPHABET.lower() + REFERENCE_ALPHABET) - set("23456789")))
_REFERENCE_CHARACTER = f"[{_REFERENCE_LETTERS}" + digits(2, 9)[1:]
REFERENCE = spaced(["[Pp]", "[Bb]", repeat(_REFERENCE_CHARACTER, DIGIT_GAP, "8")], "-")


def _either_case(letter: str) -> str:
    return f"[{letter.upper()}{letter.lower()}]"


def _country_pattern() -> str:
    codes = sorted(COUNTRIES | set(COUNTRY_ALIASES))
    by_first: dict[str, list[str]] = {}
    for code in codes:
        by_first.setdefault(code[0], []).append(code[1])
    second = {first: "[" + "".join(sorted(set(s.upper() for s in rest) | set(s.lower() for s in rest))) + "]"
              for first, rest in by_first.items()}
    return spaced([f"(?:{'|'.join(_either_case(first) + _SPACE + second[first] for first in by_first)})"])


COUNTRY = _country_pattern()

# District names in any ASCII case, words run together or apart (space, hyphen, dot,
# apostrophe), "gonj" for "ganj", official names and the older spellings alike.
_WORD_SEPARATORS = ".'\\u2019-"


def _district_words(name: str) -> str:
    words = re.findall(r"[A-Za-z]+", name)
    between = gap(_WORD_SEPARATORS)
    letters = between.join("".join(_either_case(ch) for ch in word) for word in words)
    return letters.replace("[Gg][Aa][Nn][Jj]", "[Gg][AaOo][Nn][Jj]")


DISTRICT = spaced([f"(?:{'|'.join(_district_words(name) for name in sorted(DISTRICTS | set(_DISTRICT_ALIASES)))})"])


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
