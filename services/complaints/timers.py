"""python -m services.complaints.timers: marks complaints overdue when a running clock
(clocks.py: scrutiny, acknowledgement, disposal, a referral's) passes its due date, and
publishes `complaints.complaint.overdue` with the stage and its due date through the outbox.

Once per complaint and stage, however many timers run and however often: the mark is a
conditional write (same version, stage not yet in `overdue_stages`) in the transaction that
writes the outbox event, so a second timer's write matches nothing and raises nothing. A
complaint past due in several stages at once is marked in one, earliest first, per mark; its
alarm then moves to the next, which a later page or tick marks. The tick loop is
shared/timers.py.

    COMPLAINTS_TIMER_INTERVAL   seconds between ticks when nothing is left (default 60)
    COMPLAINTS_TIMER_BATCH      complaints per tick (default 100)
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from shared import timers

from . import changes, clocks, domain

log = logging.getLogger(__name__)


class TimerConfig(timers.TimerConfig):
    prefix = "COMPLAINTS"


class Timer(timers.Timer):
    """`uow` runs the marks (a ComplaintsTx: tx.complaints, tx.due_queue, tx.emit); `reads`
    finds the due alarms; `clock` says what time it is (tests set it)."""

    def __init__(self, uow, reads, config: TimerConfig = TimerConfig(),
                 clock: Callable[[], datetime] = timers.utcnow):
        super().__init__("complaints", reads.due_queue.alarms, self.mark, config, clock)
        self.uow, self.reads = uow, reads

    def mark(self, complaint_id: str, now: datetime) -> bool:
        """Mark one complaint overdue in its earliest due stage and raise the event, or do
        nothing if nothing is due or another timer (or a step) got there first."""
        def mark_in(tx) -> bool:
            complaint = tx.complaints.get(complaint_id)
            marked = clocks.mark_overdue(complaint, now) if complaint else None
            if marked is None:
                return False
            stage = marked["overdue_stages"][-1]
            if not tx.due_queue.mark(marked, complaint["version"], stage):
                return False
            due_at = marked["clocks"][stage]["due_at"]
            changes.publish(tx, domain.OVERDUE_EVENT, marked, stage=stage, due_at=due_at.isoformat())
            return True
        done = self.uow.run(mark_in)
        if done:
            log.info("complaint %s marked overdue", complaint_id)
        return done


def main() -> None:
    from shared import logs
    from shared.config import Settings

    from . import bootstrap
    from .repository import Reads

    settings = Settings.from_env(bootstrap.SERVICE)
    logs.configure(f"{bootstrap.SERVICE}-timer", settings.log_level)
    config = TimerConfig.from_env()
    uow = bootstrap.unit_of_work(settings)
    timer = Timer(uow, Reads(uow.db), config)
    timers.stop_on_signals(timer)
    timer.run()


if __name__ == "__main__":
    main()
