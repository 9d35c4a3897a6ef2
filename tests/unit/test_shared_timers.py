"""The shared tick loop of the overdue timers (shared/timers.py), with fakes for the alarms and
the marks: settings, paging from where a full page stopped, an outage survived, signals."""
from __future__ import annotations

import logging
import signal
from datetime import datetime, timedelta, timezone

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from shared import timers

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


class ExampleConfig(timers.TimerConfig):
    prefix = "EXAMPLE"


class Alarms:
    """Rows due by alarm_at then _id, as a due queue's `alarms` answers; marking removes one."""

    def __init__(self, count: int, failures: int = 0):
        self.rows = [{"_id": f"X-{n:03d}", "alarm_at": NOW - timedelta(minutes=count - n)} for n in range(count)]
        self.failures, self.asked = failures, []

    def __call__(self, now, limit, after):
        self.asked.append(after)
        if self.failures:
            self.failures -= 1
            raise ServerSelectionTimeoutError("the database is away")
        due = [r for r in self.rows if r["alarm_at"] <= now and
               (after is None or (r["alarm_at"], r["_id"]) > tuple(after))]
        return sorted(due, key=lambda r: (r["alarm_at"], r["_id"]))[:limit]

    def mark(self, subject_id, now) -> bool:
        self.rows = [r for r in self.rows if r["_id"] != subject_id]
        return True


def timer_on(alarms: Alarms, batch_size: int, mark=None) -> timers.Timer:
    return timers.Timer("example", alarms, mark or alarms.mark, ExampleConfig(0.001, batch_size), lambda: NOW)


def test_settings_default_read_from_the_environment_under_the_services_prefix():
    assert ExampleConfig.from_env({}) == ExampleConfig(60.0, 100)
    assert ExampleConfig.from_env({"EXAMPLE_TIMER_INTERVAL": "2.5", "EXAMPLE_TIMER_BATCH": "7"}) == ExampleConfig(2.5, 7)
    assert ExampleConfig.variables() == ("EXAMPLE_TIMER_INTERVAL", "EXAMPLE_TIMER_BATCH")


@pytest.mark.parametrize("env", [{"EXAMPLE_TIMER_INTERVAL": "soon"}, {"EXAMPLE_TIMER_BATCH": "1.5"},
                                 {"EXAMPLE_TIMER_INTERVAL": "-1"}, {"EXAMPLE_TIMER_BATCH": "0"}])
def test_settings_that_cannot_work_stop_start_up_naming_the_variable(env):
    with pytest.raises(ValueError, match="EXAMPLE_TIMER_"):
        ExampleConfig.from_env(env)


def test_a_config_without_a_prefix_is_refused():
    with pytest.raises(TypeError):
        timers.TimerConfig.from_env({})


def test_a_full_page_is_followed_by_the_next_from_where_it_stopped():
    alarms = Alarms(5)
    skipped = {"X-000", "X-001"}  # another timer got these first: the mark did nothing
    timer = timer_on(alarms, 2, mark=lambda subject_id, now: subject_id not in skipped and alarms.mark(subject_id, now))
    assert timer.tick() == (0, True)
    assert alarms.asked[-1] is None
    assert timer.tick() == (2, True)
    assert alarms.asked[-1] == [NOW - timedelta(minutes=4), "X-001"]  # the last row of the first page
    assert timer.tick() == (1, False)  # a short page: the last one
    assert timer.tick() == (0, True)  # and the next tick starts again from the earliest alarm
    assert alarms.asked[-1] is None


def test_only_what_is_due_by_the_clock_is_marked():
    alarms = Alarms(3)
    alarms.rows[2]["alarm_at"] = NOW + timedelta(seconds=1)
    timer = timer_on(alarms, 10)
    assert timer.tick() == (2, False)
    assert [r["_id"] for r in alarms.rows] == ["X-002"]


def test_a_database_outage_is_logged_and_tried_again_next_tick(caplog):
    alarms = Alarms(3, failures=2)
    timer = timer_on(alarms, 2)

    def mark_then_stop(subject_id, now):
        alarms.mark(subject_id, now)
        if not alarms.rows:
            timer.stop()
        return True
    timer.mark_one = mark_then_stop
    with caplog.at_level(logging.ERROR, logger="shared.timers"):
        timer.run()
    assert alarms.rows == []
    assert [r.getMessage() for r in caplog.records].count("example timer tick failed: the database is away") == 2
    assert alarms.asked[:3] == [None, None, None]  # a failed tick does not page on


def test_a_stopped_timer_runs_no_tick():
    alarms = Alarms(3)
    timer = timer_on(alarms, 10)
    timer.stop()
    timer.run()
    assert alarms.asked == [] and len(alarms.rows) == 3


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_the_timer(sig):
    timer = timer_on(Alarms(0), 10)
    replaced = timers.stop_on_signals(timer)
    try:
        signal.raise_signal(sig)
        assert timer.stopped
    finally:
        for number, handler in replaced.items():
            signal.signal(number, handler)
