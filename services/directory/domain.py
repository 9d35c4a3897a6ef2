"""Directory entries without I/O: the four kinds, the rules each entry keeps, its versions
(for If-Match) and what its events carry.

An entry is stored as its content (what an admin PUTs) plus its id, its version and who
changed it when. Dates are stored as ISO text (YYYY-MM-DD): MongoDB has no date-only type.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from shared import spellings

AGENCY, COUNTRY, LINK, TOPIC = "agency", "country", "link", "topic"
KINDS = (AGENCY, COUNTRY, LINK, TOPIC)
# One event type per kind (literal, so tests/unit/test_contracts.py finds them).
EVENT_TYPES = {AGENCY: "directory.agency.changed", COUNTRY: "directory.country.changed",
               LINK: "directory.link.changed", TOPIC: "directory.topic.changed"}
# What names an entry of each kind, in the API and in its events.
ID_FIELDS = {AGENCY: "licence_number", COUNTRY: "code", LINK: "id", TOPIC: "id"}
ID_HINTS = {AGENCY: "a licence looks like RL-1234", COUNTRY: "a country is named by its two-letter ISO code",
            LINK: "an id is 2-40 lower-case letters, digits, _ or -, starting with a letter",
            TOPIC: "an id is 2-40 lower-case letters, digits, _ or -, starting with a letter"}
NOUNS = {AGENCY: "agency", COUNTRY: "country", LINK: "link", TOPIC: "guide topic"}
CREATED, REPLACED = "created", "replaced"

AGENCY_STATUSES = ("valid", "suspended", "cancelled", "expired")
TOPIC_KINDS = ("complaint", "pkb_loan", "wewb_membership", "migration_paper", "other")

# Bengali script (letters, signs, digits): a Bangla text has at least one letter of it, an
# English one at least one Latin letter, so the two cannot be swapped or one left a copy.
# Bengali digits alone do not make a Bangla text. Written as the OpenAPI patterns need them.
BENGALI_LETTERS = "\\u0980-\\u09e5\\u09f0-\\u09ff"
LATIN_LETTERS = "A-Za-z"
_BANGLA, _LATIN = re.compile(f"[{BENGALI_LETTERS}]"), re.compile(f"[{LATIN_LETTERS}]")
SLUG = re.compile(r"[a-z][a-z0-9_-]{1,39}")
COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")

# The texts of each kind that are bilingual: required, optional, lists of them, and the
# nested ones (dotted paths; a nested text is required when its parent is there).
BILINGUAL = {
    AGENCY: {"required": ("name",), "optional": ("address", "note")},
    COUNTRY: {"required": ("name", "mission.name"), "optional": ("note", "mission.labour_wing.address")},
    LINK: {"required": ("title", "purpose"), "optional": ("note",)},
    TOPIC: {"required": ("title", "summary", "who_may_apply"), "optional": ("amounts", "time_limits", "note"),
            "lists": ("documents", "where_to_go")},
}
_META = ("_id", "version", "created_at", "updated_at", "updated_by", "licence_no", "terms")


def has_bangla(text) -> bool:
    return isinstance(text, str) and _BANGLA.search(text) is not None


def has_latin(text) -> bool:
    return isinstance(text, str) and _LATIN.search(text) is not None


def bilingual_errors(value) -> list[str]:
    """Why `value` is not a bilingual text ({"bn": ..., "en": ...}, both given), or []."""
    if not isinstance(value, dict) or set(value) != {"bn", "en"}:
        return ["Give the text in both languages: {\"bn\": \"...\", \"en\": \"...\"}, Bangla first."]
    errors = []
    if not has_bangla(value["bn"]):
        errors.append("The Bangla text (bn) must be written in Bangla.")
    if not has_latin(value["en"]):
        errors.append("The English text (en) must be written in English.")
    return errors


def entry_id(kind: str, raw: str) -> str | None:
    """The one spelling of an entry's id as a path names it, or None when no entry of the
    kind can have it (a licence as shared/spellings.py spells it: "rl 0123" is RL-123)."""
    if kind == AGENCY:
        try:
            return spellings.normalise_licence(raw)
        except ValueError:
            return None
    if kind == COUNTRY:
        return raw.upper() if COUNTRY_CODE.fullmatch(raw) else None
    return raw if SLUG.fullmatch(raw) else None


def _at(entry: dict, path: str):
    node = entry
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def check(kind: str, entry: dict, today: date) -> dict[str, list[str]]:
    """Every rule `entry` (content as loaded: dates as dates) breaks, by field; {} if none."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    rules = BILINGUAL[kind]
    for path in rules["required"]:
        for message in bilingual_errors(_at(entry, path)):
            add(path, message)
    for path in rules["optional"]:
        value = _at(entry, path)
        for message in bilingual_errors(value) if value is not None else ():
            add(path, message)
    for path in rules.get("lists", ()):
        items = entry.get(path)
        if not isinstance(items, list):
            add(path, "Give a list of texts in both languages.")
            continue
        for n, item in enumerate(items):
            for message in bilingual_errors(item):
                add(f"{path}.{n}", message)
    checked = entry.get("last_checked")
    if not isinstance(checked, date):
        add("last_checked", "Give the date the entry was last checked (YYYY-MM-DD).")
    elif checked > today:
        add("last_checked", "Cannot be a later day than today (Asia/Dhaka).")
    if kind == AGENCY:
        if entry.get("status") not in AGENCY_STATUSES:
            add("status", f"One of {', '.join(AGENCY_STATUSES)}.")
    if kind == TOPIC:
        if entry.get("kind") not in TOPIC_KINDS:
            add("kind", f"One of {', '.join(TOPIC_KINDS)}.")
        for n, form in enumerate(entry.get("forms") or []):
            for message in bilingual_errors(form.get("title") if isinstance(form, dict) else None):
                add(f"forms.{n}.title", message)
    return errors


def _stored(value):
    """Content as the database keeps it: dates as ISO text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value


def licence_number(licence: str) -> int:
    return int(licence.removeprefix("RL-"))


def search_terms(name: dict) -> list[str]:
    """What an agency is found by: every beginning of every word of its name, in both
    languages, lower-case ("noor" is found by "n", "no", "noo" and "noor"), so a search
    is an equality an index serves next to the page's range."""
    words = {word[:MAX_TERM] for text in name.values() for word in query_words(text)}
    return sorted({word[:n] for word in words for n in range(1, len(word) + 1)})


# A word searched for is cut to this length, as the stored beginnings are.
MAX_TERM = 20
# Word separators besides whitespace: "Al-Noor (Pvt.)" is found by "noor" and "pvt".
_SEPARATORS = str.maketrans({ch: " " for ch in ".,;:()[]{}'\"/&-_|+"})


def query_words(text: str) -> list[str]:
    return unicodedata.normalize("NFC", text).lower().translate(_SEPARATORS).split()


def new_entry(kind: str, entry_id_: str, content: dict, now: datetime, actor: dict) -> dict:
    record = {"_id": entry_id_, ID_FIELDS[kind]: entry_id_, **_stored(content), "version": 1, "created_at": now,
              "updated_at": now, "updated_by": actor}
    return _indexed(kind, record)


def replaced(kind: str, record: dict, content: dict, now: datetime, actor: dict) -> dict:
    """The next version of `record`, holding `content` in place of what it held."""
    new = {key: record[key] for key in ("_id", "created_at")}
    new.update({ID_FIELDS[kind]: record["_id"], **_stored(content), "version": record["version"] + 1,
                "updated_at": now, "updated_by": actor})
    return _indexed(kind, new)


def _indexed(kind: str, record: dict) -> dict:
    if kind == AGENCY:  # pages follow the licence's number (RL-9 before RL-10), searches the name's words
        record["licence_no"] = licence_number(record["_id"])
        record["terms"] = search_terms(record["name"])
    return record


def content_of(kind: str, record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in _META and k != ID_FIELDS[kind]}


def same_content(kind: str, record: dict, content: dict) -> bool:
    """A PUT of what is already there changes nothing (no new version, no event)."""
    return content_of(kind, record) == _stored(content)


def _dated(value, key: str = ""):
    if isinstance(value, str) and key in ("last_checked", "valid_until"):
        return date.fromisoformat(value)
    if isinstance(value, dict):
        return {k: _dated(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_dated(v) for v in value]
    return value


def view(record: dict) -> dict:
    """The entry as the API answers it (dates as dates, for the response schema)."""
    return {k: _dated(v, k) for k, v in record.items() if k not in ("_id", "licence_no", "terms", "created_at")}


def event_data(kind: str, record: dict, change: str, actor: dict) -> dict:
    """What a `directory.<kind>.changed` event carries: which entry, which change, and what a
    subscriber shows without asking (an agency's name and licence status; a link's address)."""
    data = {ID_FIELDS[kind]: record["_id"], "change": change, "last_checked": record["last_checked"], "by": actor}
    if kind == AGENCY:
        data.update(name=record["name"], status=record["status"], valid_until=record.get("valid_until"))
    elif kind == COUNTRY:
        data["name"] = record["name"]
    elif kind == LINK:
        data.update(title=record["title"], url=record.get("url"))
    else:
        data.update(kind=record["kind"], title=record["title"])
    return data
