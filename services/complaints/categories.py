"""Complaint categories, intake channels and referral bodies, as data: categories.json
shipped in the package, loaded and checked once at start. A file that does not hold
together stops start-up with a message naming the list and the entry.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

DEFAULT_PATH = Path(__file__).with_name("categories.json")
LISTS = ("categories", "channels", "referral_bodies")
# The codes the issue names; the file may add to them, never drop one (the domain relies on them).
REQUIRED = {
    "categories": ("no_job_on_arrival", "contract_breach", "unpaid_wages", "recruitment_fraud", "passport_withheld",
                   "permit_problems", "abuse_unsafe_work", "detention_missing", "death_injury", "other"),
    "channels": ("in_person", "udc", "call_centre", "online", "mission_abroad"),
    "referral_bodies": ("mission_labour_wing", "police_expatriate_help_cell", "mobile_court", "court",
                        "wewb_legal_aid", "ngo"),
}
_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


class CategoriesError(ValueError):
    """The lists cannot be used; the message says where."""


@dataclass(frozen=True)
class Entry:
    code: str
    name_en: str
    name_bn: str


@dataclass(frozen=True)
class Lists:
    categories: MappingProxyType
    channels: MappingProxyType
    referral_bodies: MappingProxyType


def load(path: Path | str | None = None) -> Lists:
    path = Path(path or DEFAULT_PATH)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CategoriesError(f"complaint lists {path}: cannot be read as JSON ({exc})") from None
    return parse(raw)


def parse(raw) -> Lists:
    if not isinstance(raw, dict):
        raise CategoriesError("complaint lists: must be a JSON object")
    return Lists(**{name: MappingProxyType(_entries(name, raw.get(name))) for name in LISTS})


def _entries(name: str, entries) -> dict[str, Entry]:
    if not isinstance(entries, list) or not entries:
        raise CategoriesError(f"complaint lists: `{name}` must be a non-empty list")
    parsed: dict[str, Entry] = {}
    for entry in entries:
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not _CODE.match(code):
            raise CategoriesError(f"complaint lists, {name}: code {code!r} must be snake_case")
        for field in ("name_en", "name_bn"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise CategoriesError(f"complaint lists, {name} {code}: `{field}` must be a non-empty string")
        if code in parsed:
            raise CategoriesError(f"complaint lists, {name}: {code} is listed twice")
        parsed[code] = Entry(code, entry["name_en"], entry["name_bn"])
    missing = [code for code in REQUIRED[name] if code not in parsed]
    if missing:
        raise CategoriesError(f"complaint lists, {name}: must include {', '.join(missing)}")
    return parsed
