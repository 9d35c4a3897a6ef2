"""The overdue timer's mark every service makes (shared/timers.py OverdueTimer), with fakes
behind the unit of work: once per record and stage, nothing when not due, nothing when
someone changed the record between the read and the write."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from shared import timers

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
DUE = NOW - timedelta(hours=1)


class ExampleConfig(timers.TimerConfig):
    prefix = "EXAMPLE"


class Records:
    """The transaction's repository of records, and the due queue's conditional mark on it."""

    def __init__(self, rows: dict):
        self.rows = rows

    def get(self, record_id: str) -> dict | None:
        return self.rows.get(record_id)

    def mark(self, record: dict, expected_version: int, stage: str) -> bool:
        stored = self.rows[record["_id"]]
        if stored["version"] != expected_version or stage in stored.get("overdue_stages", []):
            return False
        self.rows[record["_id"]] = record
        return True


class ChangedAfterRead(Records):
    """Someone else writes each record just after the timer read it."""

    def get(self, record_id: str) -> dict | None:
        row = super().get(record_id)
        self.rows[record_id] = {**row, "version": row["version"] + 1}
        return row


class UnitOfWork:
    def __init__(self, records: Records):
        self.tx = SimpleNamespace(examples=records, due_queue=records, published=[])

    def run(self, work):
        return work(self.tx)


class ExampleTimer(timers.OverdueTimer):
    records, subject, event_type = "examples", "example", "example.record.overdue"

    @staticmethod
    def mark_overdue(record: dict, now: datetime) -> dict | None:
        if record["due_at"] > now or "review" in record.get("overdue_stages", []):
            return None
        return {**record, "version": record["version"] + 1, "overdue_stages": ["review"]}

    @staticmethod
    def overdue(marked: dict) -> tuple[str, datetime]:
        return marked["overdue_stages"][-1], marked["due_at"]

    @staticmethod
    def publish(tx, event_type: str, record: dict, **data) -> None:
        tx.published.append((event_type, record["_id"], record["version"], data))


def timer_on(rows: dict, records=Records) -> tuple[ExampleTimer, UnitOfWork]:
    uow = UnitOfWork(records(rows))
    reads = SimpleNamespace(due_queue=SimpleNamespace(alarms=lambda now, limit, after: []))
    return ExampleTimer(uow, reads, ExampleConfig(0.001, 10), lambda: NOW), uow


def test_a_due_record_is_marked_once_and_its_event_published_with_the_stage_and_due_date(caplog):
    timer, uow = timer_on({"X-1": {"_id": "X-1", "version": 3, "due_at": DUE}})
    with caplog.at_level(logging.INFO, logger="shared.timers"):
        assert timer.mark("X-1", NOW) is True
    assert uow.tx.examples.rows["X-1"]["overdue_stages"] == ["review"]
    assert uow.tx.published == [("example.record.overdue", "X-1", 4, {"stage": "review",
                                                                      "due_at": DUE.isoformat()})]
    assert "example X-1 marked overdue" in caplog.text
    assert timer.mark("X-1", NOW) is False
    assert len(uow.tx.published) == 1


@pytest.mark.parametrize("rows", [{"X-1": {"_id": "X-1", "version": 1, "due_at": NOW + timedelta(minutes=1)}}, {}],
                         ids=["not due yet", "no such record"])
def test_nothing_due_is_marked_and_nothing_published(rows):
    timer, uow = timer_on(rows)
    assert timer.mark("X-1", NOW) is False
    assert uow.tx.published == []


def test_a_record_changed_between_the_read_and_the_write_is_left_to_the_next_tick():
    rows = {"X-1": {"_id": "X-1", "version": 1, "due_at": DUE}}
    timer, uow = timer_on(rows, ChangedAfterRead)
    assert timer.mark("X-1", NOW) is False
    assert uow.tx.published == []
    assert rows["X-1"]["version"] == 2 and "overdue_stages" not in rows["X-1"]


def test_the_timer_pages_the_due_queues_alarms_under_the_records_name():
    timer, _ = timer_on({})
    assert timer.name == "examples"
    assert timer.tick() == (0, False)
