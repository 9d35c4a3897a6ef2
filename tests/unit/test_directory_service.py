"""The directory service layer over in-memory ports (the fakes keep the real contracts: all
or nothing, events only on commit, a stale version refused): an admin's PUT creates or
replaces with If-Match, refusals change nothing, and the seed leaves entries alone unless
forced."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from services.directory import domain
from services.directory.repository import CreatedMeanwhile
from services.directory.service import DirectoryService
from shared.auth import Principal
from shared.errors import Invalid, NotFound, PreconditionFailed, PreconditionRequired
from tests.unit.fake_tx import FakeTxBase, FakeUnitOfWorkBase

ADMIN = Principal("admin-1", "admin")
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
TODAY = NOW.date()


class FakeEntries:
    def __init__(self, store: dict, kind: str):
        self.store, self.kind = store, kind

    def get(self, entry_id):
        return self.store.get(entry_id)

    def add(self, record):
        if record["_id"] in self.store:
            raise CreatedMeanwhile()
        self.store[record["_id"]] = record

    def replace(self, record, expected_version):
        if self.store[record["_id"]]["version"] != expected_version:
            raise PreconditionFailed("changed since read")
        self.store[record["_id"]] = record

    def all(self, filters=None):
        return [r for _, r in sorted(self.store.items()) if all(r.get(k) == v for k, v in (filters or {}).items())]


class FakeTx(FakeTxBase):
    source = "directory"

    def entries(self, kind):
        return FakeEntries(self.state[kind], kind)

    @property
    def audit(self):
        trail = self.state["audit"]

        class Trail:
            @staticmethod
            def record(actor, action, subject_type, subject_id, **details):
                trail.append((actor.subject, action, subject_type, subject_id, details))
        return Trail


class FakeUnitOfWork(FakeUnitOfWorkBase):
    tx_class = FakeTx


class FakeReads:
    def __init__(self, uow):
        self.uow = uow

    def entries(self, kind):
        return FakeEntries(self.uow.state[kind], kind)


@pytest.fixture
def uow():
    return FakeUnitOfWork({**{kind: {} for kind in domain.KINDS}, "audit": []})


@pytest.fixture
def service(uow):
    return DirectoryService(uow, FakeReads(uow), clock=lambda: NOW, today=lambda: TODAY)


def link(**overrides):
    return {"title": {"bn": "বিভুঁই", "en": "Bibhui"}, "url": None, "purpose": {"bn": "ওরিয়েন্টেশন", "en": "Orientation"},
            "note": None, "last_checked": TODAY, "sources": [], **overrides}


def test_a_put_without_if_match_creates_and_with_it_replaces(service, uow):
    entry, created = service.put(ADMIN, domain.LINK, "bibhui", link(), None)
    assert created and entry["version"] == 1 and entry["id"] == "bibhui"
    entry, created = service.put(ADMIN, domain.LINK, "bibhui", link(url="https://bibhui.example.gov.bd"), '"1"')
    assert not created and entry["version"] == 2 and entry["url"] == "https://bibhui.example.gov.bd"
    assert [(e.type, e.data["change"], e.aggregate_version) for e in uow.outbox] == [
        ("directory.link.changed", "created", 1), ("directory.link.changed", "replaced", 2)]
    assert [(who, action, version["version"]) for who, action, _, _, version in uow.state["audit"]] == [
        ("admin-1", "created", 1), ("admin-1", "replaced", 2)]


def test_replacing_without_if_match_or_with_a_stale_one_changes_nothing(service, uow):
    service.put(ADMIN, domain.LINK, "bibhui", link(), None)
    with pytest.raises(PreconditionRequired):
        service.put(ADMIN, domain.LINK, "bibhui", link(note={"bn": "নতুন", "en": "New"}), None)
    with pytest.raises(PreconditionFailed) as stale:
        service.put(ADMIN, domain.LINK, "bibhui", link(note={"bn": "নতুন", "en": "New"}), '"3"')
    assert stale.value.extra == {"current_version": 1}
    with pytest.raises(PreconditionFailed):
        service.put(ADMIN, domain.LINK, "bdjobs", link(), '"1"')  # nothing to match: not created
    assert list(uow.state[domain.LINK]) == ["bibhui"] and uow.state[domain.LINK]["bibhui"]["version"] == 1
    assert len(uow.outbox) == 1


def test_the_same_entry_again_is_no_new_version_and_no_event(service, uow):
    service.put(ADMIN, domain.LINK, "bibhui", link(), None)
    entry, created = service.put(ADMIN, domain.LINK, "bibhui", link(), '"1"')
    assert not created and entry["version"] == 1 and len(uow.outbox) == 1


def test_a_rule_broken_or_an_id_no_entry_can_have_writes_nothing(service, uow):
    with pytest.raises(Invalid) as invalid:
        service.put(ADMIN, domain.LINK, "bibhui", link(last_checked=date(2026, 11, 29)), None)
    assert set(invalid.value.errors) == {"last_checked"}
    with pytest.raises(NotFound):
        service.put(ADMIN, domain.LINK, "Not A Slug", link(), None)
    with pytest.raises(NotFound):
        service.get(domain.AGENCY, "RL-9")
    assert uow.state[domain.LINK] == {} and uow.outbox == [] and uow.state["audit"] == []


def test_an_entry_created_meanwhile_is_a_stale_precondition(service, uow):
    uow.state[domain.LINK]["bibhui"] = domain.new_entry(domain.LINK, "bibhui", link(), NOW,
                                                        {"user": "other", "role": "admin"})

    class Racing(FakeTx):  # another request created it between our read and our insert
        def entries(self, kind):
            entries = super().entries(kind)
            entries.get = lambda entry_id: None
            return entries
    uow.tx_class = Racing
    with pytest.raises(PreconditionFailed, match="created by someone else"):
        service.put(ADMIN, domain.LINK, "bibhui", link(url="https://bibhui.example.gov.bd"), None)
    assert uow.outbox == [] and uow.state[domain.LINK]["bibhui"]["url"] is None


def test_the_seed_creates_leaves_alone_and_replaces_only_when_forced(service, uow):
    assert service.seed(domain.LINK, "bibhui", link()) == "created"
    service.put(ADMIN, domain.LINK, "bibhui", link(url="https://bibhui.example.gov.bd"), '"1"')
    assert service.seed(domain.LINK, "bibhui", link()) == "kept"
    assert uow.state[domain.LINK]["bibhui"]["url"] == "https://bibhui.example.gov.bd"
    assert service.seed(domain.LINK, "bibhui", link(), force=True) == "replaced"
    assert service.seed(domain.LINK, "bibhui", link(), force=True) == "unchanged"
    assert uow.state[domain.LINK]["bibhui"]["version"] == 3
    assert [e.data["by"]["user"] for e in uow.outbox] == ["directory-seed", "admin-1", "directory-seed"]


def test_the_guide_lists_topics_by_kind(service):
    text = {"bn": "জিজ্ঞেস করুন", "en": "Ask"}
    for topic_id, kind in (("complaint", "complaint"), ("passport", "migration_paper")):
        service.put(ADMIN, domain.TOPIC, topic_id, {
            "kind": kind, "title": text, "summary": text, "who_may_apply": text, "documents": [], "forms": [],
            "amounts": None, "time_limits": None, "where_to_go": [], "note": None, "position": 0,
            "last_checked": TODAY, "sources": []}, None)
    assert [t["id"] for t in service.list(domain.TOPIC)["items"]] == ["complaint", "passport"]
    assert [t["id"] for t in service.list(domain.TOPIC, {"kind": "migration_paper"})["items"]] == ["passport"]
    assert service.list(domain.TOPIC, {"kind": None})["items"][0]["last_checked"] == TODAY
