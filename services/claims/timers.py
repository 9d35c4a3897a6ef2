"""python -m services.claims.timers: marks claims overdue when their running stage clock
passes its due date (clocks.py), and publishes `claims.claim.overdue` through the outbox.

Once per claim and stage, however many timers run and however often: the mark is a
conditional write (same version, stage not yet in `overdue_stages`) in the transaction that
writes the outbox event, so a second timer's write matches nothing and raises nothing.
Each tick reads one page of due alarms by the `alarms` index (claims marked already carry
none), so its work is bounded whatever the backlog; a full page is followed at once by the
next, from where it stopped.

    CLAIMS_TIMER_INTERVAL   seconds between ticks when nothing is left (default 60)
    CLAIMS_TIMER_BATCH      claims per tick (default 100)
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from pymongo.errors import PyMongoError

from . import changes, clocks, domain

log = logging.getLogger(__name__)
INTERVAL_VAR, BATCH_VAR = "CLAIMS_TIMER_INTERVAL", "CLAIMS_TIMER_BATCH"


@dataclass(frozen=True)
class TimerConfig:
    interval_seconds: float = 60.0
    batch_size: int = 100

    @classmethod
    def from_env(cls, env: dict | None = None) -> "TimerConfig":
        env = os.environ if env is None else env
        try:
            interval = float(env.get(INTERVAL_VAR) or cls.interval_seconds)
            batch = int(env.get(BATCH_VAR) or cls.batch_size)
        except ValueError:
            raise ValueError(f"{INTERVAL_VAR} must be a number of seconds and {BATCH_VAR} a whole number") from None
        if interval <= 0 or batch < 1:
            raise ValueError(f"{INTERVAL_VAR} must be above 0 and {BATCH_VAR} at least 1")
        return cls(interval, batch)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Timer:
    """`uow` runs the marks (a ClaimsTx: tx.claims, tx.due_queue, tx.emit); `reads` finds
    the due alarms; `clock` says what time it is (tests set it)."""

    def __init__(self, uow, reads, config: TimerConfig = TimerConfig(), clock: Callable[[], datetime] = _utcnow):
        self.uow, self.reads, self.config, self.clock = uow, reads, config, clock
        self._after: list | None = None
        self._stop = threading.Event()

    def tick(self) -> tuple[int, bool]:
        """One page of due alarms: (claims marked, whether more pages wait)."""
        now = self.clock()
        page = self.reads.due_queue.alarms(now, self.config.batch_size, self._after)
        marked = sum(1 for row in page if self.mark(row["_id"], now))
        more = len(page) == self.config.batch_size
        self._after = [page[-1]["alarm_at"], page[-1]["_id"]] if more else None
        return marked, more

    def mark(self, claim_id: str, now: datetime) -> bool:
        """Mark one claim overdue and raise its event, or do nothing if it is not due or
        another timer (or an officer's change) got there first."""
        def mark_in(tx) -> bool:
            claim = tx.claims.get(claim_id)
            marked = clocks.mark_overdue(claim, now) if claim else None
            if marked is None:
                return False
            overdue = marked["overdue"]
            if not tx.due_queue.mark(marked, claim["version"], overdue["stage"]):
                return False
            changes.publish(tx, domain.OVERDUE_EVENT, marked, stage=overdue["stage"],
                            due_at=overdue["due_at"].isoformat())
            return True
        done = self.uow.run(mark_in)
        if done:
            log.info("claim %s marked overdue", claim_id)
        return done

    def run(self) -> None:
        log.info("claims timer started: every %ss, %s claims a tick", self.config.interval_seconds,
                 self.config.batch_size)
        while not self._stop.is_set():
            try:
                _, more = self.tick()
            except PyMongoError as exc:  # the database is away: try again next tick
                log.error("claims timer tick failed: %s", exc)
                self._after, more = None, False
            if not more:
                self._stop.wait(self.config.interval_seconds)

    def stop(self) -> None:
        self._stop.set()


def main() -> None:
    import signal

    from shared import logs
    from shared.config import Settings

    from . import bootstrap
    from .repository import Reads, backfill_clocks

    settings = Settings.from_env(bootstrap.SERVICE)
    logs.configure(f"{bootstrap.SERVICE}-timer", settings.log_level)
    uow = bootstrap.unit_of_work(settings)
    log.info("stage clocks given to %s claims filed before them", backfill_clocks(uow.db))
    timer = Timer(uow, Reads(uow.db), TimerConfig.from_env())
    signal.signal(signal.SIGTERM, lambda *_: timer.stop())
    signal.signal(signal.SIGINT, lambda *_: timer.stop())
    timer.run()


if __name__ == "__main__":
    main()
