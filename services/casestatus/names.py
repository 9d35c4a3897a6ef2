"""Names a person recognises for the codes events carry (document types, claim types, complaint
categories, referral bodies, pre-departure steps) and the office to contact, from names.json:
a copy of the owning services' data files, so this service imports no other service's package."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

PATH = Path(__file__).with_name("names.json")
LISTS = ("document_types", "claim_types", "complaint_categories", "referral_bodies", "pre_departure_steps", "offices")


@lru_cache(maxsize=1)
def load() -> dict:
    with open(PATH, encoding="utf-8") as f:
        data = json.load(f)
    missing = [name for name in LISTS if name not in data]
    if missing:
        raise ValueError(f"{PATH.name} lacks {', '.join(missing)}")
    return data


def name(kind: str, code: str | None, lang: str) -> str:
    """The name of `code` in `kind` ('document_types', ...); an unknown code is spelled out
    from itself (a type added by a deployment still reads as words, not snake_case)."""
    entry = load()[kind].get(code or "")
    if entry:
        return entry[lang]
    return str(code or "").replace("_", " ").strip().capitalize() or ("অজানা" if lang == "bn" else "Unknown")


def names(kind: str, code: str | None) -> dict[str, str]:
    return {"en": name(kind, code, "en"), "bn": name(kind, code, "bn")}


def required_documents(claim_type: str) -> list[list[str]]:
    """A claim type's checklist: each item is the document types any one of which satisfies it."""
    return [list(group) for group in (load()["claim_types"].get(claim_type) or {}).get("documents", [])]


def office(kind: str, claim_type: str | None = None) -> dict[str, str]:
    offices = load()["offices"]
    return dict(offices.get(claim_type or "") or offices[kind])
