"""The services' APIs as the loader calls them: development tokens signed with the key
`make token` uses, one HTTP session per thread, a retry while another service has not yet
learnt what an event told it, and a case (claim or complaint) stepped with If-Match.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

import requests

from shared.auth import issue_token
from shared.config import Settings

# How long a service may take to learn, by the broker, what another one just did: generous,
# since a consumer can be minutes behind while thousands of events arrive on a busy machine.
LEARN_TIMEOUT = 300.0


class LoadError(Exception):
    """A call the loader cannot go on from: says which, and what the service answered."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict | list | None
    etag: str | None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def detail(self) -> str:
        body = self.body if isinstance(self.body, dict) else {}
        return f"{self.status} {body.get('detail') or body.get('title') or ''} {body.get('errors') or ''}".strip()


class Tokens:
    """One token per (role, subject), signed with the development key (JWT_DEV_KEY_FILE)."""

    def __init__(self, settings: Settings, key_file: str):
        self.settings = replace(settings, jwt_dev_key_file=key_file)
        self._made: dict[tuple, str] = {}
        self._lock = threading.Lock()

    def __call__(self, role: str, subject: str) -> str:
        with self._lock:
            if (role, subject) not in self._made:
                self._made[role, subject] = issue_token(self.settings, subject=subject, role=role)
            return self._made[role, subject]


class Client:
    def __init__(self, urls: dict[str, str], tokens: Tokens, timeout: float = 30.0):
        self.urls, self.tokens, self.timeout = urls, tokens, timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.trust_env = False  # 127.0.0.1 never through a proxy
        return self._local.session

    def call(self, service: str, method: str, path: str, token: str, *, json=None, files=None, data=None,
             params=None, if_match: str | None = None) -> Answer:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if if_match:
            headers["If-Match"] = if_match
        url = f"{self.urls[service]}/api/v1{path}"
        try:
            response = self._session().request(method, url, json=json, files=files, data=data, params=params,
                                               headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise LoadError(f"{service} is not answering at {self.urls[service]} ({exc.__class__.__name__}); "
                            "is `make run` running?") from exc
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = {"detail": response.text[:200]}
        return Answer(response.status_code, body, response.headers.get("ETag"))

    def must(self, service: str, method: str, path: str, token: str, **kwargs) -> Answer:
        answer = self.call(service, method, path, token, **kwargs)
        if not answer.ok:
            raise LoadError(f"{method} {service}{path}: {answer.detail()}")
        return answer

    def once_known(self, service: str, method: str, path: str, token: str, *, unknown=(404, 422), **kwargs) -> Answer:
        """The call, repeated while the service answers that it does not know the migrant,
        document or case yet (it learns them from another service's events)."""
        answer = repeat_while(lambda: self.call(service, method, path, token, **kwargs), unknown)
        if not answer.ok:
            raise LoadError(f"{method} {service}{path}: {answer.detail()}")
        return answer


def repeat_while(call, statuses) -> Answer:
    """`call()` again, less and less often, while it answers one of `statuses`, for up to LEARN_TIMEOUT."""
    deadline, pause = time.monotonic() + LEARN_TIMEOUT, 0.1
    while True:
        answer = call()
        if answer.status not in statuses or time.monotonic() > deadline:
            return answer
        time.sleep(pause)
        pause = min(pause * 2, 3.0)


class Case:
    """A claim or complaint taken step by step: each step sends the ETag last read; one the
    service's own consumer changed meanwhile (412) is read again and the step retried."""

    def __init__(self, client: Client, service: str, path: str, token: str, answer: Answer):
        self.client, self.service, self.path, self.token = client, service, path, token
        self.body, self.etag = answer.body, answer.etag

    @property
    def status(self) -> str:
        return self.body["status"]

    def read(self) -> "Case":
        answer = self.client.must(self.service, "GET", self.path, self.token)
        self.body, self.etag = answer.body, answer.etag
        return self

    def step(self, name: str, body: dict | None = None, token: str | None = None) -> Answer:
        for _ in range(5):
            answer = self.client.call(self.service, "POST", f"{self.path}/{name}", token or self.token,
                                      json=body if body is not None else {}, if_match=self.etag)
            if answer.status != 412:
                break
            self.read()
        if answer.ok:
            self.body, self.etag = answer.body, answer.etag
        return answer

    def must(self, name: str, body: dict | None = None, token: str | None = None, *, unknown=()) -> "Case":
        """The step, which must succeed; `unknown`: answers meaning the service has not learnt
        yet what the step names (a vault document), which are repeated."""
        answer = repeat_while(lambda: self.step(name, body, token), unknown)
        if not answer.ok:
            raise LoadError(f"{self.path}/{name} (from {self.status}): {answer.detail()}")
        return self

    def wait_for(self, status: str) -> "Case":
        """Until the case reaches `status` by itself (a claim whose papers were all verified)."""
        reached = repeat_while(lambda: Answer(200 if self.read().status == status else 0, None, None), (0,))
        if not reached.ok:
            raise LoadError(f"{self.path} stayed {self.status}, never became {status}")
        return self
