"""Prometheus metrics of every process (prometheus_client), defined once, here.

- The APIs and the portal count requests by route (the URL rule, never the raw path) and
  status, and time them (shared/http/metrics.py; /metrics on their own port). gunicorn runs
  several workers, so they count in prometheus_client's multiprocess mode
  (shared/http/server.py sets PROMETHEUS_MULTIPROC_DIR up for them).
- A process without an HTTP API (relay, consumer, timers, sender) calls `serve` once at start:
  GET /metrics and GET /health/live on METRICS_PORT (default 9100; 0: no server), on every
  interface unless METRICS_HOST names one (make run: 127.0.0.1). Liveness
  is its main loop's heartbeat (`beat`): a loop that stopped turning is not alive, even
  though this server's thread still answers.
- Gauges that describe the database or the broker (outbox backlog, open and overdue cases,
  dead letters) are read at scrape time by a ScrapeGauges collector, not kept up to date by
  every write; at most every `max_age` seconds, so several scrapers cost one read.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

log = logging.getLogger("probashi.metrics")

# -- HTTP (every API and the portal) ------------------------------------------------------------
HTTP_REQUESTS = Counter("probashi_http_requests", "HTTP requests answered, by route (URL rule) and status",
                        ["service", "method", "route", "status"])
HTTP_DURATION = Histogram("probashi_http_request_duration_seconds", "Time to answer an HTTP request, by route",
                          ["service", "method", "route"],
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

# -- outbox relay ---------------------------------------------------------------------------------
OUTBOX_PUBLISHED = Counter("probashi_outbox_published", "Outbox events the broker confirmed, marked published",
                           ["service"])
OUTBOX_PUBLISH_FAILURES = Counter("probashi_outbox_publish_failures",
                                  "Publishes the broker nacked or returned (the event stays pending)", ["service"])
OUTBOX_PARKED = Counter("probashi_outbox_parked", "Outbox events parked after their last failed attempt",
                        ["service"])

# -- consumers ------------------------------------------------------------------------------------
CONSUMER_HANDLED = Counter("probashi_consumer_handled", "Events handled and acked (applied, or already known)",
                           ["service", "event_type"])
CONSUMER_RETRIED = Counter("probashi_consumer_retried", "Events sent to a delay queue after a failed attempt",
                           ["service", "event_type"])
CONSUMER_DEFERRED = Counter("probashi_consumer_deferred", "Events put off while the database was unavailable",
                            ["service", "event_type"])
CONSUMER_DEAD_LETTERED = Counter("probashi_consumer_dead_lettered", "Events sent to the dead-letter queue",
                                 ["service", "event_type"])
CONSUMER_HANDLER_DURATION = Histogram("probashi_consumer_handler_duration_seconds",
                                      "Time to apply an event (its handlers and inbox, in one transaction)",
                                      ["service", "event_type"],
                                      buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
CONSUMER_CONNECTED = Gauge("probashi_consumer_connected", "1 while the consumer is connected and consuming",
                           ["service"])

# -- read at scrape time (ScrapeGauges): name -> (help, labels) -----------------------------------
OUTBOX_GAUGES = {
    "probashi_outbox_pending": ("Outbox events not yet published (held ones included)", ["service"]),
    "probashi_outbox_oldest_pending_age_seconds": ("Age of the pending outbox event due first, the oldest unless a failed publish was put off (0: none)", ["service"]),
    "probashi_outbox_parked_events": ("Parked outbox events waiting for `make outbox requeue`", ["service"]),
}
DEAD_LETTER_GAUGES = {
    "probashi_dead_letters": ("Messages in the service's dead-letter queue", ["service"]),
}
CASE_GAUGES = {
    "probashi_cases_open": ("Open cases, by stage (status)", ["service", "stage"]),
    "probashi_cases_overdue": ("Open cases past a running clock's due date, by stage (status)", ["service", "stage"]),
}
SCRAPE_GAUGES = {**OUTBOX_GAUGES, **DEAD_LETTER_GAUGES, **CASE_GAUGES}

Readings = dict[str, dict[tuple[str, ...], float]]  # gauge name -> label values -> value


class ScrapeGauges(Collector):
    """Gauges `read()` at scrape time ({name: {label values: value}}, names from SCRAPE_GAUGES),
    reused for `max_age` seconds. A failed read is logged and its gauges are left out of
    that scrape: no number rather than a stale one."""

    def __init__(self, names: Iterable[str], read: Callable[[], Readings], max_age: float = 10.0):
        self.names, self.read, self.max_age = list(names), read, max_age
        self._lock = threading.Lock()
        self._cached: tuple[float, Readings] | None = None

    def describe(self):  # registering must not read the database
        return [GaugeMetricFamily(name, SCRAPE_GAUGES[name][0], labels=SCRAPE_GAUGES[name][1]) for name in self.names]

    def _readings(self) -> Readings | None:
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < self.max_age:
                return self._cached[1]
            try:
                readings = self.read()
            except Exception as exc:  # noqa: BLE001 - a scrape must answer whatever the database does
                log.warning("metrics read failed: %s", exc)
                self._cached = None
                return None
            self._cached = (time.monotonic(), readings)
            return readings

    def collect(self):
        readings = self._readings()
        if readings is None:
            return
        for family in self.describe():
            for labels, value in readings.get(family.name, {}).items():
                family.add_metric(list(labels), value)
            yield family


# -- liveness and the server of a process without an HTTP API --------------------------------------
class Heartbeat:
    """The main loop calls beat() on every turn; alive while the last beat is recent."""

    def __init__(self):
        self.last = time.monotonic()

    def beat(self) -> None:
        self.last = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self.last


HEARTBEAT = Heartbeat()  # one main loop per process
beat = HEARTBEAT.beat

DEFAULT_PORT = 9100


def port_from_env(env: dict | None = None) -> int:
    env = os.environ if env is None else env
    text = env.get("METRICS_PORT", "").strip() or str(DEFAULT_PORT)
    if not text.isdigit() or int(text) > 65535:
        raise SystemExit(f"METRICS_PORT must be a port number (0: no metrics server), got {text!r}")
    return int(text)


class _Handler(BaseHTTPRequestHandler):
    server: "MetricsServer"

    def do_GET(self):  # noqa: N802 - http.server's name
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, CONTENT_TYPE_LATEST, generate_latest(self.server.registry))
        elif path == "/health/live":
            age = self.server.heartbeat.age()
            alive = age <= self.server.stale_after
            body = {"status": "ok" if alive else "stalled", "last_beat_seconds_ago": round(age, 1)}
            self._send(200 if alive else 503, "application/json", json.dumps(body).encode())
        else:
            self._send(404, "application/json", b'{"status": 404, "title": "Not found"}')

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # scrapes and probes every few seconds: not worth a log line
        pass


class MetricsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, registry: CollectorRegistry, heartbeat: Heartbeat, stale_after: float,
                 host: str = "0.0.0.0"):
        super().__init__((host, port), _Handler)
        self.registry, self.heartbeat, self.stale_after = registry, heartbeat, stale_after

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> "MetricsServer":
        threading.Thread(target=self.serve_forever, name="metrics", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def serve(*collectors: Collector, stale_after: float = 120.0, port: int | None = None,
          registry: CollectorRegistry = REGISTRY) -> MetricsServer | None:
    """Once, at the start of a process without an HTTP API: its collectors join the registry
    and /metrics and /health/live are served on METRICS_PORT (None when it is 0). /health/live
    fails once the main loop has not beaten for `stale_after` seconds (above its longest
    pause). A port that is taken stops the process: a probe would fail anyway."""
    port = port_from_env() if port is None else port
    for collector in collectors:
        registry.register(collector)
    if port == 0:
        return None
    HEARTBEAT.beat()
    try:
        host = os.environ.get("METRICS_HOST") or "0.0.0.0"
        server = MetricsServer(port, registry, HEARTBEAT, stale_after, host).start()
    except OSError as exc:
        raise SystemExit(f"cannot serve metrics on METRICS_PORT={port}: {exc}") from None
    log.info("metrics and liveness on port %d", server.port)
    return server
