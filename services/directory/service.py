"""The directory service layer: one method per use case, over small ports.

Ports: `uow.run(fn)` runs `fn(tx)` in one transaction where `tx.entries(kind)`, `tx.audit`
and `tx.emit` are bound to it; `reads.entries(kind)` answers queries outside any
transaction. `today` is Dhaka's date (last_checked may not be later).

A PUT creates an entry (no If-Match) or replaces the version its If-Match names; a PUT of
what is already there changes nothing. The seed writes through the same path as an admin
named `directory-seed`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from shared import spellings
from shared.auth import Principal
from shared.errors import Invalid, NotFound, PreconditionFailed
from shared.etags import expected_version
from shared.fields import today_in_bangladesh
from shared.pagination import decode_cursor, encode_cursor

from . import changes, domain
from .repository import CreatedMeanwhile

SEED = Principal("directory-seed", "admin")
NOT_A_CURSOR = {"cursor": ["Not a cursor from this API; start again without it."]}
# What the seed did with one entry.
CREATED, REPLACED, KEPT, UNCHANGED = "created", "replaced", "kept", "unchanged"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DirectoryService:
    def __init__(self, uow, reads, *, clock: Callable[[], datetime] = _utcnow,
                 today: Callable = today_in_bangladesh):
        self.uow, self.reads, self.clock, self.today = uow, reads, clock, today

    # -- reads (public) ----------------------------------------------------------------
    def get(self, kind: str, raw_id: str) -> dict:
        entry_id = domain.entry_id(kind, raw_id)
        record = self.reads.entries(kind).get(entry_id) if entry_id else None
        if record is None:
            raise NotFound(f"No {domain.NOUNS[kind]} {raw_id!r} in the directory.")
        return domain.view(record)

    def list(self, kind: str, filters: dict | None = None) -> dict:
        """A short list, whole (topics in the guide's order); `filters` equal stored fields, None: any."""
        query = {name: value for name, value in (filters or {}).items() if value is not None}
        return {"items": [domain.view(r) for r in self.reads.entries(kind).all(query)]}

    def empty(self) -> bool:
        """No entry of any kind yet: a first start."""
        return not any(self.reads.entries(kind).any() for kind in domain.KINDS)

    def agencies(self, q: str | None, status: str | None, limit: int, cursor: str | None) -> dict:
        """Agencies in licence order. `q` is a licence (any spelling registration takes, or
        its number alone) or the beginnings of words of the name, in either language."""
        position = decode_cursor(cursor)
        if position is not None and (len(position) != 1 or type(position[0]) is not int):
            raise Invalid(NOT_A_CURSOR)
        entries = self.reads.entries(domain.AGENCY)
        if q:
            try:
                licence = spellings.normalise_licence_or_number(q)
            except ValueError:
                licence = None
            if licence is not None:
                record = entries.get(licence)
                found = [record] if record and (status is None or record["status"] == status) else []
                if position is not None:
                    found = [r for r in found if r["licence_no"] > position[0]]
                return {"items": [domain.view(r) for r in found], "next_cursor": None}
        words = domain.query_words(q) if q else []
        found = entries.agency_page(status, words, position[0] if position else None, limit + 1)
        page = found[:limit]
        after = encode_cursor([page[-1]["licence_no"]]) if len(found) > limit else None
        return {"items": [domain.view(r) for r in page], "next_cursor": after}

    # -- writes (admin) ------------------------------------------------------------------
    def _checked(self, kind: str, raw_id: str, content: dict) -> str:
        entry_id = domain.entry_id(kind, raw_id)
        if entry_id is None:
            raise NotFound(f"No {domain.NOUNS[kind]} can be named {raw_id!r}: {domain.ID_HINTS[kind]}.")
        errors = domain.check(kind, content, self.today())
        if errors:
            raise Invalid(errors)
        return entry_id

    def put(self, principal: Principal, kind: str, raw_id: str, content: dict,
            if_match: str | None) -> tuple[dict, bool]:
        """Create (no If-Match) or replace (If-Match: the version read) an entry; (entry, created)."""
        entry_id = self._checked(kind, raw_id, content)
        noun = domain.NOUNS[kind]

        def write(tx):
            now, actor = self.clock(), principal.as_actor()
            record = tx.entries(kind).get(entry_id)
            if record is None:
                if if_match:
                    raise PreconditionFailed(f"There is no {noun} {entry_id} to match: send no If-Match to "
                                             "create it.")
                record = domain.new_entry(kind, entry_id, content, now, actor)
                changes.save(tx, kind, record, None, principal)
                return record, True
            expected = expected_version(if_match, noun)  # 428 without one: an entry is replaced knowingly
            if record["version"] != expected:
                raise PreconditionFailed(f"The {noun} changed since you read it; fetch it again and reapply your "
                                         "change.", current_version=record["version"])
            if domain.same_content(kind, record, content):
                return record, False
            new = domain.replaced(kind, record, content, now, actor)
            changes.save(tx, kind, new, record["version"], principal)
            return new, False
        try:
            record, created = self.uow.run(write)
        except CreatedMeanwhile:
            raise PreconditionFailed(f"The {noun} {entry_id} was created by someone else meanwhile; read it and "
                                     "replace it with If-Match.") from None
        return domain.view(record), created

    def seed(self, kind: str, raw_id: str, content: dict, force: bool = False) -> str:
        """One entry of the seed file: created when absent; an entry already there is left
        alone unless `force` (then replaced, if it differs)."""
        entry_id = self._checked(kind, raw_id, content)

        def write(tx):
            record = tx.entries(kind).get(entry_id)
            if record is None:
                changes.save(tx, kind, domain.new_entry(kind, entry_id, content, self.clock(), SEED.as_actor()),
                             None, SEED)
                return CREATED
            if not force:
                return KEPT
            if domain.same_content(kind, record, content):
                return UNCHANGED
            changes.save(tx, kind, domain.replaced(kind, record, content, self.clock(), SEED.as_actor()),
                         record["version"], SEED)
            return REPLACED
        try:
            return self.uow.run(write)
        except CreatedMeanwhile:  # another seed run made it first: it is there now
            return KEPT
