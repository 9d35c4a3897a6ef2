"""Replays (shared/replay/) against the real RabbitMQ and database: registration's
current state reaches a service whose queue did not exist when it was registered, only
that service, once, and never older than what it already applied."""
from __future__ import annotations

import io
import threading
from dataclasses import replace
from datetime import date

import pika
import pytest

from services.documents import bootstrap as documents_bootstrap
from services.documents import consumer as documents_consumer
from services.registration import bootstrap as registration_bootstrap
from services.registration import consumer as registration_consumer
from services.registration import replay as registration_replay
from services.registration.repository import MIGRANTS
from shared import mongo, replay
from shared.auth import Principal
from shared.consumer import EventConsumer, Worker
from shared.outbox import OutboxStore
from shared.relay import Relay
from shared.replay import MongoStateReader, ReplayServer, Source
from shared.uow import MongoUnitOfWork

from tests.waiting import wait_for

pytestmark = pytest.mark.integration
OFFICER = Principal("officer-1", "welfare_officer")


def details(i: int, **overrides) -> dict:
    return {"name_en": f"Worker {i}", "name_bn": "রহিমা বেগম", "date_of_birth": date(1994, 2, 1), "sex": "female",
            "nid": f"19941234{i:05d}", "passport_number": f"BX{i:07d}", "phone": f"+88017123{i:05d}",
            "district": "Cumilla", "upazila": "Daudkandi", "destination_country": "SA",
            "occupation": "Domestic worker", **overrides}


class Registration:
    """The registration service in-process: its use cases, its relay, its replay server."""

    def __init__(self, infra):
        self.infra = infra
        self.settings = infra.settings("registration")
        self.service = registration_bootstrap.build(self.settings)
        self.db = mongo.database(self.settings)

    def register(self, count: int) -> list[str]:
        return [self.service.register(OFFICER, details(i))["reference"] for i in range(count)]

    def rename(self, reference: str, name: str) -> None:
        version = self.db[MIGRANTS].find_one({"_id": reference})["version"]
        self.service.update(OFFICER, reference, {"name_en": name}, f'"{version}"')

    def publish(self) -> None:
        Relay(OutboxStore(self.db), self.settings).run(stop_when_idle=True)

    def serve_replays(self, page_size: int = 2) -> ReplayServer:
        return serving(self.infra, registration_consumer.replays.start(self.settings, self.db, page_size))


def serving(infra, server: ReplayServer) -> ReplayServer:
    infra.threads.append((server.thread, server))
    infra.extra_queues.append(server.queue)
    assert server.ready.wait(15), "replay server did not start"
    return server


def start_worker(infra, consumer, settings, uow) -> Worker:
    worker = Worker(consumer, uow, settings)
    infra.background(worker, worker.run)
    assert worker.ready.wait(15), "consumer did not start"
    return worker


@pytest.fixture
def registration(infra):
    return Registration(infra)


def start_documents(infra):
    """The documents consumer process in-process: its worker (which declares its queue)
    and its replays (which also report to the command what it applied). Its database."""
    settings = infra.settings("documents")
    uow = documents_bootstrap.unit_of_work(settings)
    start_worker(infra, documents_consumer.consumer, settings, uow)
    serving(infra, documents_consumer.replays.start(settings, uow.db))
    return uow.db


@pytest.fixture
def documents(infra):
    return start_documents(infra)


def run_command(infra, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = replay.main(list(argv), settings=replace(infra.settings("documents"), service="replay"), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def owners(db) -> list[str]:
    return sorted(o["_id"] for o in db.owners.find())


def test_documents_learns_the_migrants_registered_before_its_queue_existed(infra, registration):
    references = registration.register(5)
    registration.rename(references[0], "Renamed Before")  # version 2: the state, not the history, is replayed
    registration.publish()  # live events while documents had no queue: nobody received them
    registration.serve_replays(page_size=2)
    db = start_documents(infra)  # its queue exists only from now on
    assert owners(db) == []

    code, out, err = run_command(infra, "--to", "documents", "--from", "registration", "--timeout", "15")

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("replay ")
    assert lines[0].endswith("asked registration to replay its current state to documents")
    assert lines[1:] == [
        "registration: 5 to replay", "registration: served 2 of 5", "registration: served 4 of 5",
        "registration: served 5 of 5", "registration: all 5 sent to documents; waiting for documents to apply them",
        "documents: applied 5 of 5 (0 already known, or older than what documents had)", "done"]
    assert owners(db) == sorted(references)
    assert db.inbox_aggregates.find_one({"subject.id": references[0]})["version"] == 2


def test_running_the_replay_twice_changes_nothing(infra, registration, documents):
    references = registration.register(3)
    registration.serve_replays()
    assert run_command(infra, "--to", "documents", "--from", "registration", "--timeout", "15")[0] == 0
    def state():  # what documents knows of migrants (each replay's end marker has a row of its own)
        return {"owners": list(documents.owners.find().sort("_id")),
                "marks": list(documents.inbox_aggregates.find({"subject.type": "migrant"}).sort("_id"))}
    before = state()

    code, out, err = run_command(infra, "--to", "documents", "--from", "registration", "--timeout", "15")

    assert code == 0, err
    assert "documents: applied 0 of 3 (3 already known, or older than what documents had)" in out
    assert state() == before and owners(documents) == sorted(references)
    assert documents.inbox.count_documents({}) == 3 + 2  # one row per snapshot, one per end marker


@pytest.fixture
def latest(infra):
    """A subscriber that keeps each migrant's name as last applied, with its version, from
    live events and from replays alike: the inbox alone must keep it from going backwards."""
    names = EventConsumer("latest")
    replays = replay.Replays(names)

    def remember(event, tx):
        name = event.data.get("name_en") or event.data.get("values", {}).get("name_en")
        tx.db["latest"].replace_one({"_id": event.subject.id}, {"name_en": name, "version": event.aggregate_version},
                                    upsert=True, session=tx.session)
    names.handles("registration.migrant.registered")(remember)
    names.handles("registration.migrant.updated")(remember)
    replays.learn(registration_replay.SNAPSHOT, remember)
    settings = infra.settings("latest")
    uow = MongoUnitOfWork(mongo.database(settings), "latest")
    start_worker(infra, names, settings, uow)
    replays.start(settings, uow.db)
    return uow.db


def test_a_replay_older_than_a_live_update_already_applied_does_not_overwrite_it(infra, registration, latest):
    """The replay reads a migrant at version 1; before that page is sent, a live update
    (version 2) is published and applied. The late snapshot must not win."""
    [reference] = registration.register(1)
    registration.publish()
    wait_for(lambda: latest.latest.find_one({"_id": reference}), message="live registration not applied")

    def read_then_race(db, page):
        snapshots = registration_replay.snapshots(db, page)  # version 1, as read
        registration.rename(reference, "Newest Name")
        registration.publish()
        wait_for(lambda: (latest.latest.find_one({"_id": reference}) or {}).get("version") == 2,
                 message="live update not applied")
        return snapshots
    racing = Source(registration_replay.SNAPSHOT, "migrant", MIGRANTS, read_then_race,
                    registration_replay.STORED_FIELDS)
    server = ReplayServer("registration", registration.settings, MongoStateReader(registration.db), [racing])
    server.start()
    serving(infra, server)

    code, out, err = run_command(infra, "--to", "latest", "--from", "registration", "--timeout", "15")

    assert code == 0, err
    assert "latest: applied 0 of 1 (1 already known, or older than what latest had)" in out
    assert latest.latest.find_one({"_id": reference}) == {"_id": reference, "name_en": "Newest Name", "version": 2}


def test_a_replay_racing_live_updates_leaves_the_newest_state(infra, registration, latest):
    references = registration.register(12)
    relay = Relay(OutboxStore(registration.db), registration.settings)
    infra.background(relay, relay.run)  # live events flow throughout
    registration.serve_replays(page_size=3)
    renamed = threading.Event()

    def rename_all():
        for round_ in range(3):
            for reference in references:
                registration.rename(reference, f"Round {round_} {reference}")
        renamed.set()
    threading.Thread(target=rename_all, daemon=True).start()

    code, _, err = run_command(infra, "--to", "latest", "--from", "registration", "--timeout", "15")

    assert code == 0, err
    assert renamed.wait(30), "the live updates did not finish"
    current = {m["_id"]: {"_id": m["_id"], "name_en": m["name_en"], "version": m["version"]}
               for m in registration.db[MIGRANTS].find()}
    assert {m["version"] for m in current.values()} == {4}
    wait_for(lambda: {m["_id"]: m for m in latest.latest.find()} == current, timeout=20,
             message=lambda: f"not the newest state: {list(latest.latest.find())}")


def test_other_subscribers_receive_none_of_the_replayed_events(infra, registration, documents):
    registration.register(4)
    registration.publish()
    registration.serve_replays()
    tap = infra.tap("#")  # every event the exchange routes, as a notification service would see them
    bystander = "bystander"
    channel = pika.BlockingConnection(pika.URLParameters(infra.amqp_url)).channel()
    infra.extra_queues.append(f"{infra.prefix}.{bystander}")
    channel.queue_declare(f"{infra.prefix}.{bystander}", durable=True)
    channel.queue_bind(f"{infra.prefix}.{bystander}", f"{infra.prefix}.events", routing_key="registration.#")

    code, _, err = run_command(infra, "--to", "documents", "--from", "registration", "--timeout", "15")

    assert code == 0, err
    assert len(owners(documents)) == 4
    assert tap.drain(expect=0, timeout=1) == []
    assert channel.queue_declare(f"{infra.prefix}.{bystander}", passive=True).method.message_count == 0
    assert channel.queue_declare(f"{infra.prefix}.documents.dead", passive=True).method.message_count == 0
    channel.connection.close()


def test_the_command_fails_clearly_when_the_source_does_not_answer(infra, registration, documents):
    registration.register(2)
    channel = pika.BlockingConnection(pika.URLParameters(infra.amqp_url)).channel()
    requests = replay.request_queue(infra.prefix, "registration")

    code, out, err = run_command(infra, "--to", "documents", "--from", "registration", "--timeout", "2")
    assert code == 1 and "registration is not serving replays under AMQP_PREFIX=" in err

    channel.queue_declare(requests, **replay.REQUEST_QUEUE)  # a server declared it, and does not answer
    infra.extra_queues.append(requests)
    code, out, err = run_command(infra, "--to", "documents", "--from", "registration", "--timeout", "1.5")
    assert code == 1
    assert "replay failed: registration did not answer within 1.5 s (0 replay server(s) on its queue)" in err
    assert "nothing was replayed" in err and owners(documents) == []

    registration.serve_replays()  # back up: the expired request is not served late, a new one is
    code, _, err = run_command(infra, "--to", "documents", "--from", "registration", "--timeout", "15")
    assert code == 0, err
    assert documents.replays.count_documents({}) == 1 and len(owners(documents)) == 2
    channel.connection.close()


def test_the_command_names_a_requester_without_a_queue(infra, registration):
    registration.serve_replays()
    code, _, err = run_command(infra, "--to", "claims", "--from", "registration", "--timeout", "5")
    assert code == 1 and f"claims has no queue {infra.prefix}.claims yet" in err
