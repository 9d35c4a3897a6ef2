"""The Flask app every service builds: request/correlation ids, JSON access logs,
problem+json errors, health, readiness, request metrics (/metrics), the OpenAPI document and the
AsyncAPI document of the events the service publishes."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Callable

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import RequestTimeout

from shared import context, logs
from shared.asyncapi import document as asyncapi_document
from shared.config import Settings
from shared.http.metrics import add_metrics
from shared.http.openapi import build_spec, register_docs
from shared.http.problems import register_error_handlers

log = logging.getLogger("probashi.http")

HEALTH_PATHS = {
    "/health/live": {"get": {"summary": "Liveness", "tags": ["health"], "responses": {"200": {"description": "alive"}}}},
    "/health/ready": {"get": {"summary": "Readiness: the database and the broker answer", "tags": ["health"],
                              "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
}


def _incoming_id(header: str) -> str | None:
    value = request.headers.get(header, "").strip()
    return value if 0 < len(value) <= 128 and value.isprintable() else None


def trace_requests(app: Flask, *, trust_incoming_ids: bool = True) -> None:
    """Runs each request in its own trace context (shared.context), so its logs and the events it
    publishes carry its ids. A service takes X-Request-ID/X-Correlation-ID from its caller; the
    portal, which browsers call, makes its own (trust_incoming_ids=False)."""

    @app.before_request
    def _start_trace():
        request_id = (_incoming_id("X-Request-ID") if trust_incoming_ids else None) or str(uuid.uuid4())
        correlation_id = (_incoming_id("X-Correlation-ID") if trust_incoming_ids else None) or request_id
        g.trace_token = context.set_current(context.TraceContext(correlation_id, request_id, request_id))
        g.started = time.perf_counter()

    @app.teardown_request
    def _end_trace(_exc):
        token = g.pop("trace_token", None)
        if token is not None:
            context.reset(token)


def add_liveness(app: Flask) -> None:
    """GET /health/live: the process answers (readiness, which checks dependencies, is each app's own)."""

    @app.get("/health/live")
    def live():
        return jsonify(status="ok")


def create_app(settings: Settings, api, *, title: str, description: str,
               readiness: dict[str, Callable[[], None]], max_body_bytes: int = 1024 * 1024,
               configure_logging: bool = True) -> Flask:
    settings.check_token_settings()
    if configure_logging:
        logs.configure(f"{settings.service}-api", settings.log_level)
    app = Flask(settings.service)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.json.ensure_ascii = False
    register_error_handlers(app)
    app.register_blueprint(api.blueprint)
    app.wsgi_app = BodyReadTimeout(app.wsgi_app, settings.body_read_timeout)
    spec = build_spec(api, title=title, version="1.0.0", description=description, extra_paths=HEALTH_PATHS)

    trace_requests(app)
    add_metrics(app, settings.service)

    @app.after_request
    def _finish_trace(response: Response):
        trace = context.current()
        response.headers["X-Request-ID"] = trace.request_id or ""
        response.headers["X-Correlation-ID"] = trace.correlation_id or ""
        log.info("%s %s %s", request.method, request.path, response.status_code,
                 extra={"status": response.status_code,
                        "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1)})
        return response

    add_liveness(app)

    @app.get("/health/ready")
    def ready():
        checks, ok = {}, True
        for name, check in readiness.items():
            try:
                check()
                checks[name] = "ok"
            except Exception as exc:  # any failure means not ready
                checks[name], ok = f"unavailable: {type(exc).__name__}", False
        return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503

    @app.get("/openapi.json")
    def openapi():
        return jsonify(spec)

    @app.get("/asyncapi.json")
    def asyncapi():
        return jsonify(asyncapi_document(settings.service, settings.amqp_prefix))

    register_docs(app, title)

    return app


class BodyReadTimeout:
    """Under gunicorn, a request body that stops arriving for `seconds` is cut off with a
    408 instead of holding a worker thread until the client gives up. Bounds each read
    (like nginx's client_body_timeout), through the client socket gunicorn exposes."""

    def __init__(self, app, seconds: float):
        self.app, self.seconds = app, seconds

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if sock is None or not self.seconds:
            return self.app(environ, start_response)
        previous = sock.gettimeout()
        sock.settimeout(self.seconds)
        environ["wsgi.input"] = _TimedInput(environ["wsgi.input"], self.seconds)
        try:
            return self.app(environ, start_response)  # the body is read in here; the answer is written later
        finally:
            sock.settimeout(previous)


class _TimedInput:
    """wsgi.input whose socket timeout becomes a 408. Not an OSError, on purpose: werkzeug
    would turn that into "client disconnected"."""

    def __init__(self, stream, seconds: float):
        self.stream, self.seconds = stream, seconds

    def _timed(self, read, *args):
        try:
            return read(*args)
        except TimeoutError:
            raise RequestTimeout(f"No part of the request body arrived for {self.seconds:g} s.") from None

    def read(self, *args):
        return self._timed(self.stream.read, *args)

    def readline(self, *args):
        return self._timed(self.stream.readline, *args)

    def readlines(self, *args):
        return self._timed(self.stream.readlines, *args)

    def __iter__(self):
        return iter(self.readline, b"")


def broker_check(settings: Settings) -> Callable[[], None]:
    def check() -> None:
        from kombu import Connection
        with Connection(settings.amqp_url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    return check
