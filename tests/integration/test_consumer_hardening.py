"""The consumer against the real RabbitMQ and database when what it is fed, or what it
depends on, is not what it expects: malformed headers, missing or refusing queues,
events out of order, a pruned inbox, database errors that no retry can fix, a large
dead-letter queue."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pika
import pytest

from shared import deadletters, mongo, topology
from shared.consumer import EventConsumer, Worker
from shared.uow import INBOX, MongoUnitOfWork
from tests import processes
from tests.consumer_probe import SERVICE, consumer, count, counter, event, publish, queue_depth
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def probe(infra):
    settings = infra.settings(SERVICE)
    db = mongo.database(settings)
    return settings, db


def start_worker(infra, settings, db, handlers=consumer, **kwargs):
    worker = Worker(handlers, kwargs.pop("uow", None) or MongoUnitOfWork(db, SERVICE), settings, **kwargs)
    thread = infra.background(worker, worker.run)
    assert worker.ready.wait(15), "consumer did not start"
    return worker, thread


def dead_letters(settings) -> list:
    return deadletters.DeadLetterQueue(settings).list()


# -- 1. a header cannot crash the consumer ------------------------------------------------
@pytest.mark.parametrize("attempt", ["not-a-number", "", "2.5", "-3"])
def test_a_malformed_attempt_header_does_not_kill_the_worker(infra, probe, attempt):
    settings, db = probe
    worker, thread = start_worker(infra, settings, db)
    publish(settings, event("a"), headers={"x-attempt": attempt})
    publish(settings, event("b"))
    wait_for(lambda: worker.processed == 2 or not thread.is_alive(), 15, "the events were not handled")
    assert thread.is_alive(), "the worker died on a header"
    assert counter(db, "a")["applied"] == 1 and counter(db, "b")["applied"] == 1


def test_a_failing_event_with_a_malformed_attempt_header_is_retried_then_dead_lettered(infra, probe):
    settings, db = probe
    worker, thread = start_worker(infra, settings, db)
    failing = event("a", fail=True)
    publish(settings, failing, headers={"x-attempt": "junk", "x-deferred-since": "junk"})
    wait_for(lambda: len(dead_letters(settings)) == 1 or not thread.is_alive(), 20, "never dead-lettered")
    assert thread.is_alive()
    letter = dead_letters(settings)[0]
    assert letter.event_id == failing.id and letter.headers["x-attempts"] == 1 + len(settings.retry_delays_ms)


# -- 2. a retry or dead letter cannot vanish ----------------------------------------------
def test_retry_settings_that_cannot_work_stop_the_consumer_at_start(infra, tmp_path):
    settings = infra.settings(SERVICE)
    env = {**processes.environment(settings), "RETRY_DELAYS_MS": ","}
    result = subprocess.run([sys.executable, "-m", "tests.consumer_probe"], cwd=processes.REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "RETRY_DELAYS_MS" in result.stderr and "at least one" in result.stderr


def delete_queues(settings, *queues: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    for queue in queues:
        connection.channel().queue_delete(queue)
    connection.close()


def test_a_retry_to_a_missing_delay_queue_is_kept_not_lost(infra, probe):
    settings, db = probe
    names = topology.Names(settings.amqp_prefix, SERVICE)
    worker, thread = start_worker(infra, settings, db, put_back_pause=0.1)
    delete_queues(settings, *[names.retry_queue(ms) for ms in settings.retry_delays_ms], names.dead_letter_queue)
    failing = event("a", fail=True)
    publish(settings, failing)
    # The republish comes back unroutable: the message goes back to the queue (never
    # acked while no queue has its copy), and the consumer declares its queues again.
    wait_for(lambda: queue_depth(settings.amqp_url, names.dead_letter_queue) == 1, 30,
             "the event vanished with its retry")
    assert thread.is_alive() and worker.put_back >= 1
    letter = dead_letters(settings)[0]
    assert letter.event_id == failing.id and letter.headers["x-attempts"] == 1 + len(settings.retry_delays_ms)


def test_a_dead_letter_the_broker_refuses_stays_in_the_queue(infra, probe):
    settings, db = probe
    names = topology.Names(settings.amqp_prefix, SERVICE)
    worker, thread = start_worker(infra, settings, db, put_back_pause=0.1)
    # A dead-letter queue that refuses every message: the broker nacks the republish.
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    channel = connection.channel()
    channel.queue_delete(names.dead_letter_queue)
    channel.queue_declare(names.dead_letter_queue, durable=True,
                          arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    malformed = b'{"not": "an envelope"}'
    channel.basic_publish(f"{settings.amqp_prefix}.events", "probe.thing.changed", malformed,
                          pika.BasicProperties(message_id="refused-1", delivery_mode=2))
    wait_for(lambda: worker.put_back >= 3 or not thread.is_alive(), 20, "the refused dead letter was not noticed")
    assert thread.is_alive()
    channel.queue_delete(names.dead_letter_queue)  # the refusing queue goes; the consumer declares its own
    connection.close()
    wait_for(lambda: queue_depth(settings.amqp_url, names.dead_letter_queue) == 1, 30, "the message was lost")
    assert dead_letters(settings)[0].event_id == "refused-1"


# -- 3. disorder ------------------------------------------------------------------------
def test_an_event_older_than_the_applied_version_is_skipped_and_logged(infra, probe, caplog):
    settings, db = probe
    worker, _ = start_worker(infra, settings, db)
    newer, older, same_version_other = event("a", 2), event("a", 1), event("a", 2)
    for message in (newer, older, same_version_other, event("b", 1)):
        publish(settings, message)
    wait_for(lambda: worker.processed == 4)
    assert counter(db, "a")["events"] == [newer.id, same_version_other.id]
    assert counter(db, "b")["applied"] == 1
    skipped = [r for r in caplog.records if "older than" in r.getMessage()]
    assert len(skipped) == 1 and getattr(skipped[0], "event_id", None) == older.id
    assert db[INBOX].count_documents({"event_id": older.id}) == 0


def test_a_consumer_that_applies_late_events_applies_an_older_one_once_and_keeps_the_mark(infra, probe):
    """EventConsumer(apply_late=True), for handlers that keep each event in its place (a
    timeline): the older event applies after the newer, a copy of it stops at the inbox,
    and the aggregate's mark stays at the newest version."""
    settings, db = probe
    late = EventConsumer(SERVICE, apply_late=True)
    late.handles("probe.#")(count)
    worker, _ = start_worker(infra, settings, db, handlers=late)
    newer, older = event("a", 2), event("a", 1)
    for message in (newer, older, older):
        publish(settings, message)
    wait_for(lambda: worker.processed == 3)
    assert counter(db, "a")["events"] == [newer.id, older.id]
    assert db[INBOX].count_documents({"event_id": older.id}) == 1
    assert db["inbox_aggregates"].find_one({"_id": f"{SERVICE}:thing:a"})["version"] == 2


# -- 4. housekeeping --------------------------------------------------------------------
def prune_inbox(infra, db) -> None:
    """What the TTL monitor does every 60 s; SecantusDB runs it on demand."""
    if infra.mongo_server is not None:
        db.client.admin.command("secantusAdmin.pruneTtl")
    else:
        pytest.skip("needs SecantusDB to run the TTL monitor on demand")


def test_a_replay_after_the_inbox_was_pruned_has_no_second_effect(infra, probe):
    settings, db = probe
    settings = replace(settings, inbox_retention_seconds=1)
    worker, _ = start_worker(infra, settings, db)
    ttl = {i["name"]: i for i in db[INBOX].list_indexes()}
    assert any(i.get("expireAfterSeconds") == 1 for i in ttl.values()), ttl
    first, second = event("a", 1), event("a", 2)
    publish(settings, first)
    publish(settings, second)
    wait_for(lambda: counter(db, "a")["applied"] == 2)
    # Once the rows are older than the retention, a pass of the TTL monitor removes them.
    wait_for(lambda: prune_inbox(infra, db) or db[INBOX].count_documents({}) == 0, 15, "the inbox was not pruned",
             interval=0.5)
    # Both come back, as from a delay queue or a dead-letter replay, long after.
    publish(settings, second)
    publish(settings, first)
    wait_for(lambda: worker.processed == 4)
    assert counter(db, "a") == {"_id": "a", "applied": 2, "events": [first.id, second.id], "versions": [1, 2],
                                "last": 2}


def test_a_deterministic_database_error_is_dead_lettered_not_deferred_forever(infra, probe):
    from pymongo.errors import DuplicateKeyError

    from shared.consumer import EventConsumer

    settings, db = probe
    settings = replace(settings, defer_limit_seconds=1.0)
    handlers = EventConsumer(SERVICE)
    db["things"].insert_one({"_id": "taken"})

    # Catches a failed write and carries on: the database has already aborted the
    # transaction, so every commit fails with NoSuchTransaction, labelled
    # TransientTransactionError, although no retry can ever succeed.
    @handlers.handles("probe.swallow.*")
    def swallow(event, tx):
        try:
            tx.db["things"].insert_one({"_id": "taken"}, session=tx.session)
        except DuplicateKeyError:
            pass

    @handlers.handles("probe.unencodable.*")
    def unencodable(event, tx):
        tx.db["things"].insert_one({"_id": event.id, "value": {1, 2}}, session=tx.session)

    @handlers.handles("probe.refused.*")
    def refused(event, tx):
        tx.db["things"].update_one({"_id": "taken"}, {"$inc": {"_id": 1}}, session=tx.session)

    worker, thread = start_worker(infra, settings, db, handlers=handlers,
                                  uow=MongoUnitOfWork(db, SERVICE, retry_seconds=0.3))
    events = {kind: event(kind, event_type=f"probe.{kind}.changed") for kind in ("swallow", "unencodable", "refused")}
    for message in events.values():
        publish(settings, message)
    wait_for(lambda: len(dead_letters(settings)) == 3, 60, lambda: f"dead letters: {dead_letters(settings)}")
    errors = {letter.event_id: letter.headers["x-error-type"] for letter in dead_letters(settings)}
    assert errors == {events["swallow"].id: "OperationFailure", events["unencodable"].id: "InvalidDocument",
                      events["refused"].id: "WriteError"}
    assert thread.is_alive()


def fill_dead_letter_queue(settings, total: int) -> tuple[topology.Names, list[str]]:
    names = topology.Names(settings.amqp_prefix, SERVICE)
    from kombu import Connection
    with Connection(settings.amqp_url) as connection:
        topology.declare(connection, names, consumer.binding_keys, settings.retry_delays_ms,
                         topology.QueueKind.of(settings))
    ids = []
    for n in range(total):
        letter = event(f"t{n}")
        ids.append(letter.id)
        publish(settings, letter, headers={"x-error": "boom", "x-attempts": 3}, exchange="",
                routing_key=names.dead_letter_queue)
    return names, ids


def test_dead_letters_are_listed_page_by_page_without_loss_or_duplicates(infra, capsys):
    # Pages are exact on classic queues, which give unacked messages back in their order.
    settings = infra.settings(SERVICE, amqp_queue_type="classic")
    total = 250
    names, ids = fill_dead_letter_queue(settings, total)
    dlq = deadletters.DeadLetterQueue(settings)
    letters = dlq.letters()
    first = next(letters)
    # The tool holds what it has looked at so far, not the whole queue.
    assert queue_depth(settings.amqp_url, names.dead_letter_queue) == total - 1
    seen = [first.event_id] + [letter.event_id for letter in letters]
    assert seen == ids  # in queue order, each once
    assert queue_depth(settings.amqp_url, names.dead_letter_queue) == total  # listing changed nothing
    assert [letter.event_id for letter in dlq.letters(limit=10)] == ids[:10]
    assert [letter.event_id for letter in dlq.letters(limit=10, skip=240)] == ids[240:]

    env = {"AMQP_URL": settings.amqp_url, "AMQP_PREFIX": settings.amqp_prefix, "AMQP_QUEUE_TYPE": "classic"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        capsys.readouterr()
        assert deadletters.main(["--service", SERVICE, "list"]) == 0
        listed = capsys.readouterr().out.splitlines()
        assert len(listed) == total and ids[123] in listed[123]
        assert deadletters.main(["--service", SERVICE, "list", "--skip", "20", "--limit", "5"]) == 0
        assert [line.split('"')[3] for line in capsys.readouterr().out.splitlines()] == ids[20:25]
        assert deadletters.main(["--service", SERVICE, "show", ids[200]]) == 0
        assert ids[200] in capsys.readouterr().out
        assert deadletters.main(["--service", SERVICE, "replay", ids[150]]) == 0
    assert queue_depth(settings.amqp_url, names.queue) == 1
    remaining = [letter.event_id for letter in dlq.letters()]
    assert remaining == ids[:150] + ids[151:]
    assert dlq.replay(None) == remaining
    assert queue_depth(settings.amqp_url, names.dead_letter_queue) == 0
    assert queue_depth(settings.amqp_url, names.queue) == total


def test_a_quorum_dead_letter_queue_is_listed_whole_each_time_and_replayed_without_loss(infra, probe):
    # A quorum queue gives unacked messages back in an order of its own: every listing still
    # shows each letter once, and nothing is lost or doubled.
    settings, _ = probe
    total = 120
    names, ids = fill_dead_letter_queue(settings, total)
    dlq = deadletters.DeadLetterQueue(settings)
    assert [letter.event_id for letter in dlq.letters()] == ids  # the first listing: queue order
    for _ in range(2):
        again = [letter.event_id for letter in dlq.letters()]
        assert sorted(again) == sorted(ids) and len(again) == total
    assert len(dlq.list(limit=10)) == 10 and queue_depth(settings.amqp_url, names.dead_letter_queue) == total
    assert dlq.find(ids[77]).event_id == ids[77]
    assert dlq.replay({ids[5]}) == [ids[5]]
    assert sorted(dlq.replay(None)) == sorted(ids[:5] + ids[6:])
    assert queue_depth(settings.amqp_url, names.dead_letter_queue) == 0
    assert queue_depth(settings.amqp_url, names.queue) == total


def test_a_changed_inbox_retention_retunes_the_ttl_index(probe):
    _, db = probe
    from shared import inbox
    inbox.ensure_indexes(db, 3600)
    inbox.ensure_indexes(db, 7200)  # a restart with another INBOX_RETENTION_SECONDS
    index = {i["name"]: i for i in db[INBOX].list_indexes()}[inbox.RETENTION_INDEX]
    assert index["expireAfterSeconds"] == 7200
