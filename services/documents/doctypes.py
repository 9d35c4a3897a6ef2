"""The document types the vault accepts, configurable per deployment.

The default list covers what a migrant worker, a family or a caseworker
typically needs to prove a claim: the job contract and payment slips for a
wage dispute, the visa / passport / emigration clearance for registration,
death and heirship (family-member) certificates for a welfare-board claim.

A deployment may replace the list with the ``DOCUMENT_TYPES`` environment
variable, a comma-separated list of snake_case codes::

    DOCUMENT_TYPES=job_contract,payment_slip,visa,other

Codes outside the default list are allowed (the labels are then derived from
the code); the codes are what gets stored on document records, so renaming a
code later means migrating stored records.
"""
from __future__ import annotations

import re
from typing import NamedTuple

ENV_VAR = "DOCUMENT_TYPES"

_CODE_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_MAX_CODE_LENGTH = 64


class DocumentType(NamedTuple):
    code: str
    label_en: str
    label_bn: str


DEFAULT_DOCUMENT_TYPES: tuple[DocumentType, ...] = (
    DocumentType("job_contract", "Job contract", "চাকরির চুক্তিপত্র"),
    DocumentType("payment_slip", "Payment slip", "বেতনের স্লিপ"),
    DocumentType("training_certificate", "Training certificate", "প্রশিক্ষণ সনদ"),
    DocumentType("medical_certificate", "Medical (fitness) certificate", "মেডিক্যাল (স্বাস্থ্য পরীক্ষার) সনদ"),
    DocumentType("visa", "Visa", "ভিসা"),
    DocumentType("passport_copy", "Passport copy", "পাসপোর্টের কপি"),
    DocumentType(
        "emigration_clearance",
        "Emigration clearance (smart card)",
        "বহির্গমন ছাড়পত্র (স্মার্ট কার্ড)",
    ),
    DocumentType("death_certificate", "Death certificate", "মৃত্যু সনদ"),
    DocumentType(
        "heirship_certificate",
        "Heirship certificate (family-member certificate)",
        "ওয়ারিশ সনদ (পরিবারের সদস্য সনদ)",
    ),
    DocumentType("power_of_attorney", "Power of attorney", "আমমোক্তারনামা (পাওয়ার অব অ্যাটর্নি)"),
    DocumentType("medical_report", "Medical report or bill", "চিকিৎসা প্রতিবেদন বা বিল"),
    # What WEWB's claims ask for besides (shared/reference: published requirements).
    DocumentType("nid_copy", "NID copy", "জাতীয় পরিচয়পত্রের কপি"),
    DocumentType("authorisation_letter", "Authorisation letter", "ক্ষমতা অর্পণপত্র"),
    DocumentType("birth_certificate", "Birth registration certificate", "জন্ম নিবন্ধন সনদ"),
    DocumentType("exam_result", "Exam result sheet", "পরীক্ষার ফলাফলপত্র"),
    DocumentType("disability_certificate", "Disability certificate", "প্রতিবন্ধিতা সনদ"),
    DocumentType("other", "Other", "অন্যান্য"),
)

DEFAULT_CODES: tuple[str, ...] = tuple(t.code for t in DEFAULT_DOCUMENT_TYPES)

_BY_CODE = {t.code: t for t in DEFAULT_DOCUMENT_TYPES}


def is_valid_code(code: str) -> bool:
    """True when ``code`` is a snake_case document-type code (lower-case ASCII, digits, single underscores)."""
    return isinstance(code, str) and len(code) <= _MAX_CODE_LENGTH and bool(_CODE_RE.match(code))


def load_document_types(env_value: str | None) -> tuple[str, ...]:
    """The configured document-type codes.

    ``env_value`` is the raw value of ``DOCUMENT_TYPES``; ``None`` or a blank
    string means "not configured" and gives :data:`DEFAULT_CODES`. Otherwise
    the comma-separated codes are returned in the given order (surrounding
    whitespace and empty items from stray commas are ignored). Raises
    ``ValueError`` for a code that is not snake_case, for duplicates, or when
    the value holds no code at all - a misconfiguration must stop start-up,
    not silently fall back.
    """
    if env_value is None or not env_value.strip():
        return DEFAULT_CODES
    codes: list[str] = []
    for item in env_value.split(","):
        code = item.strip()
        if not code:
            continue
        if not is_valid_code(code):
            raise ValueError(f"{ENV_VAR}: {code!r} is not a snake_case document type code")
        if code in codes:
            raise ValueError(f"{ENV_VAR}: {code!r} is listed twice")
        codes.append(code)
    if not codes:
        raise ValueError(f"{ENV_VAR} is set but lists no document type")
    return tuple(codes)


def document_type(code: str) -> DocumentType:
    """Labels for ``code``: the default entry, or labels derived from the code for a custom one."""
    known = _BY_CODE.get(code)
    if known is not None:
        return known
    if not is_valid_code(code):
        raise ValueError(f"{code!r} is not a snake_case document type code")
    label = code.replace("_", " ").capitalize()
    return DocumentType(code, label, label)
