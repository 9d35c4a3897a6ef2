"""Identifiers people read aloud or key on a basic phone (a migrant's reference, a complaint's
receipt number): one alphabet and one check character, so staff read every number the same way.

Digits 2-9 and letters without I, L, O, U: nothing to mistake for 0/1 when read aloud or
keyed on a basic phone, and (as in Crockford's base32) no U to spell words with.
"""
from __future__ import annotations

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def check_character(payload: str) -> str:
    """Luhn mod N over ALPHABET: catches every single-character substitution and most
    swaps of neighbouring characters."""
    size = len(ALPHABET)
    total = 0
    for position, ch in enumerate(reversed(payload)):
        value = ALPHABET.index(ch)
        if position % 2 == 0:  # doubled from the rightmost, as in Luhn
            value = sum(divmod(2 * value, size))
        total += value
    return ALPHABET[-total % size]
