"""Case-status SMS delivery against the real database: the notification store's rules, and the
sender process (`python -m services.casestatus.sender`, SMS_ADAPTER=http) against a real HTTP
gateway stub in the test: a gateway that fails and then answers, one that refuses, two
senders at once, and a sender killed in the middle of a send.

The processes run on the real clock, so the notifications queued here are urgent: those
leave at any hour, and the test passes at night too (quiet hours are unit-tested with a clock).
"""
from __future__ import annotations

import collections
import json
import signal
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.casestatus import notifications
from services.casestatus.notification_repository import NotificationTx, ensure_indexes, stores
from shared import mongo
from shared.uow import MongoUnitOfWork

from tests.processes import ServiceProcess
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

SENDER = {"SMS_ADAPTER": "http", "SMS_GATEWAY_KEY": "gw-test-key", "SMS_GATEWAY_TIMEOUT": "2",
          "CASESTATUS_SENDER_INTERVAL": "0.1", "CASESTATUS_SENDER_BATCH": "5",
          "CASESTATUS_SENDER_LEASE_SECONDS": "5", "CASESTATUS_SENDER_MAX_ATTEMPTS": "3",
          "CASESTATUS_SENDER_RETRY_SECONDS": "0.2", "CASESTATUS_SENDER_MAX_RETRY_SECONDS": "1"}


def phone(n: int) -> str:
    return f"+88017{n:08d}"


class Gateway:
    """An SMS gateway on a local port. `answer(to, nth)` says how it answers the nth request
    (1, 2 ...) for a phone: (status, body), or "hold" to keep the request waiting."""

    def __init__(self, answer):
        self.answer = answer
        self.received: list[dict] = []
        self.lock = threading.Lock()
        self.held = threading.Event()     # a request is being held
        self.release = threading.Event()  # let held requests go
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway.lock:
                    gateway.received.append(body)
                    nth = sum(1 for r in gateway.received if r["to"] == body["to"])
                outcome = gateway.answer(body["to"], nth)
                if outcome == "hold":
                    gateway.held.set()
                    gateway.release.wait(30)
                    outcome = (200, {"id": "late"})
                status, answer = outcome
                raw = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:  # the sender is gone
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/messages"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def requests_to(self, to: str) -> int:
        with self.lock:
            return sum(1 for r in self.received if r["to"] == to)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Delivery:
    def __init__(self, infra, tmp_path, monkeypatch):
        self.settings = infra.settings("casestatus")
        self.db = mongo.database(self.settings)
        ensure_indexes(self.db)
        self.uow = MongoUnitOfWork(self.db, "casestatus", NotificationTx)
        self.outbox, self.preferences = stores(self.db)
        self.tmp_path, self.monkeypatch = tmp_path, monkeypatch
        self.gateways: list[Gateway] = []
        self.senders: list[ServiceProcess] = []

    def gateway(self, answer) -> Gateway:
        self.gateways.append(Gateway(answer))
        return self.gateways[-1]

    def queue(self, to: str, n: int = 1, at: datetime | None = None) -> str:
        """One urgent SMS for event `evt-n` to `to`, due at `at` (a second ago by default)."""
        at = at or datetime.now(timezone.utc) - timedelta(seconds=1)
        planned = [{"_id": notifications.key(f"evt-{n}", to), "event_id": f"evt-{n}", "to": to, "language": "bn",
                    "text": f"প্রবাসী: আপনার আবেদন CLM-{n} মঞ্জুর হয়েছে।", "urgent": True, "send_at": at,
                    "state": "queued"}]
        self.uow.run(lambda tx: tx.notifications.queue(planned, at, migrant="PB-2345-6789"))
        return planned[0]["_id"]

    def start_sender(self, gateway: Gateway) -> ServiceProcess:
        for name, value in {**SENDER, "SMS_GATEWAY_URL": gateway.url}.items():
            self.monkeypatch.setenv(name, value)
        process = ServiceProcess(f"sender-{len(self.senders)}", [sys.executable, "-m", "services.casestatus.sender"],
                                 self.settings, self.tmp_path).start()
        self.senders.append(process)
        return process

    def row(self, notification_id: str) -> dict:
        return self.outbox.get(notification_id)

    def all_final(self, ids) -> bool:
        return all(self.row(i)["state"] in ("sent", "failed") for i in ids)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()[-3000:]}" for p in self.senders)

    def close(self):
        for process in self.senders:
            process.stop()
        for gateway in self.gateways:
            gateway.close()


@pytest.fixture
def delivery(infra, tmp_path, monkeypatch):
    made = Delivery(infra, tmp_path, monkeypatch)
    yield made
    made.close()


def test_an_event_planned_twice_queues_one_notification(delivery):
    first = delivery.queue(phone(1), n=7)
    again = delivery.queue(phone(1), n=7)
    assert first == again
    assert delivery.db.notifications.count_documents({}) == 1
    assert delivery.row(first)["attempts"] == 0 and delivery.row(first)["migrant"] == "PB-2345-6789"


def test_the_sender_retries_a_failing_gateway_records_refusals_and_failures_and_respects_an_opt_out(delivery):
    flaky, refused, down = phone(1), phone(2), phone(3)

    def answer(to, nth):
        if to == flaky:
            return (500, {"error": "upstream timeout"}) if nth == 1 else (200, {"id": "gw-flaky"})
        if to == refused:
            return 400, {"error": "not a mobile number"}
        return 503, {"message": "gateway busy"}
    gateway = delivery.gateway(answer)
    ids = [delivery.queue(flaky, 1), delivery.queue(refused, 2), delivery.queue(down, 3)]
    stopped = delivery.queue(phone(4), 4)  # queued, and then the person stopped notifications
    delivery.preferences.set(phone(4), opted_out=True, by="family:" + phone(4))
    sender = delivery.start_sender(gateway)
    wait_for(lambda: delivery.all_final(ids) and delivery.row(stopped)["state"] == "cancelled", 30, delivery.logs)

    sent, failed, spent = map(delivery.row, ids)
    assert sent["state"] == "sent" and sent["attempts"] == 2 and sent["gateway_id"] == "gw-flaky"
    assert sent["last_error"] is None and sent["sent_at"] is not None and sent["segments"] == 1
    assert failed["state"] == "failed" and failed["attempts"] == 1 and "not a mobile number" in failed["last_error"]
    assert spent["state"] == "failed" and spent["attempts"] == 3 and "gateway busy" in spent["last_error"]
    assert [gateway.requests_to(p) for p in (flaky, refused, down, phone(4))] == [2, 1, 3, 0]

    assert sender.stop(signal.SIGTERM) == 0  # stops cleanly between ticks
    log = sender.log()
    assert "notification sender timer stopped" in log
    assert flaky not in log and "+8801*******01" in log  # phones only masked


def test_two_senders_at_once_send_each_sms_once(delivery):
    gateway = delivery.gateway(lambda to, nth: (200, {"id": f"gw-{to}-{nth}"}))
    ids = [delivery.queue(phone(n), n) for n in range(40)]
    delivery.start_sender(gateway)
    delivery.start_sender(gateway)
    wait_for(lambda: delivery.all_final(ids), 60, delivery.logs)
    assert all(delivery.row(i)["state"] == "sent" and delivery.row(i)["attempts"] == 1 for i in ids)
    counts = collections.Counter(r["to"] for r in gateway.received)
    assert len(counts) == 40 and set(counts.values()) == {1}


def test_a_sender_killed_while_sending_loses_nothing(delivery):
    stuck = phone(99)
    gateway = delivery.gateway(lambda to, nth: "hold" if to == stuck and nth == 1 else (200, {"id": f"gw-{nth}"}))
    early = datetime.now(timezone.utc) - timedelta(minutes=1)  # the first the sender takes
    ids = [delivery.queue(stuck, 99, at=early)] + [delivery.queue(phone(n), n) for n in range(3)]
    first = delivery.start_sender(gateway)
    wait_for(gateway.held.is_set, 20, delivery.logs)
    first.kill()  # between its claim and the record of the outcome
    assert delivery.row(ids[0])["state"] == "sending"

    delivery.start_sender(gateway)  # takes the claim once its lease runs out
    wait_for(lambda: delivery.all_final(ids), 30, delivery.logs)
    assert all(delivery.row(i)["state"] == "sent" for i in ids)
    assert delivery.row(ids[0])["attempts"] == 2
    # The crash window the sender documents: the gateway had the first request, so this one
    # SMS may have reached the phone twice; the others went once.
    assert gateway.requests_to(stuck) == 2
    assert [gateway.requests_to(phone(n)) for n in range(3)] == [1, 1, 1]
