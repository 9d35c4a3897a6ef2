"""Request metrics of a Flask app (every API and the portal), and its GET /metrics.

Requests are counted by the URL rule that matched ("/api/v1/migrants/<reference>"), never the
raw path, so a metric has as many series as the app has routes; a request no rule matched
(404, 405) counts as "unmatched". The time is the app's, up to the answer's headers (a
streamed body is not waited for).

Under gunicorn each worker is a process of its own: with PROMETHEUS_MULTIPROC_DIR set
(shared/http/server.py does), every worker writes its counts there and /metrics, whichever
worker answers it, adds up all of them. Without it (tests, a single process) /metrics
serves the process's own registry.

/metrics is for Prometheus, which scrapes each pod directly; a request that came through a proxy
(the portal's Ingress sets X-Forwarded-For) is answered 404, so the public never reads it.
"""
from __future__ import annotations

import os
import time

from flask import Flask, Response, abort, g, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from shared.metrics import HTTP_DURATION, HTTP_REQUESTS

UNMATCHED = "unmatched"
# Any token is a method to werkzeug: others are counted together, so no caller adds series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _registry() -> CollectorRegistry:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return registry


def add_metrics(app: Flask, service: str) -> None:
    """Counts and times every request of `app` under `service`, and serves GET /metrics."""

    @app.before_request
    def _start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        HTTP_REQUESTS.labels(service, method, route, str(response.status_code)).inc()
        if started is not None:
            HTTP_DURATION.labels(service, method, route).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics():
        if request.headers.get("X-Forwarded-For"):
            abort(404)
        return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
