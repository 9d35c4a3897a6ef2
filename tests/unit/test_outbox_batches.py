"""How the relay cuts what is due into batches: one event per aggregate per batch, each
aggregate's events in version order across batches, whatever order they became due in."""
from datetime import datetime, timedelta, timezone

from shared.outbox import in_batches

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def record(aggregate: str, version: int, seconds: int = 0) -> dict:
    return {"_id": f"{aggregate}{version}", "aggregate": aggregate, "aggregate_version": version,
            "created_at": T0 + timedelta(seconds=seconds)}


def ids(batches):
    return [[r["_id"] for r in batch] for batch in batches]


def test_one_event_per_aggregate_per_batch_in_version_order():
    # a2 became due before a1 (a1 was retried); the clocks disagree too.
    due = [record("a", 2, 0), record("b", 1, 1), record("a", 1, 5), record("a", 3, 2), record("c", 1, 3)]
    assert ids(in_batches(due, size=10, count=8)) == [["a1", "b1", "c1"], ["a2"], ["a3"]]


def test_full_batches_push_events_later_and_an_aggregate_never_skips_ahead():
    due = [record("a", 1), record("b", 1), record("c", 1), record("a", 2), record("d", 1)]
    assert ids(in_batches(due, size=2, count=3)) == [["a1", "b1"], ["c1", "a2"], ["d1"]]


def test_what_does_not_fit_waits_for_the_next_read():
    due = [record("a", v) for v in (1, 2, 3)] + [record("b", 1)]
    assert ids(in_batches(due, size=5, count=2)) == [["a1", "b1"], ["a2"]]
