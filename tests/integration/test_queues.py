"""Quorum queues, the default, against the real broker: a message that kills its consumer
every time ends in the dead-letter queue after the delivery limit instead of looping, and
queues an earlier version declared classic stop the processes with the fix named, then
`topology migrate` moves them with their messages. (Retries through the delay queues and
the consumer's own dead letters run on quorum queues in every other consumer test.)"""
from __future__ import annotations

import subprocess
from dataclasses import replace

import pika
import pytest

from shared import deadletters, mongo, topology
from shared.outbox import OutboxStore
from shared.relay import Relay
from tests import processes
from tests.consumer_probe import SERVICE, consumer, counter, event, publish, queue_depth
from tests.consumer_probe import declare_queues
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def test_a_message_that_kills_its_consumer_every_time_is_dead_lettered_after_the_delivery_limit(infra, tmp_path):
    settings = infra.settings(SERVICE, amqp_delivery_limit=2)
    db = mongo.database(settings)
    names = declare_queues(settings)
    before = event("before")
    publish(settings, before)
    started = [processes.probe_consumer(settings, tmp_path, PROBE_CRASH="1").start()]
    try:
        wait_for(lambda: counter(db, "before")["applied"] == 1, 30, lambda: started[-1].log())
        poison = event("poison", crash=True)
        publish(settings, poison)
        crashes = 0
        while True:  # a supervisor (Kubernetes, make run) restarts the process each time it dies
            probe = started[-1]
            wait_for(lambda: probe.process.poll() is not None
                     or queue_depth(settings.amqp_url, names.dead_letter_queue), 60, lambda: probe.log())
            if probe.process.poll() is None:
                break
            crashes += 1
            assert crashes <= settings.amqp_delivery_limit + 1, "the poison message loops"
            started.append(processes.probe_consumer(settings, tmp_path, name=f"probe-consumer-{crashes}",
                                                    PROBE_CRASH="1").start())
        assert crashes == settings.amqp_delivery_limit + 1  # the first delivery and `limit` redeliveries
        [letter] = deadletters.DeadLetterQueue(settings).list()
        assert letter.event_id == poison.id
        summary = letter.summary()
        assert summary["x-error-type"] == "delivery_limit" and "AMQP_DELIVERY_LIMIT" in summary["x-error"]
        after = event("after")
        publish(settings, after)  # the consumer carries on with the next events
        wait_for(lambda: counter(db, "after")["applied"] == 1, 30, lambda: probe.log())
        assert counter(db, "poison")["applied"] == 0 and counter(db, "before")["applied"] == 1
    finally:
        codes = [process.stop() for process in started]
    assert codes[-1] == 0, started[-1].log()


def test_classic_queues_of_an_earlier_version_are_refused_then_moved_with_their_messages(infra, tmp_path):
    settings = infra.settings(SERVICE)
    db = mongo.database(settings)
    names = declare_queues(replace(settings, amqp_queue_type="classic"))  # as an earlier version left them
    events = [event(f"held{n}") for n in range(3)]
    for held in events:
        publish(settings, held)
    letter = event("dead")
    publish(settings, letter, headers={"x-error": "boom"}, exchange="", routing_key=names.dead_letter_queue)
    infra.extra_queues += [topology.holding_queue(names.queue), topology.holding_queue(names.dead_letter_queue)]

    refused = subprocess.run(processes.probe_consumer(settings, tmp_path).argv, cwd=processes.REPO_ROOT,
                             env=processes.environment(settings), capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "make topology-migrate" in refused.stderr and "AMQP_QUEUE_TYPE=quorum" in refused.stderr, refused.stderr
    with pytest.raises(topology.TopologyMismatch, match="topology-migrate"):
        Relay(OutboxStore(db), settings).run()

    # Not while anything consumes from a queue to be moved.
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(names.queue, lambda *args: None)
    only_probe = {SERVICE: consumer.binding_keys}
    assert topology.main(["migrate", "--service", SERVICE], settings, only_probe) == 1
    connection.close()
    assert queue_depth(settings.amqp_url, names.queue) == 3

    assert topology.main(["migrate", "--service", SERVICE], settings, only_probe) == 0
    assert queue_depth(settings.amqp_url, names.queue) == 3
    assert queue_depth(settings.amqp_url, names.dead_letter_queue) == 1
    assert queue_depth(settings.amqp_url, topology.holding_queue(names.queue)) is None  # gone once emptied
    with pytest.raises(topology.TopologyMismatch):  # quorum now: the classic declaration is the stranger
        declare_queues(replace(settings, amqp_queue_type="classic"))
    assert topology.migrate(settings, only_probe) == []  # nothing left to do

    probe = processes.probe_consumer(settings, tmp_path).start()
    try:
        wait_for(lambda: all(counter(db, e.subject.id)["applied"] == 1 for e in events), 30, lambda: probe.log())
        assert [dead.event_id for dead in deadletters.DeadLetterQueue(settings).list()] == [letter.id]
    finally:
        assert probe.stop() == 0, probe.log()


def test_a_copy_the_consumer_republished_keeps_counting_deliveries_towards_the_limit(infra):
    from shared.consumer import Worker
    from shared.uow import MongoUnitOfWork
    settings = infra.settings(SERVICE, amqp_delivery_limit=2)
    db = mongo.database(settings)
    names = declare_queues(settings)
    # A deferred copy of an event two deliveries of which already ended without an ack...
    poison = event("poison")
    publish(settings, poison, headers={"x-redeliveries": 2, "x-attempt": 1})
    wait_for(lambda: queue_depth(settings.amqp_url, names.queue) == 1)
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    method, _, _ = connection.channel().basic_get(names.queue, auto_ack=False)
    assert method is not None
    connection.close()  # ...and a third: its consumer died again
    worker = Worker(consumer, MongoUnitOfWork(db, SERVICE), settings)
    infra.background(worker, worker.run)
    wait_for(lambda: queue_depth(settings.amqp_url, names.dead_letter_queue) == 1, 30)
    [letter] = deadletters.DeadLetterQueue(settings).list()
    assert letter.event_id == poison.id and letter.headers["x-error-type"] == "DeliveryLimitReached"
    assert letter.headers["x-redeliveries"] == 3
    assert counter(db, "poison")["applied"] == 0
