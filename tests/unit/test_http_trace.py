"""shared/http's request trace and liveness, which the services' apps and the portal share."""
from __future__ import annotations

from flask import Flask, jsonify

from shared import context
from shared.http.app import add_liveness, trace_requests


def app_with_trace(**options) -> Flask:
    app = Flask("trace-test")
    trace_requests(app, **options)
    add_liveness(app)

    @app.get("/ids")
    def ids():
        trace = context.current()
        return jsonify(request=trace.request_id, correlation=trace.correlation_id)
    return app


def test_a_service_carries_its_callers_ids():
    client = app_with_trace().test_client()
    body = client.get("/ids", headers={"X-Request-ID": "req-1", "X-Correlation-ID": "cor-1"}).get_json()
    assert body == {"request": "req-1", "correlation": "cor-1"}


def test_an_id_that_is_too_long_or_unprintable_is_replaced():
    client = app_with_trace().test_client()
    body = client.get("/ids", headers={"X-Request-ID": "x" * 129}).get_json()
    assert body["request"] != "x" * 129 and body["correlation"] == body["request"]


def test_the_portal_makes_its_own_ids_whatever_a_browser_sends():
    client = app_with_trace(trust_incoming_ids=False).test_client()
    body = client.get("/ids", headers={"X-Request-ID": "req-1", "X-Correlation-ID": "cor-1"}).get_json()
    assert body["request"] not in ("req-1", None) and body["correlation"] == body["request"]


def test_the_trace_ends_with_the_request_and_liveness_answers():
    client = app_with_trace().test_client()
    client.get("/ids", headers={"X-Request-ID": "req-1"})
    assert context.current().request_id is None
    assert client.get("/health/live").get_json() == {"status": "ok"}
