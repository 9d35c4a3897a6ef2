"""What a replay sends: names, snapshots and the end marker, and the request that asks
for them (the design is in shared/replay/__init__.py)."""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from shared import contracts
from shared.events import Envelope, Subject, to_json_safe

COMPLETED = "replay.completed"
SNAPSHOTS = "#.snapshot"           # the replayed event types: <service>.<aggregate>.snapshot
HEADER = "x-replay"                # on every replayed message: the request it answers
REPLAYS = "replays"                # requester's collection: what it applied of each replay
PAGE_SIZE = 200
REQUEST_QUEUE = {"durable": False, "auto_delete": True}  # exists while a source serves
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_IDS = uuid.UUID("6f1c2a4e-8d0b-4c5e-9a43-1b7e5d2f0c91")  # namespace of snapshot event ids


class BadRequest(ValueError):
    """A replay request this server cannot serve."""


def request_queue(prefix: str, service: str) -> str:
    return f"{prefix}.{service}.replay"


def service_queue(prefix: str, service: str) -> str:
    return f"{prefix}.{service}"  # shared.topology.Names.queue


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Snapshot:
    subject_id: str
    version: int
    data: dict


@dataclass(frozen=True)
class Source:
    """One kind of aggregate a service replays: its collection, and how a page of stored
    records becomes snapshots (`snapshots(db, records)`, may read more per page)."""
    event_type: str
    subject_type: str
    collection: str
    snapshots: Callable[[object, list[dict]], list[Snapshot]]
    projection: dict | None = None  # the stored fields `snapshots` needs, if not all


def snapshot_id(event_type: str, subject_id: str, version: int) -> str:
    """The same state replayed again is the same event: the requester's inbox skips it."""
    return str(uuid.uuid5(_IDS, f"{event_type}:{subject_id}:{version}"))


def snapshot_event(service: str, source: Source, snapshot: Snapshot, request_id: str) -> Envelope:
    """`occurred_at` is when the state was read; correlation and causation are the request."""
    event = Envelope(id=snapshot_id(source.event_type, str(snapshot.subject_id), snapshot.version),
                     type=source.event_type, schema_version=1, source=service, occurred_at=_now_iso(),
                     subject=Subject(source.subject_type, str(snapshot.subject_id)),
                     aggregate_version=snapshot.version, correlation_id=request_id, causation_id=request_id,
                     data=to_json_safe(snapshot.data))
    contracts.check(event)  # a replay publishes nothing a live event could not carry
    return event


def completed_event(service: str, request: "Request", served: int) -> Envelope:
    event = Envelope(id=str(uuid.uuid5(_IDS, f"{COMPLETED}:{request.request_id}")), type=COMPLETED,
                     schema_version=1, source=service, occurred_at=_now_iso(),
                     subject=Subject("replay", request.request_id), aggregate_version=1,
                     correlation_id=request.request_id, causation_id=request.request_id,
                     data={"request_id": request.request_id, "source": service, "served": served,
                           "reply_to": request.reply_to})
    contracts.check(event)
    return event


@dataclass(frozen=True)
class Request:
    request_id: str
    to: str
    reply_to: str

    @classmethod
    def from_message(cls, body: bytes, reply_to: str | None) -> "Request":
        try:
            raw = json.loads(body)
            request = cls(str(raw["request_id"]), str(raw["to"]), reply_to or "")
        except (ValueError, TypeError, KeyError) as exc:
            raise BadRequest(f"not a replay request: {exc!r}") from None
        if not SERVICE_NAME.match(request.to):
            raise BadRequest(f"not a service name: {request.to!r}")
        if not request.request_id.strip() or len(request.request_id) > 100:
            raise BadRequest("a replay request needs a request_id")
        return request
