"""The integration event envelope every service publishes and consumes."""
from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from shared import context


class MalformedEvent(ValueError):
    """A message body that is not a valid envelope: no retry can fix it."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _json_default(value: Any):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json_safe(data: Any) -> Any:
    """Dates become ISO strings, so the data in the outbox is exactly what is published."""
    return json.loads(json.dumps(data, default=_json_default, ensure_ascii=False))


@dataclass(frozen=True)
class Subject:
    type: str
    id: str


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    schema_version: int
    source: str
    occurred_at: str
    subject: Subject
    aggregate_version: int
    correlation_id: str
    causation_id: str | None
    data: dict = field(default_factory=dict)

    @classmethod
    def new(cls, *, type: str, source: str, subject_type: str, subject_id: str,
            aggregate_version: int, data: dict, schema_version: int = 1) -> "Envelope":
        """A new event whose correlation and causation come from the work in progress."""
        event_id = str(uuid.uuid4())
        trace = context.current()
        return cls(
            id=event_id,
            type=type,
            schema_version=schema_version,
            source=source,
            occurred_at=_json_default(utcnow()),
            subject=Subject(subject_type, str(subject_id)),
            aggregate_version=aggregate_version,
            correlation_id=trace.correlation_id or event_id,
            causation_id=trace.causation_id,
            data=to_json_safe(data),
        )

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_dict(cls, raw: dict) -> "Envelope":
        try:
            subject = raw["subject"]
            return cls(
                id=str(raw["id"]),
                type=str(raw["type"]),
                schema_version=int(raw["schema_version"]),
                source=str(raw["source"]),
                occurred_at=str(raw["occurred_at"]),
                subject=Subject(str(subject["type"]), str(subject["id"])),
                aggregate_version=int(raw["aggregate_version"]),
                correlation_id=str(raw["correlation_id"]),
                causation_id=raw.get("causation_id"),
                data=dict(raw.get("data") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedEvent(f"not an event envelope: {exc!r}") from exc

    @classmethod
    def from_json(cls, body: bytes | str) -> "Envelope":
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedEvent(f"body is not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise MalformedEvent("body is not a JSON object")
        return cls.from_dict(raw)

    def amqp_properties(self) -> dict:
        """AMQP properties that mirror the envelope, so tools can route and trace without parsing."""
        return {
            "message_id": self.id,
            "type": self.type,
            "content_type": "application/json",
            "content_encoding": "utf-8",
            "correlation_id": self.correlation_id,
            "app_id": self.source,
            "delivery_mode": 2,
            "headers": {"schema_version": self.schema_version, "subject_type": self.subject.type,
                        "subject_id": self.subject.id, "aggregate_version": self.aggregate_version},
        }


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic semantics: '*' is one word, '#' zero or more words."""
    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])
    return match(pattern.split("."), routing_key.split("."))
