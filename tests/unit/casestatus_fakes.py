"""In-memory repositories behind the case-status service's ports (repository.py and
notification_repository.py), so the service layer and consumer run without a database."""
from __future__ import annotations

import copy

from services.casestatus.repository import sort_key

from .fake_tx import FakeTxBase, FakeUnitOfWorkBase


def _matches(row: dict, filters: dict) -> bool:
    for field, value in filters.items():
        found = row
        for part in field.split("."):
            found = (found or {}).get(part)
        if not (found == value or (isinstance(found, list) and value in found)):
            return False
    return True


class FakeEntries:
    def __init__(self, rows: dict):
        self.rows = rows

    def add(self, entry):
        if entry["_id"] in self.rows:
            return False
        self.rows[entry["_id"]] = {**copy.deepcopy(entry), "case_ids": list(entry["audience"]["case_ids"]),
                                   "restricted_case": entry["case"]["id"] if entry["audience"]["restricted"] else None}
        return True

    def link_cases(self, aggregate_id, case_ids):
        for row in self.rows.values():
            if row["aggregate"]["id"] == aggregate_id:
                for case_id in case_ids:
                    if case_id not in row["case_ids"]:
                        row["case_ids"].append(case_id)
                        row["audience"]["case_ids"].append(case_id)

    def has_version(self, aggregate_id, version):
        return any(r["aggregate"]["id"] == aggregate_id and r["aggregate"]["version"] >= version
                   and not r.get("replayed") for r in self.rows.values())

    def page(self, filters, limit, after):
        found = [r for r in self.rows.values() if any(_matches(r, f) for f in filters)]
        found.sort(key=sort_key, reverse=True)
        if after:
            found = [r for r in found if sort_key(r) < tuple(after)]
        return copy.deepcopy(found[:limit])


class FakeFacts:
    def __init__(self, rows: dict):
        self.rows = rows

    def get(self, migrant):
        return copy.deepcopy(self.rows.get(migrant))

    def put(self, facts):
        self.rows[facts["_id"]] = copy.deepcopy(facts)


class FakeCases:
    def __init__(self, rows: dict):
        self.rows = rows

    def set_owner(self, case_id, migrant):
        self.rows[case_id] = migrant

    def owner(self, case_id):
        return self.rows.get(case_id)


class FakeNotifications:
    def __init__(self, rows: dict):
        self.rows = rows

    def queue(self, planned, now=None, **fields):
        added = 0
        for sms in planned:
            if sms["_id"] not in self.rows:
                self.rows[sms["_id"]] = {**fields, **sms}
                added += 1
        return added


class FakePreferences:
    def __init__(self, rows: dict):
        self.rows = rows

    def for_phones(self, phones):
        return {p: self.rows[p] for p in phones if p in self.rows}


def empty_state() -> dict:
    return {"entries": {}, "facts": {}, "cases": {}, "notifications": {}, "preferences": {}}


class FakeCaseStatusTx(FakeTxBase):
    def __init__(self, state):
        super().__init__(state)
        self.entries = FakeEntries(state["entries"])
        self.facts = FakeFacts(state["facts"])
        self.cases = FakeCases(state["cases"])
        self.notifications = FakeNotifications(state["notifications"])
        self.preferences = FakePreferences(state["preferences"])


class FakeUnitOfWork(FakeUnitOfWorkBase):
    tx_class = FakeCaseStatusTx

    def __init__(self):
        super().__init__(empty_state())


class FakeReads:
    """The reads over the unit of work's state (as Reads are over the same database)."""

    def __init__(self, uow: FakeUnitOfWork):
        self.uow = uow

    @property
    def entries(self):
        return FakeEntries(self.uow.state["entries"])

    @property
    def facts(self):
        return FakeFacts(self.uow.state["facts"])

    @property
    def cases(self):
        return FakeCases(self.uow.state["cases"])


class FakeAudit:
    def __init__(self):
        self.records: list[tuple] = []

    def record(self, actor, action, subject_type, subject_id, **details):
        self.records.append((actor.subject, action, subject_type, subject_id))
