"""python -m services.casestatus.sender: sends the queued case notifications by SMS.

Each tick takes up to a batch of notifications whose send_at has come (index `due`), claims
each with a conditional update (notification_repository.claim: one sender wins, however
many replicas run), sends it through shared/sms and records the outcome under that claim:

- sent: sent_at, the gateway's message id and the segments billed;
- the gateway unavailable (5xx, timeout, no connection) or anything unexpected: queued again
  after a delay that doubles with each attempt; a retry falling in quiet hours waits for the
  morning unless urgent (notifications.send_at); after the last attempt, failed with the
  gateway's reason;
- refused by the gateway (4xx): failed at once with its reason (sending again cannot help);
- the phone opted out since it was queued (held overnight, say): cancelled, not sent.

Never lost, at most rarely twice: a sender killed between its claim and the record of the
outcome leaves the notification `sending` until its lease runs out (LEASE_SECONDS after the
claim); then any sender claims it again and sends it. If the kill came after the gateway had
taken the SMS but before `sent` was written, the person gets it twice. That window is one
gateway call and one write; the lease only decides how soon the retry comes. The lease must
outlast a whole gateway call (checked at start), or a slow but live sender would lose its
claim to another replica and both would send.

The sender does not retry inside a gateway call (HttpSms is built without backoff): its own
retries are durable and spaced, and a sleeping call would hold the tick and the claim.

    CASESTATUS_SENDER_INTERVAL          seconds between ticks when nothing is due (default 5)
    CASESTATUS_SENDER_BATCH             notifications per tick (default 50)
    CASESTATUS_SENDER_LEASE_SECONDS     how long a claim holds (default 60)
    CASESTATUS_SENDER_MAX_ATTEMPTS      attempts before a failure is final (default 5)
    CASESTATUS_SENDER_RETRY_SECONDS     the first retry's delay, doubled each time (default 60)
    CASESTATUS_SENDER_MAX_RETRY_SECONDS the longest delay between attempts (default 3600)
    SMS_ADAPTER and its settings        shared/sms.py
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Callable, ClassVar

from shared import timers
from shared.config import ConfigError
from shared.sms import HttpSms, Sms, SmsRefused, SmsUnavailable, masked

from . import notifications
from .notification_repository import NotificationStore, PreferenceStore

log = logging.getLogger("probashi.casestatus.sender")  # not __main__ under -m


@dataclass(frozen=True)
class SenderConfig(timers.TimerConfig):
    prefix: ClassVar[str] = "CASESTATUS_SENDER"
    interval_seconds: float = 5.0
    batch_size: int = 50
    lease_seconds: float = 60.0
    max_attempts: int = 5
    retry_seconds: float = 60.0
    max_retry_seconds: float = 3600.0

    VARIABLES: ClassVar[dict] = {"interval_seconds": "INTERVAL", "batch_size": "BATCH",
                                 "lease_seconds": "LEASE_SECONDS", "max_attempts": "MAX_ATTEMPTS",
                                 "retry_seconds": "RETRY_SECONDS", "max_retry_seconds": "MAX_RETRY_SECONDS"}

    @classmethod
    def from_env(cls, env: dict | None = None) -> "SenderConfig":
        """The settings, or ConfigError naming the variable: a sender that cannot work stops at start."""
        env = os.environ if env is None else env
        values = {}
        for field in fields(cls):
            name = f"{cls.prefix}_{cls.VARIABLES[field.name]}"
            kind = int if field.type in (int, "int") else float
            try:
                value = kind(env[name]) if env.get(name) else field.default
            except ValueError:
                raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, got {env[name]!r}") \
                    from None
            if value <= 0:
                raise ConfigError(f"{name} must be above 0, got {value}")
            values[field.name] = value
        return cls(**values)


def longest_call(sms: Sms) -> float:
    """The longest one send can take: HttpSms's timeout per attempt and its backoff between."""
    if isinstance(sms, HttpSms):
        return sms.timeout * (len(sms.backoff) + 1) + sum(sms.backoff)
    return 0.0


def check_lease(config: SenderConfig, sms: Sms) -> None:
    if config.lease_seconds <= 2 * longest_call(sms):
        raise ConfigError(f"{SenderConfig.prefix}_LEASE_SECONDS ({config.lease_seconds}) must be more than twice "
                          f"the longest gateway call ({longest_call(sms)} s, SMS_GATEWAY_TIMEOUT): a claim that "
                          "runs out while its sender still waits lets another sender send the SMS too")


class Sender(timers.Timer):
    """The shared tick loop (shared/timers.py: run, stop, signals) over due notifications.
    `clock` says what time it is (tests set it); `owner` names this sender in claims."""

    def __init__(self, outbox: NotificationStore, preferences: PreferenceStore, sms: Sms, config: SenderConfig,
                 clock: Callable[[], datetime] = timers.utcnow, owner: str | None = None):
        super().__init__("notification sender", self._due, self._send_claimed, config, clock)
        self.outbox, self.preferences, self.sms = outbox, preferences, sms
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def _due(self, now: datetime, limit: int, after=None) -> list[dict]:
        return self.outbox.due(now, limit)

    def tick(self) -> tuple[int, bool]:
        """Send one batch: (how many were sent, whether a full batch was due). No keyset
        between batches: every notification a batch took leaves the due range (claimed,
        sent, failed, or queued again for later), so the next batch starts from the earliest."""
        now = self.clock()
        batch = self._due(now, self.config.batch_size)
        sent = sum(1 for row in batch if self._beat_and(self._send_claimed, row["_id"], now))
        return sent, len(batch) == self.config.batch_size

    def _send_claimed(self, notification_id: str, now: datetime) -> bool:
        """Claim one notification and send it; False when another sender had it, or it was
        not sent (opted out, failed, to be retried)."""
        claimed = self.outbox.claim(notification_id, now, self.clock() + timedelta(seconds=self.config.lease_seconds),
                                    self.owner)
        if claimed is None:
            return False
        return self.send(claimed)

    def send(self, claimed: dict) -> bool:
        about = {"notification": claimed["_id"], "to": masked(claimed["to"]), "attempt": claimed["attempts"]}
        if self.preferences.get(claimed["to"])["opted_out"]:
            self.outbox.mark_cancelled(claimed, self.clock(), "the person stopped notifications")
            log.info("notification cancelled: opted out", extra=about)
            return False
        try:
            result = self.sms.send(claimed["to"], claimed["text"])
        except SmsRefused as exc:
            self.outbox.mark_failed(claimed, self.clock(), str(exc))
            log.warning("notification refused by the gateway", extra={**about, "status": exc.status,
                                                                      "reason": exc.reason})
            return False
        except SmsUnavailable as exc:
            self._retry_or_fail(claimed, str(exc), about)
            return False
        except Exception as exc:  # noqa: BLE001 - one bad notification must not stop the others
            log.exception("notification send failed unexpectedly", extra=about)
            self._retry_or_fail(claimed, f"{type(exc).__name__}: {exc}", about)
            return False
        if not self.outbox.mark_sent(claimed, self.clock(), result.id, result.segments):
            # The claim ran out while the gateway took its time: another sender may have sent it too.
            log.warning("notification sent after its claim ran out", extra={**about, "sms_id": result.id})
        else:
            log.info("notification sent", extra={**about, "sms_id": result.id, "segments": result.segments})
        return True

    def _retry_or_fail(self, claimed: dict, error: str, about: dict) -> None:
        now = self.clock()
        if claimed["attempts"] >= self.config.max_attempts:
            self.outbox.mark_failed(claimed, now, error)
            log.error("notification failed: attempts spent", extra={**about, "error": error})
            return
        at = retry_at(now, claimed["attempts"], claimed.get("urgent", False), self.config)
        self.outbox.mark_retry(claimed, at, error)
        log.warning("notification to be retried", extra={**about, "error": error, "retry_at": at.isoformat()})


def retry_at(now: datetime, attempts: int, urgent: bool, config: SenderConfig) -> datetime:
    """After `attempts` failed, the next try: the delay doubles each time up to the cap, and
    a non-urgent one that would fall in quiet hours waits for the morning."""
    delay = min(config.retry_seconds * 2 ** (attempts - 1), config.max_retry_seconds)
    return notifications.send_at(now + timedelta(seconds=delay), urgent)


def main() -> None:
    from shared import logs, mongo, sms
    from shared.config import Settings

    from . import bootstrap
    from .notification_repository import stores

    settings = Settings.from_env(bootstrap.SERVICE)
    logs.configure(f"{bootstrap.SERVICE}-sender", settings.log_level)
    config = SenderConfig.from_env()
    gateway = sms.from_settings(backoff=())
    check_lease(config, gateway)
    db = mongo.database(settings)
    bootstrap.prepare_database(db)
    sender = Sender(*stores(db), gateway, config)
    sender.serve_metrics()
    timers.stop_on_signals(sender)
    sender.run()


if __name__ == "__main__":
    main()
