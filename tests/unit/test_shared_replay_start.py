"""A consumer process's start with its replays (shared/replay Replays.starting)."""
from __future__ import annotations

from types import SimpleNamespace

from shared.consumer import EventConsumer
from shared.replay import Replays


def test_a_consumers_start_is_its_unit_of_work_with_its_replays_started_on_that_database():
    replays, started = Replays(EventConsumer("example")), []
    replays.start = lambda settings, db: started.append((settings, db))
    uow, settings = SimpleNamespace(db="the database"), SimpleNamespace(amqp_url="amqp://x")
    assert replays.starting(lambda given: uow if given is settings else None)(settings) is uow
    assert started == [(settings, "the database")]
