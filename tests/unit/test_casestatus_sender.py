"""The notification sender (services/casestatus/sender.py) over fakes of its ports: what is
queued leaves once, in the daytime or when urgent, never to someone who opted out; a gateway
that is down is tried again later and the failure kept with its reason; a refusal is final."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.casestatus import notifications
from services.casestatus.dates import DHAKA
from services.casestatus.sender import Sender, SenderConfig, check_lease, retry_at
from shared.config import ConfigError
from shared.sms import HttpSms, SmsRefused

from .casestatus_builders import HEIR_PHONE, PHONE, claim, decided, hearing
from .casestatus_delivery_fakes import FakeNotificationStore, FakePreferenceStore, ScriptedSms, unavailable

NOON = datetime(2026, 11, 28, 12, 0, tzinfo=DHAKA)
NIGHT = datetime(2026, 11, 28, 23, 0, tzinfo=DHAKA)
CONFIG = SenderConfig(batch_size=10, lease_seconds=30, max_attempts=3, retry_seconds=60, max_retry_seconds=600)


class Clock:
    def __init__(self, now):
        self.now = now.astimezone(timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


class Desk:
    def __init__(self, now=NOON, sms=None, config=CONFIG):
        self.clock = Clock(now)
        self.outbox, self.preferences = FakeNotificationStore(), FakePreferenceStore()
        self.sms = sms or ScriptedSms()
        self.sender = Sender(self.outbox, self.preferences, self.sms, config, clock=self.clock, owner="test")

    def plan(self, event, migrant_phone=PHONE, case_phones=()):
        planned = notifications.plan(event, migrant_phone=migrant_phone, case_phones=case_phones,
                                     preferences=self.preferences.for_phones([migrant_phone, *case_phones]),
                                     now=self.clock())
        self.outbox.queue(planned, self.clock(), migrant="PB-2345-6789")
        return planned

    def only(self):
        (row,) = self.outbox.rows.values()
        return row


def rejected(at=NOON):
    return decided("DOC-MED", "medical_report", at.astimezone(timezone.utc), 2, "rejected", "The scan cannot be read")


def test_a_queued_notification_is_sent_once_and_recorded():
    desk = Desk()
    desk.plan(rejected())
    assert desk.sender.tick() == (1, False)
    assert desk.sender.tick() == (0, False)
    row = desk.only()
    assert desk.sms.sent == [(PHONE, row["text"])]
    assert row["state"] == "sent" and row["sent_at"] == desk.clock() and row["gateway_id"] == "gw-1"
    assert row["segments"] == 1 and row["attempts"] == 1 and "claim" not in row


def test_an_event_planned_twice_queues_and_sends_one_sms():
    desk = Desk()
    first, again = desk.plan(rejected()), desk.plan(rejected())
    assert first[0]["_id"] == again[0]["_id"]
    assert len(desk.outbox.rows) == 1
    desk.sender.tick()
    assert len(desk.sms.sent) == 1


def test_quiet_hours_hold_a_notification_until_eight_in_the_morning():
    desk = Desk(now=NIGHT)
    desk.plan(claim("approved", "approved", NIGHT.astimezone(timezone.utc), 3))
    assert desk.sender.tick() == (0, False)
    desk.clock.now = datetime(2026, 11, 29, 7, 59, tzinfo=DHAKA).astimezone(timezone.utc)
    assert desk.sender.tick() == (0, False) and desk.sms.sent == []
    desk.clock.now = datetime(2026, 11, 29, 8, 0, tzinfo=DHAKA).astimezone(timezone.utc)
    assert desk.sender.tick() == (1, False)
    assert desk.only()["state"] == "sent"


def test_an_urgent_notification_leaves_at_night():
    desk = Desk(now=NIGHT)
    desk.plan(hearing("scheduled", NIGHT.astimezone(timezone.utc), 5, on="2026-11-29"))
    assert desk.sender.tick() == (1, False)
    assert desk.only()["urgent"] and desk.only()["sent_at"] == desk.clock()


def test_someone_who_opted_out_gets_nothing_planned():
    desk = Desk()
    desk.preferences.set(PHONE, opted_out=True, by="family:" + PHONE)
    assert desk.plan(rejected()) == []
    assert desk.sender.tick() == (0, False) and desk.sms.calls == 0


def test_opting_out_after_a_notification_was_queued_cancels_it():
    desk = Desk(now=NIGHT)
    desk.plan(claim("approved", "approved", NIGHT.astimezone(timezone.utc), 3))
    desk.preferences.set(PHONE, opted_out=True, by="family:" + PHONE)
    desk.clock.advance(hours=10)
    desk.sender.tick()
    assert desk.sms.calls == 0
    assert desk.only()["state"] == "cancelled" and "stopped" in desk.only()["last_error"]


def test_each_phone_of_an_event_follows_its_own_choice():
    desk = Desk()
    desk.preferences.set(HEIR_PHONE, opted_out=True, by="staff")
    desk.preferences.set(PHONE, language="en", by="staff")
    planned = desk.plan(rejected(), case_phones=(HEIR_PHONE,))
    desk.sender.tick()
    assert [p["to"] for p in planned] == [PHONE]
    assert desk.sms.sent[0][1].startswith("Probashi: your")


def test_a_gateway_failure_is_retried_later_and_then_sent():
    desk = Desk(sms=ScriptedSms(unavailable("500 upstream timeout")))
    desk.plan(rejected())
    assert desk.sender.tick() == (0, False)
    row = desk.only()
    assert row["state"] == "queued" and row["attempts"] == 1 and "500 upstream timeout" in row["last_error"]
    assert row["send_at"] == desk.clock() + timedelta(seconds=60)
    assert desk.sender.tick() == (0, False)  # not before its time
    desk.clock.advance(seconds=60)
    assert desk.sender.tick() == (1, False)
    assert desk.only()["state"] == "sent" and desk.only()["attempts"] == 2 and desk.only()["last_error"] is None


def test_a_gateway_that_stays_down_fails_the_notification_with_its_reason_after_the_last_attempt():
    desk = Desk(sms=ScriptedSms(*[unavailable(f"503 busy {n}") for n in range(5)]))
    desk.plan(rejected())
    delays = []
    for _ in range(CONFIG.max_attempts):
        before = desk.clock()
        desk.sender.tick()
        delays.append(desk.only()["send_at"] - before)
        desk.clock.now = desk.only()["send_at"]
    row = desk.only()
    assert row["state"] == "failed" and row["attempts"] == 3 and "503 busy 2" in row["last_error"]
    assert delays[:2] == [timedelta(seconds=60), timedelta(seconds=120)]  # the delay grows
    desk.clock.advance(days=1)
    assert desk.sender.tick() == (0, False) and desk.sms.calls == 3  # a failure is final


def test_a_refusal_fails_at_once_with_the_gateways_reason():
    desk = Desk(sms=ScriptedSms(SmsRefused(400, "number is not a mobile")))
    desk.plan(rejected())
    desk.sender.tick()
    row = desk.only()
    assert row["state"] == "failed" and row["attempts"] == 1 and "number is not a mobile" in row["last_error"]
    desk.clock.advance(days=1)
    desk.sender.tick()
    assert desk.sms.calls == 1


def test_an_unexpected_error_is_retried_not_lost():
    desk = Desk(sms=ScriptedSms(RuntimeError("socket closed")))
    desk.plan(rejected())
    desk.sender.tick()
    assert desk.only()["state"] == "queued" and "RuntimeError: socket closed" in desk.only()["last_error"]


def test_a_retry_that_would_fall_in_quiet_hours_waits_for_the_morning_unless_urgent():
    late = datetime(2026, 11, 28, 21, 59, 30, tzinfo=DHAKA).astimezone(timezone.utc)
    morning = datetime(2026, 11, 29, 8, 0, tzinfo=DHAKA).astimezone(timezone.utc)
    assert retry_at(late, 1, False, CONFIG) == morning
    assert retry_at(late, 1, True, CONFIG) == late + timedelta(seconds=60)
    desk = Desk(now=late, sms=ScriptedSms(unavailable()))
    desk.plan(claim("approved", "approved", late, 3))
    desk.sender.tick()
    assert desk.only()["send_at"] == morning


def test_the_retry_delay_doubles_up_to_its_cap():
    noon = NOON.astimezone(timezone.utc)
    assert [retry_at(noon, n, True, CONFIG) - noon for n in (1, 2, 3, 4, 5)] == \
        [timedelta(seconds=s) for s in (60, 120, 240, 480, 600)]


def test_a_claim_taken_by_one_sender_is_not_sent_by_another():
    desk = Desk()
    desk.plan(rejected())
    other = Sender(desk.outbox, desk.preferences, ScriptedSms(), CONFIG, clock=desk.clock, owner="other")
    row_id = desk.only()["_id"]
    claimed = desk.outbox.claim(row_id, desk.clock(), desk.clock() + timedelta(seconds=30), "test")
    assert other.tick() == (0, False)  # claimed: not due for anyone else
    assert desk.sender.send(claimed) and len(desk.sms.sent) == 1 and other.sms.calls == 0


def test_a_sender_that_died_holding_a_claim_loses_it_when_the_lease_runs_out():
    desk = Desk()
    desk.plan(rejected())
    dead = desk.outbox.claim(desk.only()["_id"], desk.clock(), desk.clock() + timedelta(seconds=30), "dead")
    assert desk.sender.tick() == (0, False)
    desk.clock.advance(seconds=30)
    assert desk.sender.tick() == (1, False)
    assert desk.only()["state"] == "sent" and desk.only()["attempts"] == 2
    assert not desk.outbox.mark_sent(dead, desk.clock(), "late", 1)  # the dead claim records nothing


def test_settings_are_read_and_checked():
    config = SenderConfig.from_env({"CASESTATUS_SENDER_INTERVAL": "0.5", "CASESTATUS_SENDER_MAX_ATTEMPTS": "7"})
    assert config.interval_seconds == 0.5 and config.max_attempts == 7 and config.batch_size == 50
    for bad in ({"CASESTATUS_SENDER_BATCH": "ten"}, {"CASESTATUS_SENDER_LEASE_SECONDS": "0"},
                {"CASESTATUS_SENDER_MAX_ATTEMPTS": "1.5"}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            SenderConfig.from_env(bad)


def test_a_lease_shorter_than_a_gateway_call_is_refused_at_start():
    check_lease(SenderConfig(lease_seconds=60), HttpSms("http://gw", "k", timeout=5, backoff=()))
    with pytest.raises(ConfigError, match="LEASE_SECONDS"):
        check_lease(SenderConfig(lease_seconds=20), HttpSms("http://gw", "k", timeout=5, backoff=(1, 2)))
