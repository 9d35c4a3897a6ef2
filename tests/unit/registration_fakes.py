"""In-memory stand-ins for the registration ports (repository, unit of work, audit).

The fake unit of work keeps the real contract: all or nothing, events only on commit.
"""
from __future__ import annotations

import copy
import itertools
from datetime import datetime, timedelta, timezone

from services.registration.repository import DuplicateIdentity
from services.registration.service import RegistrationService
from shared.errors import PreconditionFailed
from tests.unit.fake_tx import FakeTxBase, FakeUnitOfWorkBase

UNIQUE = ("_id", "passport_number", "nid", "birth_registration_number")


class FakeMigrants:
    def __init__(self, store: dict):
        self.store = store

    def add(self, migrant: dict) -> None:
        for field in UNIQUE:
            value = migrant.get(field)
            if value is not None and any(m.get(field) == value for m in self.store.values()):
                raise DuplicateIdentity(field, value)
        self.store[migrant["_id"]] = copy.deepcopy(migrant)

    def get(self, reference):
        found = self.store.get(reference)
        return copy.deepcopy(found) if found else None

    def find_by(self, field, value):
        return next((copy.deepcopy(m) for m in self.store.values() if m.get(field) == value), None)

    def replace(self, migrant, expected_version):
        current = self.store.get(migrant["_id"])
        if current is None or current["version"] != expected_version:
            raise PreconditionFailed("stale")
        for field in UNIQUE[1:]:
            value = migrant.get(field)
            if value is not None and any(m.get(field) == value and k != migrant["_id"] for k, m in self.store.items()):
                raise DuplicateIdentity(field, value)
        self.store[migrant["_id"]] = copy.deepcopy(migrant)

    def search(self, filters, limit, after):
        rows = [m for m in self.store.values() if all(m.get(k) == v for k, v in filters.items())]
        rows.sort(key=lambda m: (m["created_at"], m["_id"]), reverse=True)
        if after:
            rows = [m for m in rows if (m["created_at"], m["_id"]) < tuple(after)]
        return copy.deepcopy(rows[:limit])


class FakeHistory:
    def __init__(self, store: dict):
        self.store = store

    def add(self, entry):
        if entry["_id"] in self.store:
            raise AssertionError("history written twice for one event")
        self.store[entry["_id"]] = dict(entry)

    def page(self, reference, limit, after):
        rows = sorted((e for e in self.store.values() if e["reference"] == reference),
                      key=lambda e: (e["occurred_at"], e["_id"]), reverse=True)
        if after:
            rows = [e for e in rows if (e["occurred_at"], e["_id"]) < tuple(after)]
        return rows[:limit]


class FakeTxAudit:
    """The audit trail inside a transaction: kept or rolled back with it."""

    def __init__(self, entries: list):
        self.entries = entries

    def record(self, actor, action, subject_type, subject_id, **details):
        self.entries.append((actor.subject, actor.role, action, subject_id, details))


class FakeTx(FakeTxBase):
    source = "registration"

    def __init__(self, state):
        super().__init__(state)
        self.migrants = FakeMigrants(state["migrants"])
        self.history = FakeHistory(state["history"])
        self.audit = FakeTxAudit(state["audit"])


class FakeUnitOfWork(FakeUnitOfWorkBase):
    tx_class = FakeTx

    def __init__(self):
        super().__init__({"migrants": {}, "history": {}, "audit": []})


class FakeAudit:
    def __init__(self):
        self.entries: list[tuple] = []
        self.details: list[dict] = []

    def record(self, actor, action, subject_type, subject_id, **details):
        self.entries.append((actor.subject, actor.role, action, subject_id))
        self.details.append(details)


def build_service(uow: FakeUnitOfWork, audit: FakeAudit, **kwargs) -> RegistrationService:
    """The real service over the fakes, with a clock that ticks a second per reading."""
    ticks, start = itertools.count(), datetime(2026, 1, 1, tzinfo=timezone.utc)
    kwargs.setdefault("clock", lambda: start + timedelta(seconds=next(ticks)))
    return RegistrationService(uow, FakeMigrants(uow.state["migrants"]), FakeHistory(uow.state["history"]), audit,
                               **kwargs)
