"""One small HTTP client per backend service. The portal reads and writes only through these.

A backend that cannot be reached, times out or fails (5xx) raises `BackendDown`: the page says
politely that the service is away (errors.py), never a trace. A refusal (4xx) raises
`BackendError` with the problem+json body, which errors.py turns into sentences in the
person's language next to the fields they concern. The token goes in the Authorization header
only, never in a URL.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import requests

from shared import context

log = logging.getLogger("probashi.portal.backends")


class BackendDown(Exception):
    def __init__(self, backend: str, reason: str):
        super().__init__(f"{backend}: {reason}")
        self.backend, self.reason = backend, reason


@dataclass
class BackendError(Exception):
    backend: str
    status: int
    problem: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__init__(f"{self.backend} answered {self.status}: {self.problem.get('detail') or self.slug}")

    @property
    def slug(self) -> str:
        kind = str(self.problem.get("type") or "")
        return kind.rsplit(":", 1)[-1] if kind else ""

    @property
    def field_errors(self) -> dict:
        """{field: [messages]} of a 422; nested fields ("event": {"date": [...]}) as "event.date"."""
        flat: dict = {}

        def walk(prefix: str, value) -> None:
            if isinstance(value, dict):
                for key, inner in value.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), inner)
            else:
                flat[prefix] = value if isinstance(value, list) else [value]

        walk("", self.problem.get("errors") or {})
        return flat

    @property
    def retry_after(self) -> int | None:
        try:
            return int(self.headers.get("Retry-After", ""))
        except ValueError:
            return None


class Backend:
    def __init__(self, name: str, base_url: str, connect_timeout: float, read_timeout: float):
        self.name, self.base_url = name, base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy from the environment between the portal and its services

    def get(self, path: str, token: str | None = None, params: dict | None = None) -> dict:
        return self.call("GET", path, token, params=params)

    def post(self, path: str, body: dict, token: str | None = None) -> dict:
        return self.call("POST", path, token, json=body)

    def call(self, method: str, path: str, token: str | None = None, headers: dict | None = None,
             **kwargs) -> dict:
        """`headers`: a request's own (If-Match on a lifecycle step)."""
        response = self._send(method, path, token, headers, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        body = _json(response)
        if body is None:
            raise BackendDown(self.name, "an answer that is not JSON")
        return body

    def stream(self, path: str, token: str | None = None):
        """A GET whose answer is content, not JSON (a document): the open response, read in
        chunks by the caller, who closes it."""
        return self._send("GET", path, token, {"Accept": "*/*"}, stream=True)

    def _send(self, method: str, path: str, token: str | None, extra: dict | None, **kwargs):
        headers = {"Accept": "application/json", **(extra or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        trace = context.current()
        if trace.correlation_id:
            headers["X-Correlation-ID"] = trace.correlation_id
        url = f"{self.base_url}/api/v1{path}"
        try:
            response = self.http.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            log.warning("%s %s: %s unreachable (%s)", method, path, self.name, type(exc).__name__)
            raise BackendDown(self.name, type(exc).__name__) from None
        if response.status_code >= 500:
            response.close()
            log.warning("%s %s: %s answered %s", method, path, self.name, response.status_code)
            raise BackendDown(self.name, f"HTTP {response.status_code}")
        if response.status_code >= 400:
            problem = _json(response) or {}
            response.close()
            raise BackendError(self.name, response.status_code, problem, dict(response.headers))
        return response


def _json(response) -> dict | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class Backends:
    """The backends by name: `backends.claims.get("/claim-types")`."""

    def __init__(self, urls: dict, connect_timeout: float = 2.0, read_timeout: float = 8.0):
        self._all = {name: Backend(name, url, connect_timeout, read_timeout) for name, url in urls.items()}

    def __getattr__(self, name: str) -> Backend:
        try:
            return self._all[name]
        except KeyError:
            raise AttributeError(name) from None
