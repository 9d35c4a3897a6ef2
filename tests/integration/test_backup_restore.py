"""Backups (README, Backups and restores): a dump restored into a fresh database, the service
restarted on it, and the system carries on, counted exactly. Registration (producer: its
relay, and its consumer process serving replays) and the documents vault (consumer: every
registered migrant becomes an owner, recording the event that told it) run as real processes;
`python -m shared.backup` dumps and restores. A consumer restored from a dump learns what it
missed since from a replay; a producer restored from a dump with unpublished outbox rows
publishes them again, and the consumer's inbox drops the copies. A producer restored behind
its consumer re-issues versions the consumer skips (why the README says not to do that), and
the tool itself keeps every BSON type and index and never restores into data."""
from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import datetime, timezone
from uuid import uuid4

import pymongo
import pytest
from bson import Binary, Decimal128, ObjectId
from bson.codec_options import CodecOptions
from bson.json_util import CANONICAL_JSON_OPTIONS, loads
from bson.raw_bson import RawBSONDocument

from services.claims import bootstrap as claims_bootstrap
from services.claims.consumer import consumer as claims
from services.registration import bootstrap as registration_bootstrap
from services.registration.replay import MIGRANTS_SOURCE, SNAPSHOT
from services.registration.schemas import MigrantCreateSchema
from shared import deadletters, replay
from shared.backup import dump, restore
from shared.events import Envelope
from tests import processes
from tests.load import OFFICER, declare_queues, migrant, queue_consumed
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

BATCH = 6  # registrations before and after the dump, and while the consumer is down


def tool(settings, *argv: str) -> subprocess.CompletedProcess:
    """python -m shared.backup, as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "shared.backup", *argv], cwd=processes.REPO_ROOT,
                          env=processes.environment(settings), capture_output=True, text=True, timeout=60)


@pytest.fixture
def fresh(infra):
    """fresh(settings): the same service on a database of its own, dropped when the test ends."""
    names: list[str] = []

    def on_a_fresh_database(settings):
        names.append(f"{settings.database}_restored")
        return replace(settings, mongo_db=names[-1])
    yield on_a_fresh_database
    with pymongo.MongoClient(infra.mongo_uri) as client:
        for name in names:
            client.drop_database(name)


@functools.lru_cache
def _client(uri: str) -> pymongo.MongoClient:
    return pymongo.MongoClient(uri, tz_aware=True)


def database(settings):
    """The service's database on one client per server (the tests poll it often)."""
    return _client(settings.mongo_uri)[settings.database]


class Registered:
    """What the broker routed of registration.migrant.registered: event ids by reference."""

    def __init__(self, infra):
        self.tap = infra.tap("registration.migrant.registered")
        self.ids: dict[str, list[str]] = {}

    def drain(self) -> int:
        while (message := self.tap.channel.basic_get(self.tap.queue, auto_ack=True))[0] is not None:
            self.ids.setdefault(json.loads(message[2])["subject"]["id"], []).append(message[1].message_id)
        return sum(map(len, self.ids.values()))


class Registrar:
    """Registers migrants through one registration service layer, numbered on from `first`."""

    def __init__(self, settings, first: int = 0):
        self.service, self.next = registration_bootstrap.build(settings), first

    def register(self, count: int) -> None:
        for n in range(self.next, self.next + count):
            self.service.register(OFFICER, MigrantCreateSchema().load(migrant(n)))
        self.next += count

    def in_background(self):
        """Registers one migrant after another until the returned `stop()` is called."""
        stopping = threading.Event()

        def keep_registering() -> None:
            while not stopping.is_set():
                self.register(1)
        thread = threading.Thread(target=keep_registering, daemon=True)
        thread.start()

        def stop() -> None:
            stopping.set()
            thread.join(30)
            assert not thread.is_alive(), "the registrations did not stop"
        return stop


def owners(settings) -> dict[str, str]:
    """The vault's owners: reference -> the id of the event it learnt them from."""
    return {row["_id"]: row["event_id"] for row in database(settings).owners.find()}


def inbox(settings) -> list[str]:
    return [row["event_id"] for row in database(settings).inbox.find({"consumer": "documents"})]


def start_consumer(service, settings, tmp_path):
    process = processes.consumer(service, settings, tmp_path).start()
    wait_for(lambda: queue_consumed(settings.amqp_url, f"{settings.amqp_prefix}.{service}"), timeout=30,
             message=lambda: f"{service} consumer not consuming:\n{process.log()}")
    return process


def test_a_restored_consumer_learns_from_a_replay_what_it_missed_since_the_dump(infra, tmp_path, fresh):
    registration, documents = infra.settings("registration"), infra.settings("documents")
    restored = fresh(documents)
    routed = Registered(infra)
    declare_queues(documents)
    started = [processes.relay("registration", registration, tmp_path).start(),
               start_consumer("registration", registration, tmp_path)]  # serves registration's replays
    vault = start_consumer("documents", documents, tmp_path)
    registrar = Registrar(registration)
    try:
        registrar.register(BATCH)
        wait_for(lambda: len(owners(documents)) == BATCH, timeout=30, message="the vault did not learn the first")
        stop_registering = registrar.in_background()  # events flow while the dump reads
        wait_for(lambda: registrar.next >= BATCH + 3, timeout=30, message="registrations did not go on")
        said: list[str] = []
        dump(database(documents), tmp_path / "dump", say=said.append)  # the command: the producer test
        stop_registering()
        assert said[-1].startswith(f"dumped {documents.database}: ") and any(line.startswith("  owners: ")
                                                                              for line in said)
        registrar.register(BATCH)
        before_the_loss = registrar.next
        wait_for(lambda: len(owners(documents)) == before_the_loss, timeout=30, message="the vault did not learn all")

        # The vault's database is lost; its queue (on the broker) keeps what is published meanwhile.
        assert vault.stop() == 0
        registrar.register(BATCH)
        wait_for(lambda: database(registration).outbox.count_documents({"status": "pending"}) == 0, timeout=30,
                 message="registration did not publish what it registered while the vault was down")
        loaded = tool(restored, "restore", "--from", str(tmp_path / "dump"), "--to-uri", infra.mongo_uri,
                      "--to-db", restored.database)
        assert loaded.returncode == 0, loaded.stderr
        as_dumped = owners(restored)
        # One moment of the database: each owner with the inbox row of the event that made it.
        assert BATCH <= len(as_dumped) <= before_the_loss - BATCH
        assert sorted(inbox(restored)) == sorted(as_dumped.values())

        started.append(start_consumer("documents", restored, tmp_path))
        said, complaints = io.StringIO(), io.StringIO()  # make replay ARGS="--to documents --from registration"
        assert replay.Command(restored, said, complaints).run("registration", "documents", 30) == 0, \
            said.getvalue() + complaints.getvalue()
        assert said.getvalue().splitlines()[-1] == "done"

        # The replay's end marker came after every event queued before it: the vault is caught up.
        assert routed.drain() == registrar.next and all(len(ids) == 1 for ids in routed.ids.values())
        live = {reference: ids[0] for reference, ids in routed.ids.items()}
        after_dump = {reference for reference in live if reference not in as_dumped}
        registered_while_down = set(list(live)[before_the_loss:])  # in the order the broker routed them
        missed = after_dump - registered_while_down
        assert len(missed) >= BATCH  # at least those registered between the dump and the loss
        learnt = owners(restored)
        assert set(learnt) == set(live)  # nothing lost, each migrant once
        assert {r: learnt[r] for r in set(live) - missed} == {r: live[r] for r in set(live) - missed}
        assert {r: learnt[r] for r in missed} == {r: replay.snapshot_id(SNAPSHOT, r, 1) for r in missed}
        applied_live = [event_id for event_id in inbox(restored) if event_id in set(live.values())]
        assert sorted(applied_live) == sorted(live[r] for r in set(live) - missed)  # none applied twice
        assert deadletters.DeadLetterQueue(restored).list() == []
    finally:
        codes = [process.stop() for process in [vault, *started]]
    assert codes[1:] == [0, 0, 0], [process.log()[-2000:] for process in started]


def test_a_restored_producer_publishes_its_pending_events_again_and_the_consumer_drops_the_copies(
        infra, tmp_path, fresh):
    registration, documents = infra.settings("registration"), infra.settings("documents")
    restored = fresh(registration)
    routed = Registered(infra)
    declare_queues(documents)
    vault = start_consumer("documents", documents, tmp_path)
    relay = processes.relay("registration", registration, tmp_path).start()
    relays = [relay]
    registrar = Registrar(registration)
    try:
        registrar.register(5)
        wait_for(lambda: len(owners(documents)) == 5, timeout=30, message="the vault did not learn the first 5")
        assert relay.stop() == 0
        registrar.register(5)  # committed, not yet published
        assert database(registration).outbox.count_documents({"status": "pending"}) == 5
        dumped = tool(registration, "dump", "--service", "registration", "--to", str(tmp_path))
        assert dumped.returncode == 0, dumped.stderr
        assert {"  migrants: 10 documents", "  outbox: 10 documents"} <= set(dumped.stdout.splitlines())

        relays.append(processes.relay("registration", registration, tmp_path).start())
        wait_for(lambda: len(owners(documents)) == 10, timeout=30, message="the pending 5 were not published")
        registrar.register(5)  # registered after the dump
        wait_for(lambda: len(owners(documents)) == 15, timeout=30, message="the vault did not learn all 15")

        # Registration's database is lost: restored from the dump, its relay started on it.
        assert relays[-1].stop() == 0
        db = database(restored)
        loaded = tool(restored, "restore", "--from", str(tmp_path), "--to-uri", infra.mongo_uri,
                      "--to-db", restored.database)
        assert loaded.returncode == 0, loaded.stderr
        assert {"  migrants: 10 documents", "  outbox: 10 documents"} <= set(loaded.stdout.splitlines())
        assert db.migrants.count_documents({}) == 10  # the 5 registered after the dump are gone from it
        pending_at_dump = {r["envelope"]["subject"]["id"] for r in db.outbox.find({"status": "pending"})}
        assert len(pending_at_dump) == 5
        relays.append(processes.relay("registration", restored, tmp_path).start())
        wait_for(lambda: db.outbox.count_documents({"status": "pending"}) == 0, timeout=30,
                 message=lambda: f"the restored outbox was not published:\n{relays[-1].log()}")
        # New registrations on the restored database; the vault takes its queue in order, so once
        # it learnt these it has handled the 5 copies published before them.
        Registrar(restored, first=registrar.next).register(5)
        wait_for(lambda: len(owners(documents)) == 20, timeout=30, message="the vault did not learn the last 5")

        assert db.outbox.count_documents({}) == db.outbox.count_documents({"status": "published"}) == 15
        assert routed.drain() == 25
        copies = {reference for reference, ids in routed.ids.items() if len(ids) > 1}
        assert copies == pending_at_dump and all(len(set(routed.ids[r])) == 1 for r in copies)  # same event again
        live = {reference: ids[0] for reference, ids in routed.ids.items()}
        assert owners(documents) == live  # every migrant once, learnt from its own event
        assert sorted(inbox(documents)) == sorted(live.values())  # the copies applied nothing
        assert vault.log().count("duplicate delivery ignored") == 5
        assert deadletters.DeadLetterQueue(documents).list() == []
    finally:
        codes = [process.stop() for process in [vault, *relays]]
    assert codes == [0] * len(codes), [process.log()[-2000:] for process in [vault, *relays]]


def test_a_producer_restored_behind_its_consumer_reissues_versions_the_consumer_skips(infra, tmp_path, fresh):
    """What README, Backups says a producer restored alone to an older point does: its next
    changes to an aggregate changed after the dump carry versions its consumers have already
    applied; below their high-water mark they are skipped, a replay too, and at the mark the
    new event applies. Registration's events are handed to the claims consumer's own code."""
    registration = infra.settings("registration")
    restored = fresh(registration)
    uow = claims_bootstrap.unit_of_work(infra.settings("claims"))
    delivered: set[str] = set()

    def deliver(settings) -> list[bool]:
        """Each of the producer's outbox events the consumer has not been handed yet, in order."""
        records = database(settings).outbox.find({"_id": {"$nin": list(delivered)}})
        events = sorted((Envelope.from_dict(r["envelope"]) for r in records),
                        key=lambda e: (e.aggregate_version, e.occurred_at))
        delivered.update(e.id for e in events)
        return [claims.process(uow, event) for event in events]

    def rename(service, reference: str, version: int, name: str) -> None:
        service.update(OFFICER, reference, {"name_en": name}, f'"{version}"')

    def known_name(reference: str) -> str:
        return uow.db.migrants.find_one({"_id": reference})["name_en"]

    original = registration_bootstrap.build(registration)
    reference = original.register(OFFICER, MigrantCreateSchema().load(migrant(1)))["reference"]
    dump(database(registration), tmp_path / "dump", say=lambda _: None)
    rename(original, reference, 1, "Lost Two")
    rename(original, reference, 2, "Lost Three")
    assert deliver(registration) == [True, True, True] and known_name(reference) == "Lost Three"

    restore(tmp_path / "dump" / registration.database, database(restored), say=lambda _: None)
    again = registration_bootstrap.build(restored)
    rename(again, reference, 1, "New Two")  # version 2 again, a new event
    assert deliver(restored) == [False] and known_name(reference) == "Lost Three"  # below the mark: skipped

    row = database(restored).migrants.find_one({"_id": reference})
    snapshot = replay.snapshot_event("registration", MIGRANTS_SOURCE, MIGRANTS_SOURCE.snapshots(None, [row])[0], "r1")
    assert claims.process(uow, snapshot) is False and known_name(reference) == "Lost Three"  # a replay too

    rename(again, reference, 2, "New Three")  # at the mark: a second event of version 3 applies
    rename(again, reference, 3, "New Four")
    assert deliver(restored) == [True, True] and known_name(reference) == "New Four"


def test_a_dump_restores_every_type_and_index_and_a_restore_never_mixes_into_data(mongo_uri, tmp_path):
    name = f"t{uuid4().hex[:10]}_backup"
    row = {"_id": ObjectId(), "at": datetime(2026, 11, 28, 18, 0, 0, 123000, tzinfo=timezone.utc),
           "taka": Decimal128("30000.50"), "scan": Binary(b"\x00\xff"), "steps": [{"n": 1}], "big": 2 ** 40}
    with pymongo.MongoClient(mongo_uri, tz_aware=True) as client:
        try:
            source = client[name]
            source.rows.insert_one(row)
            source.rows.create_index("at", name="at_expiry", expireAfterSeconds=3600)
            source.rows.create_index([("taka", 1), ("big", -1)], name="taka_big", unique=True)
            source.create_collection("empty")
            lines: list[str] = []
            assert dump(source, tmp_path, say=lines.append) == {"empty": 0, "rows": 1}
            assert lines[-1] == f"dumped {name}: 1 documents in 2 collections"
            metadata = loads((tmp_path / name / "rows.metadata.json").read_text(), json_options=CANONICAL_JSON_OPTIONS)
            assert metadata["collectionName"] == "rows" and {"_id_", "at_expiry", "taka_big"} == \
                {index["name"] for index in metadata["indexes"]}
            with pytest.raises(FileExistsError):  # a second dump never writes into the first
                dump(source, tmp_path, say=lines.append)

            def fail_half_way(line: str) -> None:
                if line.startswith("  rows"):
                    raise RuntimeError("the disk is full")
            with pytest.raises(RuntimeError):
                dump(source, tmp_path / "second", say=fail_half_way)
            assert list((tmp_path / "second").iterdir()) == []  # a failed dump leaves nothing

            target = client[f"{name}_restored"]
            assert restore(tmp_path / name, target, say=lines.append) == {"empty": 0, "rows": 1}
            raw = [c.with_options(codec_options=CodecOptions(document_class=RawBSONDocument)) for c in
                   (source.rows, target.rows)]
            assert raw[1].find_one().raw == raw[0].find_one().raw  # byte for byte
            indexes = {index["name"]: index for index in target.rows.list_indexes()}
            assert indexes["at_expiry"]["expireAfterSeconds"] == 3600 and indexes["taka_big"]["unique"] is True
            assert "empty" in target.list_collection_names()

            with pytest.raises(SystemExit, match="already holds documents in rows"):
                restore(tmp_path / name, target, say=lines.append)
            target.rows.insert_one({"_id": "written after the dump"})
            assert restore(tmp_path / name, target, drop=True, say=lines.append) == {"empty": 0, "rows": 1}
            assert [r.raw for r in raw[1].find()] == [raw[0].find_one().raw]
        finally:
            client.drop_database(name)
            client.drop_database(f"{name}_restored")
