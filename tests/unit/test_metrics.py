"""shared/metrics.py and shared/http/metrics.py: scrape-time gauges, the metrics server of a
process without an API, its liveness, and request counting by route."""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

import pytest
from flask import Flask
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from shared import metrics
from shared.http.metrics import add_metrics
from tests.processes import free_port

OUTBOX = "probashi_outbox_pending"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _scrape(registry) -> str:
    return generate_latest(registry).decode()


def test_scrape_gauges_show_what_was_read_with_their_labels():
    registry = CollectorRegistry()
    registry.register(metrics.ScrapeGauges(metrics.CASE_GAUGES, lambda: {
        "probashi_cases_open": {("claims", "submitted"): 3, ("claims", "under_review"): 1},
        "probashi_cases_overdue": {("claims", "submitted"): 2}}))
    assert registry.get_sample_value("probashi_cases_open", {"service": "claims", "stage": "submitted"}) == 3
    assert registry.get_sample_value("probashi_cases_open", {"service": "claims", "stage": "under_review"}) == 1
    assert registry.get_sample_value("probashi_cases_overdue", {"service": "claims", "stage": "submitted"}) == 2
    assert "# TYPE probashi_cases_overdue gauge" in _scrape(registry)


def test_registering_scrape_gauges_reads_nothing_and_reads_are_reused_for_max_age():
    reads = []

    def read():
        reads.append(1)
        return {OUTBOX: {("registration",): len(reads)}}

    registry = CollectorRegistry()
    registry.register(metrics.ScrapeGauges(metrics.OUTBOX_GAUGES, read, max_age=3600))
    assert reads == []  # describe(), not collect(), names the gauges at registration
    assert registry.get_sample_value(OUTBOX, {"service": "registration"}) == 1
    assert registry.get_sample_value(OUTBOX, {"service": "registration"}) == 1  # cached
    assert len(reads) == 1

    fresh = CollectorRegistry()
    fresh.register(metrics.ScrapeGauges(metrics.OUTBOX_GAUGES, read, max_age=0))
    assert fresh.get_sample_value(OUTBOX, {"service": "registration"}) == 2
    assert fresh.get_sample_value(OUTBOX, {"service": "registration"}) == 3


def test_a_failed_read_leaves_its_gauges_out_and_the_scrape_still_answers(caplog):
    answers = [RuntimeError("database unavailable"), {OUTBOX: {("claims",): 7}}]

    def read():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    registry = CollectorRegistry()
    registry.register(metrics.ScrapeGauges(metrics.OUTBOX_GAUGES, read, max_age=3600))
    with caplog.at_level(logging.WARNING, logger="probashi.metrics"):
        text = _scrape(registry)
    assert OUTBOX not in text
    assert "database unavailable" in caplog.text
    assert registry.get_sample_value(OUTBOX, {"service": "claims"}) == 7  # a failure is not cached


def test_the_process_server_serves_metrics_liveness_and_nothing_else():
    registry = CollectorRegistry()
    registry.register(metrics.ScrapeGauges(metrics.DEAD_LETTER_GAUGES,
                                           lambda: {"probashi_dead_letters": {("documents",): 4}}))
    heartbeat = metrics.Heartbeat()
    server = metrics.MetricsServer(0, registry, heartbeat, stale_after=60, host="127.0.0.1").start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        status, text = _get(f"{base}/metrics")
        assert status == 200 and 'probashi_dead_letters{service="documents"} 4.0' in text
        status, text = _get(f"{base}/health/live")
        assert status == 200 and json.loads(text)["status"] == "ok"
        heartbeat.last -= 61  # the main loop has not turned for longer than it ever pauses
        status, text = _get(f"{base}/health/live")
        assert status == 503 and json.loads(text)["status"] == "stalled"
        heartbeat.beat()
        assert _get(f"{base}/health/live")[0] == 200
        assert _get(f"{base}/other")[0] == 404
    finally:
        server.stop()


def test_serve_registers_the_collectors_and_port_zero_serves_nothing():
    registry = CollectorRegistry()
    gauges = metrics.ScrapeGauges(metrics.OUTBOX_GAUGES, lambda: {OUTBOX: {("identity",): 0}})
    assert metrics.serve(gauges, port=0, registry=registry) is None
    assert registry.get_sample_value(OUTBOX, {"service": "identity"}) == 0


def test_serve_on_a_taken_port_stops_the_process_with_the_reason():
    taken = metrics.MetricsServer(0, CollectorRegistry(), metrics.Heartbeat(), 60, host="0.0.0.0")
    try:
        with pytest.raises(SystemExit, match=f"METRICS_PORT={taken.port}"):
            metrics.serve(port=taken.port, registry=CollectorRegistry())
    finally:
        taken.server_close()


def test_serve_answers_on_the_port_it_is_given():
    port = free_port()
    server = metrics.serve(port=port, registry=CollectorRegistry())
    try:
        assert server.port == port and _get(f"http://127.0.0.1:{port}/health/live")[0] == 200
    finally:
        server.stop()


@pytest.mark.parametrize("value, port", [(None, 9100), ("", 9100), ("0", 0), ("9123", 9123)])
def test_metrics_port_from_the_environment(value, port):
    assert metrics.port_from_env({} if value is None else {"METRICS_PORT": value}) == port


@pytest.mark.parametrize("value", ["nine", "-1", "70000"])
def test_a_bad_metrics_port_is_refused_by_name(value):
    with pytest.raises(SystemExit, match="METRICS_PORT"):
        metrics.port_from_env({"METRICS_PORT": value})


@pytest.fixture
def app():
    app = Flask("metrics-test")
    add_metrics(app, "unit-metrics")

    @app.get("/api/v1/migrants/<reference>")
    def migrant(reference):
        return {"reference": reference}

    @app.post("/api/v1/fail")
    def fail():
        raise RuntimeError("boom")

    return app


def _requests(method: str, route: str, status: str) -> float:
    return REGISTRY.get_sample_value("probashi_http_requests_total", {
        "service": "unit-metrics", "method": method, "route": route, "status": status}) or 0.0


def test_requests_are_counted_by_url_rule_and_status_never_by_raw_path(app):
    rule = "/api/v1/migrants/<reference>"
    before = _requests("GET", rule, "200")
    client = app.test_client()
    assert client.get("/api/v1/migrants/PB-AAAA-AAAA").status_code == 200
    assert client.get("/api/v1/migrants/PB-BBBB-BBBB").status_code == 200
    assert _requests("GET", rule, "200") == before + 2
    text = client.get("/metrics").get_data(as_text=True)
    assert "PB-AAAA" not in text and 'route="/api/v1/migrants/<reference>"' in text
    assert REGISTRY.get_sample_value("probashi_http_request_duration_seconds_count", {
        "service": "unit-metrics", "method": "GET", "route": rule}) >= 2


def test_unmatched_paths_errors_and_odd_methods_add_no_series_of_their_own(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    before = (_requests("GET", "unmatched", "404"), _requests("POST", "/api/v1/fail", "500"),
              _requests("other", "unmatched", "405"))
    assert client.get("/no/such/page/123").status_code == 404
    assert client.post("/api/v1/fail").status_code == 500
    assert client.open("/api/v1/migrants/x", method="BREW").status_code == 405
    assert (_requests("GET", "unmatched", "404"), _requests("POST", "/api/v1/fail", "500"),
            _requests("other", "unmatched", "405")) == tuple(n + 1 for n in before)
    text = client.get("/metrics").get_data(as_text=True)
    assert "/no/such/page" not in text and 'method="BREW"' not in text


def test_metrics_answers_in_the_prometheus_text_format(app):
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    assert "# TYPE probashi_http_requests_total counter" in response.get_data(as_text=True)


def test_the_portal_counts_its_pages_by_url_rule_and_serves_metrics(stub):
    from services.portal.app import create
    from services.portal.config import PortalConfig
    from services.portal.sessions import MemorySessionStore

    config = PortalConfig.from_env({**stub.urls(), "PORTAL_SECRET_KEY": "test-secret"})
    client = create(config, MemorySessionStore(), configure_logging=False).test_client()
    counted = lambda: REGISTRY.get_sample_value("probashi_http_requests_total", {  # noqa: E731
        "service": "portal", "method": "GET", "route": "/sign-in", "status": "200"}) or 0.0
    before = counted()
    assert client.get("/sign-in").status_code == 200
    assert counted() == before + 1
    response = client.get("/metrics")
    assert response.status_code == 200 and 'service="portal"' in response.get_data(as_text=True)
    # through the Ingress (which names the visitor in X-Forwarded-For) the public gets no metrics
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404


def test_case_gauges_of_claims_and_complaints_count_only_open_stages():
    from services.claims import domain as claims_domain
    from services.claims.timers import Timer as ClaimsTimer
    from services.complaints import domain as complaints_domain
    from services.complaints.timers import Timer as ComplaintsTimer

    class Queue:
        def alarms(self, now, limit, after):
            return []

        def counts(self, statuses, now):
            self.statuses = tuple(statuses)
            return {s: 2 for s in statuses}, {s: 1 for s in statuses}

    for timer_class, closed in ((ClaimsTimer, {claims_domain.CLOSED, claims_domain.WITHDRAWN}),
                                (ComplaintsTimer, set(complaints_domain.FINAL))):
        reads = type("Reads", (), {"due_queue": Queue()})()
        timer = timer_class(uow=None, reads=reads)
        registry = CollectorRegistry()
        registry.register(timer.case_gauges("svc"))
        stage = timer_class.open_statuses[0]
        assert registry.get_sample_value("probashi_cases_open", {"service": "svc", "stage": stage}) == 2
        assert registry.get_sample_value("probashi_cases_overdue", {"service": "svc", "stage": stage}) == 1
        assert not closed & set(reads.due_queue.statuses) and reads.due_queue.statuses
