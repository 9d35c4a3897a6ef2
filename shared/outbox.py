"""The transactional outbox: events waiting for the relay, in the service's own database.

An event is `pending` until the broker confirmed it (`published`), or until it failed
`relay_max_attempts` times (`failed`: parked, out of the relay's way until requeued).
The relay reads only what is due (`available_at` has passed), by an index, so events
waiting out a retry delay cost nothing however many there are. One aggregate's events
go out in `aggregate_version` order: a later event whose predecessor is not yet due
waits until that one is (its `available_at` follows its predecessor's), and one whose
predecessor is parked is held (`available_at` = HELD) until that one is requeued.

    python -m shared.outbox --service NAME list              parked (failed) events
    python -m shared.outbox --service NAME count             events by status
    python -m shared.outbox --service NAME requeue ID...|--all
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from pymongo import ASCENDING, UpdateMany
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.events import Envelope

OUTBOX = "outbox"
LEASES = "relay_leases"
PUBLISHED_KEPT_FOR = timedelta(days=7)
MARK_CHUNK = 25
PENDING, PUBLISHED, FAILED = "pending", "published", "failed"
# available_at of an event held behind a parked predecessor: never due until requeued.
HELD = datetime(9999, 1, 1, tzinfo=timezone.utc)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _chunks(items: list, size: int = MARK_CHUNK):
    # Short $in lists: one long $in is matched in quadratic time on SecantusDB.
    return (items[i:i + size] for i in range(0, len(items), size))


def outbox_record(event: Envelope) -> dict:
    now = _now()
    return {
        "_id": event.id,
        "type": event.type,
        "aggregate": f"{event.subject.type}:{event.subject.id}",
        "aggregate_version": event.aggregate_version,
        "envelope": event.to_dict(),
        "status": PENDING,
        "created_at": now,
        "available_at": now,
        "attempts": 0,
    }


def in_batches(due: list[dict], size: int, count: int) -> list[list[dict]]:
    """Up to `count` batches of `size`, at most one event per aggregate in a batch and an
    aggregate's events in version order across batches: a batch is confirmed before the
    next goes out, so a nacked event can never be overtaken by its successor."""
    by_aggregate: dict[str, list[dict]] = defaultdict(list)
    for record in due:
        by_aggregate[record["aggregate"]].append(record)
    in_order = {aggregate: iter(sorted(records, key=lambda r: (r["aggregate_version"], r["created_at"])))
                for aggregate, records in by_aggregate.items()}
    batches: list[list[dict]] = [[] for _ in range(count)]
    last_batch: dict[str, int] = {}
    for record in due:  # oldest due first; each aggregate's slots filled in version order
        record = next(in_order[record["aggregate"]])
        index = last_batch.get(record["aggregate"], -1) + 1
        while index < count and len(batches[index]) >= size:
            index += 1
        last_batch[record["aggregate"]] = index  # past the end: the rest waits for the next read
        if index < count:
            batches[index].append(record)
    return [batch for batch in batches if batch]


class OutboxStore:
    """Reads and marks outbox records for the relay. One store per service database."""

    def __init__(self, db: Database, max_backoff_seconds: float = 60.0):
        self.db = db
        self.outbox = db[OUTBOX]
        self.leases = db[LEASES]
        self.max_backoff = max_backoff_seconds

    def ensure_indexes(self) -> None:
        self.outbox.create_index([("status", ASCENDING), ("available_at", ASCENDING)], name="due")
        self.outbox.create_index([("aggregate", ASCENDING), ("aggregate_version", ASCENDING)], name="aggregate_order")
        self.outbox.create_index("published_at", expireAfterSeconds=int(PUBLISHED_KEPT_FOR.total_seconds()),
                                 name="published_expiry")

    # -- what the relay publishes next --------------------------------------------------
    def _due(self, now: datetime):
        return self.outbox.find({"status": PENDING, "available_at": {"$lte": now}}).sort("available_at", ASCENDING)

    def explain_due(self) -> dict:
        return self._due(_now()).limit(10).explain()

    def next_batches(self, size: int, count: int, skip: set[str] = frozenset()) -> list[list[dict]]:
        """The events due now, oldest first, in batches (see in_batches), leaving out `skip`
        (the relay's events whose outcome is still being written); events whose aggregate
        has an earlier unpublished event are moved out of the way instead."""
        due = [r for r in self._due(_now()).limit(size * count) if r["_id"] not in skip]
        held = self._hold_back(due)
        return in_batches([r for r in due if r["_id"] not in held], size, count)

    def _hold_back(self, due: list[dict]) -> set[str]:
        """Ids of due events with an earlier unpublished event of their aggregate that is
        not due itself: they get its `available_at` (HELD behind a parked one), so they
        leave the due set and cannot crowd out other aggregates' events."""
        first_due: dict[str, int] = {}
        for record in due:
            aggregate, version = record["aggregate"], record["aggregate_version"]
            first_due[aggregate] = min(first_due.get(aggregate, version), version)
        # Versions start at 1: an aggregate whose first due event is version 1 has no predecessor.
        suspects = [aggregate for aggregate, version in first_due.items() if version > 1]
        release_at: dict[str, datetime] = {}
        for chunk in _chunks(suspects):
            for earlier in self.outbox.find({"aggregate": {"$in": chunk}, "status": {"$ne": PUBLISHED}},
                                            {"aggregate": 1, "aggregate_version": 1, "status": 1, "available_at": 1}):
                aggregate = earlier["aggregate"]
                if earlier["aggregate_version"] >= first_due[aggregate]:
                    continue
                at = HELD if earlier["status"] == FAILED else _aware(earlier["available_at"])
                release_at[aggregate] = max(release_at.get(aggregate, at), at)
        held: set[str] = set()
        for aggregate, at in release_at.items():
            ids = [r["_id"] for r in due if r["aggregate"] == aggregate]
            self.outbox.update_many({"_id": {"$in": ids}, "status": PENDING}, {"$set": {"available_at": at}})
            held.update(ids)
        return held

    def pending_count(self) -> int:
        return self.outbox.count_documents({"status": PENDING})

    def _oldest_pending(self):
        """The pending event due first, by the relay's own index: an index on the creation time
        as well made every outbox write slower (a relay behind 6,000 refused events fell behind
        its fresh ones); the event due first is the oldest except where a failed publish put an
        event's next try later, and those count in the failure and parked metrics."""
        return self.outbox.find({"status": PENDING}, {"created_at": 1}).sort("available_at", ASCENDING).limit(1)

    def explain_oldest_pending(self) -> dict:
        return self._oldest_pending().explain()

    def gauges(self, service: str) -> dict:
        """The relay's scrape-time gauges (shared/metrics.py OUTBOX_GAUGES), each by an index:
        pending and parked counts, and how long the oldest pending event has waited."""
        oldest = next(self._oldest_pending(), None)
        age = (_now() - _aware(oldest["created_at"])).total_seconds() if oldest else 0.0
        return {"probashi_outbox_pending": {(service,): self.pending_count()},
                "probashi_outbox_oldest_pending_age_seconds": {(service,): max(0.0, age)},
                "probashi_outbox_parked_events": {(service,): self.outbox.count_documents({"status": FAILED})}}

    # -- the outcome of a batch ---------------------------------------------------------
    def mark_published(self, event_ids: list[str]) -> None:
        if event_ids:
            # Short $in lists in one round trip: per-id updates cost ~3x more on SecantusDB
            # (bench/relay.py measures it).
            now = _now()
            self.outbox.bulk_write([UpdateMany({"_id": {"$in": chunk}, "status": PENDING},
                                               {"$set": {"status": PUBLISHED, "published_at": now}})
                                    for chunk in _chunks(event_ids)], ordered=False)

    def mark_failed(self, failures: list[tuple[dict, str]], max_attempts: int) -> list[str]:
        """Retry each failed event later with a growing delay, or park it once it has had
        `max_attempts`; returns the ids parked. One write per event."""
        parked = []
        for record, reason in failures:
            attempts = record.get("attempts", 0) + 1
            if attempts >= max_attempts:
                change = {"status": FAILED, "parked_at": _now(), "last_error": reason}
                parked.append(record["_id"])
            else:
                delay = min(self.max_backoff, 0.5 * 2 ** min(attempts, 10))
                change = {"available_at": _now() + timedelta(seconds=delay), "last_error": reason}
            self.outbox.update_one({"_id": record["_id"], "status": PENDING},
                                   {"$set": change, "$inc": {"attempts": 1}})
        return parked

    # -- parked events (the command below) --------------------------------------------------
    def parked(self, limit: int = 100) -> list[dict]:
        return list(self.outbox.find({"status": FAILED}, {"envelope": 0}).sort("parked_at", ASCENDING).limit(limit))

    def counts(self) -> dict[str, int]:
        counts = {status: self.outbox.count_documents({"status": status}) for status in (PENDING, FAILED, PUBLISHED)}
        counts["held"] = self.outbox.count_documents({"status": PENDING, "available_at": HELD})
        return counts

    def requeue(self, event_ids: list[str] | None = None) -> int:
        """Parked events (all, or these) go back to pending with fresh attempts, and the
        events held behind them are released."""
        query = {"status": FAILED} if event_ids is None else {"status": FAILED, "_id": {"$in": event_ids}}
        records = list(self.outbox.find(query, {"aggregate": 1}))
        now = _now()
        for chunk in _chunks([r["_id"] for r in records]):
            self.outbox.update_many({"_id": {"$in": chunk}, "status": FAILED},
                                    {"$set": {"status": PENDING, "attempts": 0, "available_at": now},
                                     "$unset": {"parked_at": ""}})
        for chunk in _chunks(sorted({r["aggregate"] for r in records})):
            self.outbox.update_many({"aggregate": {"$in": chunk}, "status": PENDING, "available_at": HELD},
                                    {"$set": {"available_at": now}})
        return len(records)

    # -- the lease --------------------------------------------------------------------------
    def acquire_lease(self, owner: str, seconds: float) -> bool:
        """Take or renew the lease: only its holder publishes, so two relays never send the
        same event side by side; a relay that dies loses the lease after `seconds`."""
        now = _now()
        try:
            self.leases.find_one_and_update(
                {"_id": "relay", "$or": [{"owner": owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": owner, "expires_at": now + timedelta(seconds=seconds)}},
                upsert=True)
            return True
        except DuplicateKeyError:
            return False

    def release_lease(self, owner: str) -> None:
        self.leases.delete_one({"_id": "relay", "owner": owner})


def main(argv: list[str] | None = None) -> int:
    """Parked events of one service: list, count, requeue (make outbox ARGS=...)."""
    from shared import mongo
    from shared.config import Settings

    parser = argparse.ArgumentParser(prog="python -m shared.outbox", description=main.__doc__)
    parser.add_argument("--service", required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="parked (failed) events, oldest first")
    commands.add_parser("count", help="events by status (held: waiting behind a parked one)")
    requeue = commands.add_parser("requeue", help="give parked events another round of attempts")
    requeue.add_argument("event_ids", nargs="*")
    requeue.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)

    store = OutboxStore(mongo.database(Settings.from_env(args.service)))
    if args.command == "list":
        for record in store.parked():
            print(json.dumps({"id": record["_id"], "type": record["type"], "aggregate": record["aggregate"],
                              "aggregate_version": record["aggregate_version"], "attempts": record["attempts"],
                              "last_error": record.get("last_error"), "parked_at": record.get("parked_at")},
                             default=str, ensure_ascii=False))
    elif args.command == "count":
        print(json.dumps(store.counts()))
    else:
        if not args.all and not args.event_ids:
            parser.error("requeue needs event ids or --all")
        print(f"requeued {store.requeue(None if args.all else args.event_ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
