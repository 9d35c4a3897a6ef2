"""Complaint receipt numbers, "CP-XXXX-XXXX": issued at intake, read aloud over the phone.

The alphabet and check character are registration's references' (shared/check_characters.py):
no 0/O, 1/I/L or U, and a Luhn mod N check character that catches any one mistyped character.
"""
from __future__ import annotations

import secrets

from shared.check_characters import ALPHABET, check_character

PREFIX = "CP"
_BODY_LENGTH = 8  # 7 random characters, then their check character
_BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")


def _format(body: str) -> str:
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def new_receipt_number(rng=secrets) -> str:
    """`rng` is anything with `choice`; the store must still insist on uniqueness."""
    payload = "".join(rng.choice(ALPHABET) for _ in range(_BODY_LENGTH - 1))
    return _format(payload + check_character(payload))


def normalise_receipt_number(text: str) -> str:
    """CP-XXXX-XXXX from any case, spaces or hyphens; ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError("Must be text.")
    compact = "".join(ch for ch in text.translate(_BENGALI_DIGITS) if not ch.isspace() and ch != "-")
    compact = compact.upper() if compact.isascii() else compact
    body = compact[len(PREFIX):]
    if not compact.startswith(PREFIX) or len(body) != _BODY_LENGTH or any(ch not in ALPHABET for ch in body):
        raise ValueError("Receipt number must look like CP-XXXX-XXXX.")
    if check_character(body[:-1]) != body[-1]:
        raise ValueError("Receipt number has a typo: please check each character.")
    return _format(body)
