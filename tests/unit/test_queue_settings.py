"""AMQP_QUEUE_TYPE and AMQP_DELIVERY_LIMIT: read once by Settings, and what they declare."""
from __future__ import annotations

import pytest

from shared import topology
from shared.config import ConfigError, Settings


def test_queues_are_quorum_with_a_delivery_limit_by_default():
    settings = Settings.from_env("probe", {})
    assert (settings.amqp_queue_type, settings.amqp_delivery_limit) == ("quorum", 20)
    kind = topology.QueueKind.of(Settings.from_env("probe", {"AMQP_DELIVERY_LIMIT": "5"}))
    main, *delays, dead = topology.service_queues(topology.Names("p", "probe"), ["x.#"], (100, 300), kind)
    assert main.queue_arguments == {"x-queue-type": "quorum", "x-delivery-limit": 5, "x-dead-letter-exchange": "",
                                    "x-dead-letter-routing-key": "p.probe.dead",
                                    "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
    assert [q.queue_arguments["x-message-ttl"] for q in delays] == [100, 300]
    assert all(q.queue_arguments["x-dead-letter-routing-key"] == "p.probe" and
               q.queue_arguments["x-dead-letter-strategy"] == "at-least-once" for q in delays)
    assert dead.queue_arguments == {"x-queue-type": "quorum"}
    assert all(q.durable and not q.auto_delete and not q.exclusive for q in (main, *delays, dead))


def test_classic_queues_are_declared_as_earlier_versions_declared_them():
    kind = topology.QueueKind.of(Settings.from_env("probe", {"AMQP_QUEUE_TYPE": "classic"}))
    main, delay, dead = topology.service_queues(topology.Names("p", "probe"), ["x.#"], (100,), kind)
    assert main.queue_arguments is None and dead.queue_arguments is None
    assert delay.queue_arguments == {"x-message-ttl": 100, "x-dead-letter-exchange": "",
                                     "x-dead-letter-routing-key": "p.probe"}


@pytest.mark.parametrize("env, problem", [
    ({"AMQP_QUEUE_TYPE": "stream"}, "AMQP_QUEUE_TYPE must be one of quorum, classic"),
    ({"AMQP_DELIVERY_LIMIT": "0"}, "AMQP_DELIVERY_LIMIT must be at least 1"),
    ({"AMQP_DELIVERY_LIMIT": "many"}, "AMQP_DELIVERY_LIMIT must be a number"),
])
def test_a_queue_setting_that_cannot_work_is_refused_by_name(env, problem):
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env("probe", env)


def test_the_broker_refusal_names_the_queue_and_the_fix():
    says = ("PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'probashi.documents' in vhost '/': "
            "received the value 'quorum' of type 'longstr' but current is none")
    message = str(topology.mismatch("probashi", topology.QueueKind(), says))
    assert "queue probashi.documents" in message and "make topology-migrate" in message
    assert "AMQP_QUEUE_TYPE=quorum, AMQP_DELIVERY_LIMIT=20" in message
    exchange = str(topology.mismatch("probashi", topology.QueueKind(), "inequivalent arg 'alternate-exchange' "
                                     "for exchange 'probashi.events'"))
    assert "alternate-exchange=probashi.unrouted" in exchange
