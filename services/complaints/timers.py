"""python -m services.complaints.timers: marks complaints overdue when a running clock
(clocks.py: scrutiny, acknowledgement, disposal, a referral's) passes its due date, and
publishes `complaints.complaint.overdue` with the stage and its due date through the outbox.

Once per complaint and stage, however many timers run and however often: the mark is a
conditional write (same version, stage not yet in `overdue_stages`) in the transaction that
writes the outbox event, so a second timer's write matches nothing and raises nothing. A
complaint past due in several stages at once is marked in one, earliest first, per mark; its
alarm then moves to the next, which a later page or tick marks. The tick loop and the
mark's transaction are shared/timers.py.

    COMPLAINTS_TIMER_INTERVAL   seconds between ticks when nothing is left (default 60)
    COMPLAINTS_TIMER_BATCH      complaints per tick (default 100)
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from shared import timers

from . import changes, clocks, domain


class TimerConfig(timers.TimerConfig):
    prefix = "COMPLAINTS"


class Timer(timers.OverdueTimer):
    """`uow` runs the marks (a ComplaintsTx: tx.complaints, tx.due_queue, tx.emit); `reads`
    finds the due alarms; `clock` says what time it is (tests set it)."""
    records, subject, event_type = "complaints", "complaint", domain.OVERDUE_EVENT
    mark_overdue = staticmethod(clocks.mark_overdue)  # the earliest due stage not marked yet
    publish = staticmethod(changes.publish)
    open_statuses = tuple(s for s in domain.STATUSES if s not in domain.FINAL)

    def __init__(self, uow, reads, config: TimerConfig = TimerConfig(),
                 clock: Callable[[], datetime] = timers.utcnow):
        super().__init__(uow, reads, config, clock)

    @staticmethod
    def overdue(marked: dict) -> tuple[str, datetime]:
        stage = marked["overdue_stages"][-1]
        return stage, marked["clocks"][stage]["due_at"]


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
    timer.serve_metrics(timer.case_gauges(bootstrap.SERVICE))
    timers.stop_on_signals(timer)
    timer.run()


if __name__ == "__main__":
    main()
