"""The claim types, as data: catalogue.json shipped in the package (or CLAIMS_CATALOGUE),
loaded and checked once at start. A catalogue that does not hold together stops start-up
with a message naming the type and the field; nothing falls back silently.

Each claim keeps the catalogue version it was filed under (domain.new_claim), so a later
catalogue changes no claim already filed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType

DEFAULT_PATH = Path(__file__).with_name("catalogue.json")

AMOUNT_RULES = ("fixed", "capped", "per_month", "by_grade", "as_recovered", "assessed", "referral")
CLAIMANTS = ("worker", "heirs", "child")
CONDITIONS = ("membership_active_on_event_date", "membership_active_on_filing", "clearance_recorded",
              "membership_or_clearance", "filed_within_days")
EVENT_FIELDS = ("date", "country", "requested_amount", "recovered_amount", "exam_level", "exam_year", "gpa",
                "body_arrival_record")
UNIQUE_PARTS = ("migrant", "child", "exam_level", "exam_year")
STAGES = ("documents_pending", "under_review", "payment_ordered", "awaiting_mission")  # clocks.py
# Document-type codes are the documents service's (snake_case, as services/documents/doctypes.py checks).
_DOC_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_TYPE_CODE = _DOC_CODE
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class CatalogueError(ValueError):
    """The catalogue cannot be used; the message says where."""


@dataclass(frozen=True)
class ClaimType:
    code: str
    name_en: str
    name_bn: str
    amount: MappingProxyType
    claimants: str
    self_service: bool
    event_fields: tuple[str, ...]
    eligibility: tuple[MappingProxyType, ...]
    documents: tuple[tuple[str, ...], ...]
    unique_per: tuple[str, ...]
    target_days: MappingProxyType

    def as_dict(self) -> dict:
        return {"code": self.code, "name_en": self.name_en, "name_bn": self.name_bn, "amount": dict(self.amount),
                "claimants": self.claimants, "self_service": self.self_service,
                "event_fields": list(self.event_fields), "eligibility": [dict(c) for c in self.eligibility],
                "documents": [list(group) for group in self.documents], "unique_per": list(self.unique_per),
                "target_days": dict(self.target_days)}


@dataclass(frozen=True)
class Catalogue:
    version: str
    effective_from: date
    types: MappingProxyType

    def get(self, code: str) -> ClaimType | None:
        return self.types.get(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.types)


def load(path: Path | str | None = None) -> Catalogue:
    return parse(load_raw(path))


def load_raw(path: Path | str | None = None) -> dict:
    """The catalogue file as written (unchecked): what seeds the stored version 1."""
    path = Path(path or DEFAULT_PATH)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"claims catalogue {path}: cannot be read as JSON ({exc})") from None


def parse(raw: dict) -> Catalogue:
    if not isinstance(raw, dict):
        raise CatalogueError("claims catalogue: must be a JSON object")
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        raise CatalogueError("claims catalogue: `version` must be a non-empty string")
    try:  # exactly YYYY-MM-DD: fromisoformat alone would also take 20261101 or 2026-W48-1
        text = raw.get("effective_from")
        if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        effective = date.fromisoformat(text)
    except ValueError:
        raise CatalogueError("claims catalogue: `effective_from` must be a date (YYYY-MM-DD)") from None
    types = raw.get("types")
    if not isinstance(types, list) or not types:
        raise CatalogueError("claims catalogue: `types` must list at least one claim type")
    parsed: dict[str, ClaimType] = {}
    for entry in types:
        claim_type = _claim_type(entry)
        if claim_type.code in parsed:
            raise CatalogueError(f"claims catalogue: type {claim_type.code} is listed twice")
        parsed[claim_type.code] = claim_type
    return Catalogue(version, effective, MappingProxyType(parsed))


def _claim_type(entry) -> ClaimType:
    if not isinstance(entry, dict):
        raise CatalogueError("claims catalogue: each type must be an object")
    code = entry.get("code")
    if not isinstance(code, str) or not _TYPE_CODE.match(code):
        raise CatalogueError(f"claims catalogue: type code {code!r} must be snake_case")

    def fail(field: str, why: str):
        raise CatalogueError(f"claims catalogue, type {code}: `{field}` {why}")

    for name in ("name_en", "name_bn"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            fail(name, "must be a non-empty string")
    amount = _amount_rule(entry.get("amount"), fail)
    if entry.get("claimants") not in CLAIMANTS:
        fail("claimants", f"must be one of {', '.join(CLAIMANTS)}")
    if not isinstance(entry.get("self_service", False), bool):
        fail("self_service", "must be true or false")
    event_fields = entry.get("event_fields", [])
    if not isinstance(event_fields, list) or any(f not in EVENT_FIELDS for f in event_fields):
        fail("event_fields", f"must list some of {', '.join(EVENT_FIELDS)}")
    eligibility = entry.get("eligibility", [])
    if not isinstance(eligibility, list):
        fail("eligibility", "must be a list")
    for condition in eligibility:
        if not isinstance(condition, dict) or condition.get("condition") not in CONDITIONS:
            fail("eligibility", f"conditions must be one of {', '.join(CONDITIONS)}")
        if condition["condition"] == "filed_within_days" and not _positive_int(condition.get("days")):
            fail("eligibility", "filed_within_days needs `days`, a positive whole number")
    documents = entry.get("documents")
    if not isinstance(documents, list) or not documents:
        fail("documents", "must list at least one required document (each a list: one of those types)")
    for group in documents:
        if not isinstance(group, list) or not group or not all(isinstance(c, str) and _DOC_CODE.match(c)
                                                                for c in group):
            fail("documents", "each item must be a non-empty list of document-type codes (snake_case)")
    flat = [code for group in documents for code in group]
    if len(flat) != len(set(flat)):
        fail("documents", "names a document type in more than one item")
    unique_per = entry.get("unique_per", [])
    if not isinstance(unique_per, list) or any(p not in UNIQUE_PARTS for p in unique_per):
        fail("unique_per", f"must list some of {', '.join(UNIQUE_PARTS)}")
    if "child" in unique_per and entry["claimants"] != "child":
        fail("unique_per", "names `child` but the claimant is not a child")
    for part in ("exam_level", "exam_year"):
        if part in unique_per and part not in event_fields:
            fail("unique_per", f"names {part}, which is not among the event_fields")
    targets = entry.get("target_days", {})
    if not isinstance(targets, dict) or any(k not in STAGES or not _positive_int(v) for k, v in targets.items()):
        fail("target_days", f"must map stages ({', '.join(STAGES)}) to positive whole numbers of days")
    if amount["rule"] in ("capped",) and "requested_amount" not in event_fields:
        fail("event_fields", "must include requested_amount for a capped amount")
    if amount["rule"] == "by_grade" and not {"exam_level", "gpa"} <= set(event_fields):
        fail("event_fields", "must include exam_level and gpa for an amount by grade")
    return ClaimType(code=code, name_en=entry["name_en"], name_bn=entry["name_bn"], amount=MappingProxyType(amount),
                     claimants=entry["claimants"], self_service=entry.get("self_service", False),
                     event_fields=tuple(event_fields),
                     eligibility=tuple(MappingProxyType(dict(c)) for c in eligibility),
                     documents=tuple(tuple(group) for group in documents), unique_per=tuple(unique_per),
                     target_days=MappingProxyType(dict(targets)))


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _amount_rule(rule, fail) -> dict:
    if not isinstance(rule, dict) or rule.get("rule") not in AMOUNT_RULES:
        fail("amount", f"must be an object whose `rule` is one of {', '.join(AMOUNT_RULES)}")
    kind = rule["rule"]
    needs = {"fixed": ("amount",), "capped": ("cap",), "per_month": ("monthly", "months")}.get(kind, ())
    for name in needs:
        if not _positive_int(rule.get(name)):
            fail("amount", f"rule {kind} needs `{name}`, a positive whole number of taka")
    if kind == "by_grade":
        levels = rule.get("levels")
        if not isinstance(levels, dict) or not levels:
            fail("amount", "rule by_grade needs `levels`: exam level -> [{min_gpa, amount}]")
        for level, bands in levels.items():
            if not isinstance(bands, list) or not bands or not all(
                    isinstance(b, dict) and isinstance(b.get("min_gpa"), (int, float)) and _positive_int(b.get("amount"))
                    for b in bands):
                fail("amount", f"level {level} needs bands of {{min_gpa, amount}}")
    return dict(rule)
