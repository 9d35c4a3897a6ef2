"""In-memory stand-ins for the documents ports (repositories, unit of work, content, audit).

The fake unit of work keeps the real contract: all or nothing, events only on commit,
a transaction that lost a race (labelled TransientTransactionError) run again, a bounded
number of times. The fake repositories keep the real uniqueness rules: one record per
(owner, seq), a chain head compared-and-set, a document head replaced only at its
expected revision.
"""
from __future__ import annotations

import copy
import hashlib
import itertools

from pymongo.errors import PyMongoError

from services.documents.repository import ChainContention
from tests.unit.fake_tx import FakeTxBase, FakeUnitOfWorkBase


def _newest_first(rows, field, after):
    rows = sorted(rows, key=lambda r: (r[field], r["_id"]), reverse=True)
    if after:
        rows = [r for r in rows if (r[field], r["_id"]) < tuple(after)]
    return rows


class FakeDocuments:
    def __init__(self, store):
        self.store = store

    def add(self, head):
        if head["_id"] in self.store:
            raise ChainContention(head["_id"])
        self.store[head["_id"]] = copy.deepcopy(head)

    def get(self, document_id):
        return copy.deepcopy(self.store.get(document_id))

    def replace(self, head, expected_revision):
        current = self.store.get(head["_id"])
        if current is None or current["revision"] != expected_revision:
            raise ChainContention(head["_id"])
        self.store[head["_id"]] = copy.deepcopy(head)

    def for_owner(self, owner):
        return [copy.deepcopy(h) for h in self.store.values() if h["owner"] == owner]

    def page(self, owner, doc_type, limit, after):
        rows = [h for h in self.store.values() if h["owner"] == owner and not h.get("deleted")
                and (doc_type is None or h["doc_type"] == doc_type)]
        return copy.deepcopy(_newest_first(rows, "created_at", after)[:limit])


class FakeRecords:
    def __init__(self, store):
        self.store = store

    def add(self, record):
        if any(r["owner"] == record["owner"] and r["seq"] == record["seq"] for r in self.store.values()) \
                or record["_id"] in self.store:
            raise ChainContention(record["owner"])
        self.store[record["_id"]] = copy.deepcopy(record)

    def last_for_owner(self, owner):
        mine = self.for_owner(owner)
        return mine[-1] if mine else None

    def for_owner(self, owner):
        return copy.deepcopy(sorted((r for r in self.store.values() if r["owner"] == owner), key=lambda r: r["seq"]))

    def for_document(self, document_id):
        return copy.deepcopy(sorted((r for r in self.store.values() if r["document_id"] == document_id),
                                    key=lambda r: r["version"]))

    def get(self, record_id):
        return copy.deepcopy(self.store.get(record_id))

    def many(self, record_ids):
        return {k: copy.deepcopy(self.store[k]) for k in record_ids if k in self.store}

    def set_verification(self, record_id, verification):
        self.store[record_id]["verification"] = copy.deepcopy(verification)

    def mark_deleted(self, document_id, deletion):
        for record in self.store.values():
            if record["document_id"] == document_id:
                record.update(deleted=True, deletion=copy.deepcopy(deletion))


class FakeChainHeads:
    def __init__(self, store):
        self.store = store

    def get(self, owner):
        return copy.deepcopy(self.store.get(owner))

    def advance(self, owner, previous_seq, seq, record_hash):
        current = self.store.get(owner)
        if (current is None) != (previous_seq is None) or (current and current["seq"] != previous_seq):
            raise ChainContention(owner)
        self.store[owner] = {"_id": owner, "seq": seq, "record_hash": record_hash}


class FakeOwners:
    def __init__(self, store):
        self.store = store

    def add(self, reference, registered_at, event_id):
        self.store.setdefault(reference, {"registered_at": registered_at, "event_id": event_id})

    def exists(self, reference):
        return reference in self.store


class FakeCases:
    def __init__(self, store):
        self.store = store

    def get(self, case_id):
        return copy.deepcopy(self.store.get(case_id))

    def many(self, case_ids):
        return {k: copy.deepcopy(self.store[k]) for k in case_ids if k in self.store}

    def naming(self, document_id):
        return [copy.deepcopy(c) for c in self.store.values() if document_id in c.get("document_ids", [])]

    def save(self, case):
        self.store[case["_id"]] = copy.deepcopy(case)


class FakeHistory:
    def __init__(self, store):
        self.store = store

    def add(self, entry):
        if entry["_id"] in self.store:
            raise AssertionError("history written twice for one event")
        self.store[entry["_id"]] = dict(entry)

    def page(self, document_id, limit, after):
        rows = [e for e in self.store.values() if e["document_id"] == document_id]
        return _newest_first(rows, "occurred_at", after)[:limit]


class FakeVerifyRuns:
    def __init__(self, store):
        self.store = store

    def claim(self, owner, now, interval):
        last = self.store.get(owner)
        if last is not None and last > now - interval:
            return last + interval
        self.store[owner] = now
        return None


class FakeContentIndex:
    def __init__(self, states):
        self.states = states

    def mark(self, content_ids, state):
        for content_id in content_ids:
            self.states[content_id] = state


class FakeRepositories:
    def __init__(self, state):
        self.state = state

    documents = property(lambda self: FakeDocuments(self.state["documents"]))
    records = property(lambda self: FakeRecords(self.state["records"]))
    chain_heads = property(lambda self: FakeChainHeads(self.state["chain_heads"]))
    owners = property(lambda self: FakeOwners(self.state["owners"]))
    cases = property(lambda self: FakeCases(self.state["cases"]))
    history = property(lambda self: FakeHistory(self.state["history"]))
    verify_runs = property(lambda self: FakeVerifyRuns(self.state["verify_runs"]))
    content_index = property(lambda self: FakeContentIndex(self.state["content_states"]))


class FakeTx(FakeTxBase, FakeRepositories):
    source = "documents"


class FakeUnitOfWork(FakeUnitOfWorkBase):
    """`lose_races` makes that many attempts fail as if another append won the race;
    `lose_commit_answer` commits the next transaction but fails as if the answer to the
    commit was lost; `max_attempts` stands for the real unit of work's time bound."""
    tx_class = FakeTx
    max_attempts = 20

    def __init__(self):
        super().__init__({"documents": {}, "records": {}, "chain_heads": {}, "owners": {}, "cases": {},
                          "history": {}, "content_states": {}, "verify_runs": {}})
        self.lose_races = 0
        self.lose_commit_answer = False
        self.attempts = 0

    def before_attempt(self) -> None:
        self.attempts += 1
        if self.lose_races:
            self.lose_races -= 1
            raise ChainContention("someone else appended first")

    def run(self, fn):
        for attempt in range(1, self.max_attempts + 1):
            try:
                result = super().run(fn)
            except PyMongoError as exc:
                if not exc.has_error_label("TransientTransactionError") or attempt == self.max_attempts:
                    raise
                continue
            if self.lose_commit_answer:
                self.lose_commit_answer = False
                raise PyMongoError("connection closed", error_labels=["UnknownTransactionCommitResult"])
            return result


class FakeContent:
    """Bytes by id; like GridFS, a save that fails part-way leaves nothing."""

    def __init__(self):
        self.files: dict[int, bytes] = {}
        self.owners: dict[int, str] = {}
        self._ids = itertools.count(1)

    def save(self, chunks, *, filename, owner):
        data = b"".join(chunks)  # raises mid-way for a refused upload: nothing is kept
        content_id = next(self._ids)
        self.files[content_id], self.owners[content_id] = data, owner
        return content_id

    def open(self, content_id):
        return iter([self.files[content_id]]) if content_id in self.files else None

    def sha256(self, content_id):
        return hashlib.sha256(self.files[content_id]).hexdigest() if content_id in self.files else None

    def discard(self, content_id):
        self.files.pop(content_id, None)


class FakeAudit:
    def __init__(self):
        self.entries: list[tuple] = []

    def record(self, actor, action, subject_type, subject_id, **details):
        self.entries.append((actor.subject, actor.role, action, subject_id))
