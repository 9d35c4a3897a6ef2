"""Sending SMS: one port (`Sms.send`), a development adapter and an HTTP gateway adapter.

Any service may send through it (sign-in codes today, case notifications later);
`from_settings(env)` picks the adapter:

- `SMS_ADAPTER=dev` (the default outside production): one JSON line per message appended
  to `SMS_DEV_OUTBOX` (default `.data/sms-outbox.jsonl`), which developers and tests read.
- `SMS_ADAPTER=http`: a JSON POST to `SMS_GATEWAY_URL` with `SMS_GATEWAY_KEY` as a bearer
  token; retries with backoff on 5xx, timeouts and refused connections; `SmsRefused` with the
  gateway's reason on 4xx; `SmsUnavailable` once the retries are spent.

Bangla cannot be written in GSM-7, so any text outside it goes as UCS-2: 70 characters in one
segment, 67 per part of a longer one (GSM-7: 160, 153). Segments are what operators bill,
so each send logs them; the text is never logged (it may hold a one-time code).
"""
from __future__ import annotations

import json
import logging
import math
import os
import socket
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Protocol

from shared.config import ConfigError

log = logging.getLogger("probashi.sms")

GSM7, UCS2 = "GSM-7", "UCS-2"

# The GSM 03.38 default alphabet; the extension characters cost an escape septet each.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# (characters in one segment, characters per part of a concatenated message)
_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class SmsResult:
    id: str
    segments: int
    encoding: str


class SmsError(Exception):
    """A message that was not sent."""


class SmsRefused(SmsError):
    """The gateway refused the message (4xx): sending it again will not help."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"SMS gateway refused the message ({status}): {reason}")
        self.status = status
        self.reason = reason


class SmsUnavailable(SmsError):
    """The gateway failed (5xx, timeout, no connection) on every attempt."""


class Sms(Protocol):
    def send(self, to: str, text: str) -> SmsResult: ...


def encoding_of(text: str) -> str:
    return GSM7 if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text) else UCS2


def length_in(text: str, encoding: str) -> int:
    """Length in the units a segment holds: septets (GSM-7) or UTF-16 code units (UCS-2)."""
    if encoding == GSM7:
        return sum(2 if ch in _GSM7_EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str, encoding: str | None = None) -> int:
    encoding = encoding or encoding_of(text)
    single, part = _LIMITS[encoding]
    length = length_in(text, encoding)
    return 1 if length <= single else math.ceil(length / part)


def masked(phone: str) -> str:
    """Enough of a number to tell messages apart in logs and events: +8801*******78."""
    return phone[:5] + "*" * max(len(phone) - 7, 0) + phone[-2:] if len(phone) > 7 else "*" * len(phone)


def _logged(result: SmsResult, to: str, adapter: str) -> SmsResult:
    log.info("sms sent", extra={"sms_id": result.id, "segments": result.segments, "encoding": result.encoding,
                                "to": masked(to), "adapter": adapter})
    return result


# -- development ---------------------------------------------------------------------------

class DevSms:
    """Appends each message as a JSON line to `path`. Each line is one `write` to a file opened
    with O_APPEND, so processes writing at once (API workers, tests) never interleave lines."""

    def __init__(self, path: str, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.path = path
        self.clock = clock

    def send(self, to: str, text: str) -> SmsResult:
        encoding = encoding_of(text)
        result = SmsResult(id=uuid.uuid4().hex, segments=segments(text, encoding), encoding=encoding)
        line = json.dumps({"id": result.id, "to": to, "text": text, "segments": result.segments,
                           "encoding": encoding, "sent_at": self.clock().isoformat()}, ensure_ascii=False)
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        # 0o600: the outbox holds codes; only its owner reads it.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)
        return _logged(result, to, "dev")


def read_outbox(path: str) -> list[dict]:
    """Every message the dev adapter wrote to `path`, oldest first (developers and tests)."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


# -- HTTP gateway --------------------------------------------------------------------------

class HttpSms:
    """POSTs `{"to", "text", "encoding", "reference"}` to the gateway; a 2xx answer may name the
    gateway's message id (`id` or `message_id`). The same `reference` (and Idempotency-Key
    header) goes with every retry of one message, so a gateway that honours it sends it once
    even when an answer was lost."""

    def __init__(self, url: str, key: str, *, timeout: float = 5.0, backoff: tuple[float, ...] = (0.5, 1.0, 2.0),
                 sleep: Callable[[float], None] = time.sleep):
        self.url = url
        self.key = key
        self.timeout = timeout
        self.backoff = backoff
        self.sleep = sleep

    def send(self, to: str, text: str) -> SmsResult:
        encoding = encoding_of(text)
        reference = uuid.uuid4().hex
        body = json.dumps({"to": to, "text": text, "encoding": encoding, "reference": reference},
                          ensure_ascii=False).encode("utf-8")
        failure = ""
        for attempt, delay in enumerate((0.0, *self.backoff)):
            if delay:
                self.sleep(delay)
            try:
                answer = self._post(body, reference)
            except _Retry as exc:
                failure = str(exc)
                log.warning("sms gateway failed; retrying" if attempt < len(self.backoff) else "sms gateway failed",
                            extra={"attempt": attempt + 1, "failure": failure, "to": masked(to)})
                continue
            gateway_id = answer.get("id") or answer.get("message_id") if isinstance(answer, dict) else None
            result = SmsResult(id=str(gateway_id or reference), segments=segments(text, encoding), encoding=encoding)
            return _logged(result, to, "http")
        raise SmsUnavailable(f"SMS gateway unavailable after {len(self.backoff) + 1} attempts: {failure}")

    def _post(self, body: bytes, reference: str):
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
            "Authorization": f"Bearer {self.key}", "Idempotency-Key": reference})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = _reason(exc.read(), exc.reason)
            if 400 <= exc.code < 500:
                raise SmsRefused(exc.code, detail) from None
            raise _Retry(f"{exc.code} {detail}") from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
            raise _Retry(str(getattr(exc, "reason", exc))) from None
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            return {}  # sent; the gateway just does not say more


class _Retry(Exception):
    pass


def _reason(raw: bytes, fallback) -> str:
    """The gateway's own words: a JSON `error`/`message`/`reason`/`detail`, or its text."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "message", "reason", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return text[:200] or str(fallback)


# -- configuration -------------------------------------------------------------------------

def from_settings(env: dict | None = None, *, backoff: tuple[float, ...] | None = None) -> Sms:
    """The adapter `env` names. `backoff`: the HTTP adapter's in-call retry delays (None keeps
    its default; a sender with durable retries of its own passes ())."""
    env = os.environ if env is None else env
    adapter = env.get("SMS_ADAPTER") or "dev"
    if adapter == "dev":
        if env.get("PROBASHI_ENV") == "production":
            # The outbox file would hold every code in clear, and nobody would receive one.
            raise ConfigError("SMS_ADAPTER=dev is for development; production needs SMS_ADAPTER=http")
        return DevSms(env.get("SMS_DEV_OUTBOX") or ".data/sms-outbox.jsonl")
    if adapter == "http":
        url, key = env.get("SMS_GATEWAY_URL"), env.get("SMS_GATEWAY_KEY")
        if not url or not key:
            raise ConfigError("SMS_ADAPTER=http needs SMS_GATEWAY_URL and SMS_GATEWAY_KEY")
        if not url.startswith(("https://", "http://")):
            raise ConfigError(f"SMS_GATEWAY_URL must be an http(s) URL, got {url!r}")
        if env.get("PROBASHI_ENV") == "production" and not url.startswith("https://"):
            raise ConfigError("SMS_GATEWAY_URL must be https in production (the key and codes travel in it)")
        try:
            timeout = float(env.get("SMS_GATEWAY_TIMEOUT") or 5.0)
        except ValueError:
            raise ConfigError(f"SMS_GATEWAY_TIMEOUT must be a number, got {env['SMS_GATEWAY_TIMEOUT']!r}") from None
        return HttpSms(url, key, timeout=timeout, **({} if backoff is None else {"backoff": backoff}))
    raise ConfigError(f"SMS_ADAPTER must be dev or http, got {adapter!r}")
