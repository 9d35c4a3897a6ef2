"""The claim-type catalogue as versions in the claims database, published by an admin.

Each version is the catalogue document as published (the shipped file's format, checked
by catalogue.parse exactly as the file is at start) with a number (1, 2, ...), its own
`version` label and an effective date. Versions are never changed or removed: a new
version is a new row, so a claim filed under a version (`catalogue_number`) can always be
read back with the rules it was judged by.

The version in force on a day is the one with the latest effective date that has come;
on the same date the later published wins (`in_force_number`). The shipped file (or
CLAIMS_CATALOGUE) seeds version 1 when the database has none.

Publishing needs If-Match with the number of the latest version read (`"3"`): two admins
who both read version 3 cannot both publish version 4 on top of it; the second gets 412.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from threading import Lock
from typing import Callable, Iterable

from pymongo import DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.auth import Principal
from shared.errors import Invalid, NotFound, PreconditionFailed, PreconditionRequired
from shared.pagination import decode_cursor, encode_cursor

from . import catalogue as catalogue_module
from .catalogue import Catalogue, CatalogueError

VERSIONS = "catalogue_versions"
SUBJECT = "catalogue"
AGGREGATE_ID = "claims"  # the one catalogue whose versions these are
PUBLISHED_EVENT = "claims.catalogue.published"
IN_FORCE, SCHEDULED, SUPERSEDED = "in_force", "scheduled", "superseded"
_STRONG_ETAG = re.compile(r'"([1-9][0-9]{0,8})"', re.ASCII)


# -- which version is in force (no I/O) ----------------------------------------------------

def in_force_number(versions: Iterable[dict], today: date) -> int | None:
    """The number of the version in force on `today`: among those whose effective date has
    come, the latest effective date, and on one date the later published (higher number).
    None when no version is effective yet."""
    day = today.isoformat()  # stored as YYYY-MM-DD, so text order is date order
    effective = [(str(v["effective_from"]), v["_id"]) for v in versions if str(v["effective_from"]) <= day]
    return max(effective)[1] if effective else None


def state_of(version: dict, in_force: int | None, today: date) -> str:
    if version["_id"] == in_force:
        return IN_FORCE
    return SCHEDULED if str(version["effective_from"]) > today.isoformat() else SUPERSEDED


def expected_number(if_match: str | None) -> int:
    """The version number an If-Match names; only the strong ETag as sent ("3")."""
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag of the latest catalogue version you read "
                                   "(GET /claim-types/versions), so no admin's version is lost.")
    match = _STRONG_ETAG.fullmatch(if_match.strip())
    if match is None:
        raise PreconditionFailed("If-Match does not name a catalogue version: send the ETag as answered, e.g. \"3\".")
    return int(match.group(1))


def etag(number: int) -> str:
    return f'"{number}"'


# -- storage -------------------------------------------------------------------------------

class DuplicateVersion(Exception):
    """The number (another admin published first) or the label is taken."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def ensure_indexes(db: Database) -> None:
    versions = db[VERSIONS]
    versions.create_index("version", unique=True, name="one_label_per_version")
    versions.create_index([("effective_from", DESCENDING), ("_id", DESCENDING)], name="by_effective_date")


_HEADER = {"document": 0}


class VersionRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[VERSIONS]
        self.session = session

    def add(self, row: dict) -> None:
        try:
            self.collection.insert_one(row, session=self.session)
        except DuplicateKeyError as exc:
            key = (exc.details or {}).get("keyValue") or {}
            raise DuplicateVersion("version" if "version" in key else "_id") from None

    def get(self, number: int, with_document: bool = True) -> dict | None:
        return self.collection.find_one({"_id": number}, None if with_document else _HEADER, session=self.session)

    def latest(self) -> dict | None:
        return next(iter(self.collection.find({}, _HEADER, session=self.session).sort("_id", DESCENDING).limit(1)),
                    None)

    def headers(self) -> list[dict]:
        """Every version without its document: a handful of small rows (a few versions a year)."""
        return list(self.collection.find({}, _HEADER, session=self.session))

    def page(self, limit: int, before: int | None) -> list[dict]:
        query = {"_id": {"$lt": before}} if before is not None else {}
        return list(self.collection.find(query, _HEADER, session=self.session).sort("_id", DESCENDING).limit(limit))

    def holding_label(self, label: str) -> dict | None:
        return self.collection.find_one({"version": label}, _HEADER, session=self.session)


def version_row(number: int, raw: dict, parsed: Catalogue, *, by: dict | None, now: datetime) -> dict:
    return {"_id": number, "version": parsed.version, "effective_from": parsed.effective_from.isoformat(),
            "document": raw, "codes": list(parsed.codes), "published_by": by, "published_at": now}


def event_data(row: dict) -> dict:
    """claims.catalogue.published (shared/contracts.py CataloguePublished)."""
    return {"number": row["_id"], "version": row["version"], "effective_from": row["effective_from"],
            "codes": row["codes"], "published_by": row["published_by"]}


# -- the use cases -------------------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    number: int
    catalogue: Catalogue


class CatalogueStore:
    """Reads and publishes catalogue versions. Parsed versions are cached by number: a
    version never changes once written."""

    def __init__(self, uow, db: Database, *, clock: Callable[[], datetime], today: Callable[[], date]):
        self.uow, self.versions = uow, VersionRepository(db)
        self.clock, self.today = clock, today
        self._parsed: dict[int, Catalogue] = {}
        self._lock = Lock()

    def seed(self, raw: dict) -> None:
        """Version 1 from the shipped file when the database has none (two processes
        starting at once: the second finds it taken, which is what it wanted). Installing
        is nobody's act: no event, no audit line; `published_by` is null."""
        if self.versions.latest() is not None:
            return
        parsed = catalogue_module.parse(raw)  # the file was checked already; a bad one never gets here
        try:
            self.versions.add(version_row(1, raw, parsed, by=None, now=self.clock()))
        except DuplicateVersion:
            pass

    def parsed(self, number: int) -> Catalogue:
        with self._lock:
            cached = self._parsed.get(number)
        if cached is None:
            row = self.versions.get(number)
            if row is None:
                raise NotFound(f"No catalogue version {number}.")
            cached = catalogue_module.parse(row["document"])
            with self._lock:
                self._parsed[number] = cached
        return cached

    def in_force(self) -> Version:
        number = in_force_number(self.versions.headers(), self.today())
        if number is None:
            raise NotFound("No claim-type catalogue is in force yet: its first version takes effect later.")
        return Version(number, self.parsed(number))

    def get(self, number: str) -> dict:
        if not number.isascii() or not number.isdigit() or len(number) > 9:
            raise NotFound(f"No catalogue version {number}: versions are numbered 1, 2, ...")
        row = self.versions.get(int(number), with_document=False)
        if row is None:
            raise NotFound(f"No catalogue version {number}.")
        return {**self._described(row, self._in_force_number()), "types": self._types(row["_id"])}

    def list(self, limit: int, cursor: str | None) -> tuple[list[dict], str | None, int | None]:
        """(a page, newest first; the next page's cursor; the latest number, for If-Match)."""
        position = decode_cursor(cursor)
        before = None
        if position is not None:
            if len(position) != 1 or not isinstance(position[0], int) or isinstance(position[0], bool):
                raise Invalid({"cursor": ["Not a cursor from this API; start again without it."]})
            before = position[0]
        found = self.versions.page(limit + 1, before)
        page = found[:limit]
        next_cursor = encode_cursor([page[-1]["_id"]]) if len(found) > limit else None
        latest = self.versions.latest()
        in_force = self._in_force_number()
        return [self._described(row, in_force) for row in page], next_cursor, latest and latest["_id"]

    def publish(self, principal: Principal, raw: dict, if_match: str | None) -> dict:
        """A new version on top of the one If-Match names. Checked in full before anything is
        written: a catalogue that does not hold together is 422 naming where, and nothing stays."""
        expected = expected_number(if_match)
        latest = self.versions.latest()
        if latest is None or latest["_id"] != expected:
            raise self._stale(latest)
        try:
            parsed = catalogue_module.parse(raw)
        except CatalogueError as exc:
            raise Invalid({"catalogue": [str(exc)]}, f"The catalogue cannot be published: {exc}") from None
        today = self.today()
        if parsed.effective_from < today:
            raise Invalid({"effective_from": [f"A new version takes effect today ({today}) or later; claims filed "
                                              "before today were judged by the version then in force."]})
        holder = self.versions.holding_label(parsed.version)
        if holder is not None:
            raise self._label_taken(parsed.version, holder)
        now, actor = self.clock(), principal.as_actor()

        def publish_in(tx):
            head = tx.catalogue_versions.latest()
            if head is None or head["_id"] != expected:
                raise self._stale(head)
            row = version_row(expected + 1, raw, parsed, by=actor, now=now)
            tx.catalogue_versions.add(row)
            tx.emit(PUBLISHED_EVENT, subject_type=SUBJECT, subject_id=AGGREGATE_ID, aggregate_version=row["_id"],
                    data=event_data(row))
            tx.audit.record(principal, "publish", SUBJECT, str(row["_id"]), version=row["version"],
                            effective_from=row["effective_from"], codes=row["codes"])
            return row
        try:
            row = self.uow.run(publish_in)
        except DuplicateVersion as dup:
            if dup.field == "version":
                raise self._label_taken(parsed.version, self.versions.holding_label(parsed.version)) from None
            raise self._stale(self.versions.latest()) from None
        return {**self._described({k: v for k, v in row.items() if k != "document"}, self._in_force_number()),
                "types": [t.as_dict() for t in parsed.types.values()]}

    # -- helpers ---------------------------------------------------------------------------
    def _in_force_number(self) -> int | None:
        return in_force_number(self.versions.headers(), self.today())

    def _described(self, row: dict, in_force: int | None) -> dict:
        return {"number": row["_id"], "version": row["version"],
                "effective_from": date.fromisoformat(row["effective_from"]),
                "state": state_of(row, in_force, self.today()), "codes": row["codes"],
                "published_by": row["published_by"], "published_at": row["published_at"]}

    def _types(self, number: int) -> list[dict]:
        return [t.as_dict() for t in self.parsed(number).types.values()]

    @staticmethod
    def _stale(latest: dict | None) -> PreconditionFailed:
        number = latest["_id"] if latest else None
        return PreconditionFailed(f"The latest catalogue version is {number}, not the one you read: read it and "
                                  "publish again on top of it.", latest_version=number)

    @staticmethod
    def _label_taken(label: str, holder: dict | None) -> Invalid:
        where = f" by version {holder['_id']}" if holder else ""
        return Invalid({"version": [f"The label {label} is taken{where}; give this version its own."]})
