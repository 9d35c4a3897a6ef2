"""In-memory stand-ins for the case-status delivery ports: the notification and preference
stores (notification_repository.py keeps the same rules in MongoDB) and an SMS gateway
(shared/sms.py's Sms protocol) that answers what a test scripts."""
from __future__ import annotations

import copy
import uuid

from services.casestatus.notification_repository import CANCELLED, FAILED, QUEUED, SENDING, SENT
from shared.sms import SmsResult, SmsUnavailable


class FakeNotificationStore:
    def __init__(self):
        self.rows: dict[str, dict] = {}

    def queue(self, planned, now=None, **fields):
        added = 0
        for sms in planned:
            if sms["_id"] not in self.rows:
                self.rows[sms["_id"]] = {"attempts": 0, "last_error": None, "sent_at": None,
                                         "created_at": now or sms["send_at"], **fields, **copy.deepcopy(sms)}
                added += 1
        return added

    def get(self, notification_id):
        return copy.deepcopy(self.rows.get(notification_id))

    def _due(self, row, now):
        return (row["state"] == QUEUED and row["send_at"] <= now) or \
            (row["state"] == SENDING and row["lease_until"] <= now)

    def due(self, now, limit):
        due = [row for row in self.rows.values() if self._due(row, now)]
        return copy.deepcopy(sorted(due, key=lambda r: (r["state"] != QUEUED, r.get("send_at")))[:limit])

    def claim(self, notification_id, now, lease_until, owner):
        row = self.rows.get(notification_id)
        if row is None or not self._due(row, now):
            return None
        row.update(state=SENDING, lease_until=lease_until, claimed_by=owner, claim=uuid.uuid4().hex, claimed_at=now)
        row["attempts"] += 1
        return copy.deepcopy(row)

    def _finish(self, claimed, fields):
        row = self.rows[claimed["_id"]]
        if row["state"] != SENDING or row["claim"] != claimed["claim"]:
            return False
        for key in ("lease_until", "claimed_by", "claim", "claimed_at"):
            row.pop(key, None)
        row.update(fields)
        return True

    def mark_sent(self, claimed, now, gateway_id, segments):
        return self._finish(claimed, {"state": SENT, "sent_at": now, "gateway_id": gateway_id, "segments": segments,
                                      "last_error": None})

    def mark_retry(self, claimed, send_at, error):
        return self._finish(claimed, {"state": QUEUED, "send_at": send_at, "last_error": error})

    def mark_failed(self, claimed, now, error):
        return self._finish(claimed, {"state": FAILED, "failed_at": now, "last_error": error})

    def mark_cancelled(self, claimed, now, reason):
        return self._finish(claimed, {"state": CANCELLED, "cancelled_at": now, "last_error": reason})


class FakePreferenceStore:
    def __init__(self):
        self.rows: dict[str, dict] = {}

    def for_phones(self, phones):
        return {p: {"language": self.rows[p].get("language"), "opted_out": bool(self.rows[p].get("opted_out"))}
                for p in phones if p in self.rows}

    def get(self, phone):
        return self.for_phones([phone]).get(phone) or {"language": None, "opted_out": False}

    def set(self, phone, language=None, opted_out=None, *, by, now=None):
        row = self.rows.setdefault(phone, {})
        if language is not None:
            row["language"] = language
        if opted_out is not None:
            row["opted_out"] = opted_out
        row["updated_by"] = by
        return self.get(phone)


class ScriptedSms:
    """Answers each send with the next scripted outcome (an exception to raise, or None for
    success); once the script runs out every send succeeds. Records what was sent."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.sent: list[tuple[str, str]] = []
        self.calls = 0

    def send(self, to, text):
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.sent.append((to, text))
        return SmsResult(id=f"gw-{self.calls}", segments=1, encoding="UCS-2")


def unavailable(reason="500 gateway down"):
    return SmsUnavailable(f"SMS gateway unavailable after 1 attempts: {reason}")
