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

    def post(self, path: str, body: dict, token: str | None = None, if_match: str | None = None) -> dict:
        """`if_match`: the ETag of the record as read, for a step that needs it (a stale one is 412)."""
        return self.call("POST", path, token, json=body, headers={"If-Match": if_match} if if_match else None)

    def put(self, path: str, body: dict, token: str | None = None, if_match: str | None = None) -> dict:
        """A whole entry replaced (`if_match`: the ETag as read) or, without it, created."""
        return self.call("PUT", path, token, json=body, headers={"If-Match": if_match} if if_match else None)

    def stream(self, path: str, token: str, params: dict | None = None) -> tuple:
        """(chunks, content type, length) of a non-JSON answer (a document's content), passed on as
        it arrives rather than held in memory; the answer is closed when the chunks run out."""
        response = self.send("GET", path, token, {"Accept": "*/*"}, params=params, stream=True)
        try:
            self.refuse(response, "GET", path)
        except Exception:
            response.close()
            raise

        def chunks():
            try:
                yield from response.iter_content(64 * 1024)
            except requests.RequestException as exc:  # the answer has begun: all we can do is stop it short
                log.warning("GET %s: %s stopped mid-answer (%s)", path, self.name, type(exc).__name__)
            finally:
                response.close()

        return (chunks(), response.headers.get("Content-Type", "application/octet-stream"),
                response.headers.get("Content-Length"))

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> dict:
        response = self.send(method, path, token, **kwargs)
        self.refuse(response, method, path)
        if response.status_code == 204 or not response.content:
            return {}
        body = _json(response)
        if body is None:
            raise BackendDown(self.name, "an answer that is not JSON")
        return body

    def send(self, method: str, path: str, token: str | None = None, headers: dict | None = None, **kwargs):
        headers = {"Accept": "application/json", **(headers or {})}
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
        return response

    def refuse(self, response, method: str, path: str) -> None:
        """Raises for a failure (BackendDown) or a refusal (BackendError)."""
        if response.status_code >= 500:
            log.warning("%s %s: %s answered %s", method, path, self.name, response.status_code)
            raise BackendDown(self.name, f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise BackendError(self.name, response.status_code, _json(response) or {}, dict(response.headers))


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
