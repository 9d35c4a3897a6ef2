"""The tick loop every service's overdue timer runs (`python -m services.<name>.timers`).

A service says which records are due (`alarms(now, limit, after)`: rows with `_id` and
`alarm_at`, by alarm_at then _id, after the keyset `after`) and how one is marked
(`mark(subject_id, now) -> bool`, its own conditional write and event). This module does the
rest: settings checked at start, one page of alarms a tick so a tick's work is bounded
whatever the backlog, a full page followed at once by the next from where it stopped, a
database outage logged and tried again next tick, SIGTERM/SIGINT stopping it between ticks.
OverdueTimer adds the mark every service makes the same way (its clocks say how).

    <PREFIX>_TIMER_INTERVAL   seconds between ticks when nothing is left (default 60)
    <PREFIX>_TIMER_BATCH      records per tick (default 100)
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, ClassVar

from pymongo.errors import PyMongoError

from shared import metrics

log = logging.getLogger(__name__)

Alarms = Callable[[datetime, int, "list | None"], list]
Mark = Callable[[str, datetime], bool]


@dataclass(frozen=True)
class TimerConfig:
    """A service subclasses it to name its variables' prefix (e.g. "CLAIMS")."""
    prefix: ClassVar[str] = ""
    interval_seconds: float = 60.0
    batch_size: int = 100

    @classmethod
    def variables(cls) -> tuple[str, str]:
        if not cls.prefix:
            raise TypeError(f"{cls.__name__} names no prefix for its environment variables")
        return f"{cls.prefix}_TIMER_INTERVAL", f"{cls.prefix}_TIMER_BATCH"

    @classmethod
    def from_env(cls, env: dict | None = None) -> "TimerConfig":
        """The settings, or ValueError naming the variable: a timer that cannot work stops at start."""
        env = os.environ if env is None else env
        interval_var, batch_var = cls.variables()
        try:
            interval = float(env.get(interval_var) or cls.interval_seconds)
            batch = int(env.get(batch_var) or cls.batch_size)
        except ValueError:
            raise ValueError(f"{interval_var} must be a number of seconds and {batch_var} a whole number") from None
        if interval <= 0 or batch < 1:
            raise ValueError(f"{interval_var} must be above 0 and {batch_var} at least 1")
        return cls(interval, batch)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Timer:
    """`alarms` finds the due records, `mark` marks one; `clock` says what time it is (tests set it)."""

    def __init__(self, name: str, alarms: Alarms, mark: Mark, config: TimerConfig,
                 clock: Callable[[], datetime] = utcnow):
        self.name, self.alarms, self.mark_one, self.config, self.clock = name, alarms, mark, config, clock
        self._after: list | None = None
        self._stop = threading.Event()

    def tick(self) -> tuple[int, bool]:
        """One page of due alarms: (records marked, whether more pages wait)."""
        now = self.clock()
        page = self.alarms(now, self.config.batch_size, self._after)
        marked = sum(1 for row in page if self._beat_and(self.mark_one, row["_id"], now))
        more = len(page) == self.config.batch_size
        # A full page goes on after its last row; otherwise the next tick starts again from
        # the earliest alarm (marks made meanwhile moved theirs on, or removed them).
        self._after = [page[-1]["alarm_at"], page[-1]["_id"]] if more else None
        return marked, more

    def run(self) -> None:
        log.info("%s timer started: every %ss, %s a tick", self.name, self.config.interval_seconds,
                 self.config.batch_size)
        while not self._stop.is_set():
            metrics.beat()
            try:
                _, more = self.tick()
            except PyMongoError as exc:  # the database is away: try again next tick
                log.error("%s timer tick failed: %s", self.name, exc)
                self._after, more = None, False
            if not more:
                self._stop.wait(self.config.interval_seconds)
        log.info("%s timer stopped", self.name)

    @staticmethod
    def _beat_and(step, *args):
        """A long page is the loop at work too: one heartbeat (shared/metrics.py) per record."""
        metrics.beat()
        return step(*args)

    def stop(self) -> None:
        self._stop.set()

    def serve_metrics(self, *collectors) -> None:
        """/metrics and /health/live on METRICS_PORT (shared/metrics.py): alive while ticks
        come, with the interval's pause between them."""
        metrics.serve(*collectors, stale_after=max(120.0, 3 * self.config.interval_seconds))

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()


class OverdueTimer(Timer):
    """A timer whose mark is every service's, in one transaction: read the record, let the
    service's clocks mark it overdue (or not: nothing due, or that stage marked already),
    write it only if nobody changed it and that stage is unmarked (`tx.due_queue.mark`:
    the database decides, so two timers cannot both publish), and publish the overdue
    event through the outbox. A subclass says which records, how they are marked and what
    the event is; `uow` runs the marks, `reads.due_queue.alarms` finds the due records."""
    records: ClassVar[str]  # the transaction's repository of them, e.g. "claims"
    open_statuses: ClassVar[tuple[str, ...]]  # the statuses of a case still open (metrics)
    subject: ClassVar[str]  # one of them, for the log: "claim"
    event_type: ClassVar[str]

    def __init__(self, uow, reads, config: TimerConfig, clock: Callable[[], datetime] = utcnow):
        super().__init__(self.records, reads.due_queue.alarms, self.mark, config, clock)
        self.uow, self.reads = uow, reads

    def case_gauges(self, service: str) -> metrics.ScrapeGauges:
        """Open and overdue cases by stage (status), read when Prometheus scrapes the timer."""
        def read() -> metrics.Readings:
            in_status, overdue = self.reads.due_queue.counts(self.open_statuses, self.clock())
            return {"probashi_cases_open": {(service, s): n for s, n in in_status.items()},
                    "probashi_cases_overdue": {(service, s): n for s, n in overdue.items()}}
        return metrics.ScrapeGauges(metrics.CASE_GAUGES, read)

    @staticmethod
    def mark_overdue(record: dict, now: datetime) -> dict | None:
        """The record marked overdue in one stage (the last of its `overdue_stages`), or None."""
        raise NotImplementedError

    @staticmethod
    def overdue(marked: dict) -> tuple[str, datetime]:
        """The stage `mark_overdue` marked, and when it fell due."""
        raise NotImplementedError

    @staticmethod
    def publish(tx, event_type: str, record: dict, **data) -> None:
        """The service's changes.publish: the event and its history line."""
        raise NotImplementedError

    def mark(self, subject_id: str, now: datetime) -> bool:
        """Mark one record overdue and raise its event, or do nothing if it is not due or
        another timer (or a person's change) got there first."""
        def mark_in(tx) -> bool:
            record = getattr(tx, self.records).get(subject_id)
            marked = self.mark_overdue(record, now) if record else None
            if marked is None:
                return False
            stage, due_at = self.overdue(marked)
            if not tx.due_queue.mark(marked, record["version"], stage):
                return False
            self.publish(tx, self.event_type, marked, stage=stage, due_at=due_at.isoformat())
            return True
        done = self.uow.run(mark_in)
        if done:
            log.info("%s %s marked overdue", self.subject, subject_id)
        return done


def stop_on_signals(timer: Timer) -> dict:
    """SIGTERM and SIGINT stop the timer after its current tick; returns the handlers replaced."""
    return {sig: signal.signal(sig, lambda *_: timer.stop()) for sig in (signal.SIGTERM, signal.SIGINT)}
