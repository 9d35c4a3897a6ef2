"""python -m services.claims.timers: marks claims overdue when their running stage clock
passes its due date (clocks.py), and publishes `claims.claim.overdue` through the outbox.

Once per claim and stage, however many timers run and however often: the mark is a
conditional write (same version, stage not yet in `overdue_stages`) in the transaction that
writes the outbox event, so a second timer's write matches nothing and raises nothing.
The tick loop (a page of due alarms by the `alarms` index, paging, retries, signals) is
shared/timers.py, and so is the mark's transaction; this module says how a claim is marked.

    CLAIMS_TIMER_INTERVAL   seconds between ticks when nothing is left (default 60)
    CLAIMS_TIMER_BATCH      claims per tick (default 100)
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from shared import timers

from . import changes, clocks, domain

log = logging.getLogger(__name__)


class TimerConfig(timers.TimerConfig):
    prefix = "CLAIMS"


INTERVAL_VAR, BATCH_VAR = TimerConfig.variables()


class Timer(timers.OverdueTimer):
    """`uow` runs the marks (a ClaimsTx: tx.claims, tx.due_queue, tx.emit); `reads` finds
    the due alarms; `clock` says what time it is (tests set it)."""
    records, subject, event_type = "claims", "claim", domain.OVERDUE_EVENT
    mark_overdue = staticmethod(clocks.mark_overdue)
    publish = staticmethod(changes.publish)
    open_statuses = domain.OPEN

    def __init__(self, uow, reads, config: TimerConfig = TimerConfig(),
                 clock: Callable[[], datetime] = timers.utcnow):
        super().__init__(uow, reads, config, clock)

    @staticmethod
    def overdue(marked: dict) -> tuple[str, datetime]:
        return marked["overdue"]["stage"], marked["overdue"]["due_at"]


def main() -> None:
    from shared import logs
    from shared.config import Settings

    from . import bootstrap
    from .repository import Reads, backfill_clocks

    settings = Settings.from_env(bootstrap.SERVICE)
    logs.configure(f"{bootstrap.SERVICE}-timer", settings.log_level)
    config = TimerConfig.from_env()
    uow = bootstrap.unit_of_work(settings)
    log.info("stage clocks given to %s claims filed before them", backfill_clocks(uow.db))
    timer = Timer(uow, Reads(uow.db), config)
    timer.serve_metrics(timer.case_gauges(bootstrap.SERVICE))
    timers.stop_on_signals(timer)
    timer.run()


if __name__ == "__main__":
    main()
