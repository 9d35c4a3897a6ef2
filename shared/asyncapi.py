"""The AsyncAPI 2.6 document of the integration events, generated from the contracts `Tx.emit`
checks every event against (shared/contracts.py): one channel per event type, which is the
routing key on the `{prefix}.events` topic exchange, its message the envelope (shared/events.py)
with the contract as `data`, one message per schema version. A replay's snapshots and end
marker go through the default exchange straight to the asking service's queue instead.

Each service's API serves the events it publishes at /asyncapi.json (shared/http/app.py); the
whole document, every service's:

    python -m shared.asyncapi [--service NAME] [--prefix probashi] [--output FILE]   (make asyncapi)
"""
from __future__ import annotations

import argparse
import copy
import inspect
import json
import sys
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared import contracts
from shared.events import topic_matches
from shared.replay.events import COMPLETED, SNAPSHOTS

ASYNCAPI_VERSION = "2.6.0"
AMQP_BINDING_VERSION = "0.2.0"
SCHEMAS = "#/components/schemas/"


def publisher(event_type: str) -> str:
    """The service whose outbox an event type leaves from: its first word (replay.completed
    is every replaying service's)."""
    return event_type.split(".", 1)[0]


def is_replay(event_type: str) -> bool:
    return event_type == COMPLETED or topic_matches(SNAPSHOTS, event_type)


def published_by(service: str) -> list[tuple[str, int]]:
    """The (type, schema_version) pairs `service` publishes: its own, and the end marker of
    the replays it serves when it has snapshots."""
    mine = [key for key in contracts.CONTRACTS if publisher(key[0]) == service]
    if any(is_replay(event_type) for event_type, _ in mine):
        mine += [key for key in contracts.CONTRACTS if key[0] == COMPLETED]
    return sorted(mine)


def _contract_schemas() -> dict[str, dict]:
    """Every contract as JSON Schema, by class name. apispec writes OpenAPI 3.1 schemas, which are
    JSON Schema (nullable as a "null" type), and nests by $ref to #/components/schemas/, the
    same place in an AsyncAPI document."""
    spec = APISpec(title="contracts", version="1", openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin(schema_name_resolver=lambda schema: _name(schema))])
    for contract in dict.fromkeys(contracts.CONTRACTS.values()):
        spec.components.schema(_name(contract), schema=contract)
    return spec.to_dict()["components"]["schemas"]


def _name(schema) -> str:
    return (schema if isinstance(schema, type) else type(schema)).__name__


def _summary(contract) -> str | None:
    doc = inspect.getdoc(contract)
    return " ".join(doc.split()) if doc and doc != inspect.getdoc(contracts.Contract) else None


def envelope(event_type: str, version: int, contract) -> dict:
    """shared.events.Envelope as published (to_json), for one type and version."""
    text = {"type": "string"}
    return {
        "type": "object",
        "required": ["id", "type", "schema_version", "source", "occurred_at", "subject", "aggregate_version",
                     "correlation_id", "causation_id", "data"],
        "additionalProperties": False,
        "properties": {
            "id": {**text, "description": "the event's id (a UUID); the AMQP message_id"},
            "type": {"const": event_type},
            "schema_version": {"const": version},
            "source": {**text, "description": "the service that published it"},
            "occurred_at": {**text, "format": "date-time"},
            "subject": {"type": "object", "required": ["type", "id"], "additionalProperties": False,
                        "properties": {"type": text, "id": text},
                        "description": "the aggregate it is about"},
            "aggregate_version": {"type": "integer",
                                  "description": "the aggregate's version after it: a subscriber skips an older one"},
            "correlation_id": text,
            "causation_id": {"type": ["string", "null"]},
            "data": {"$ref": SCHEMAS + _name(contract)},
        },
    }


HEADERS = {  # shared.events.Envelope.amqp_properties()["headers"]
    "type": "object",
    "properties": {"schema_version": {"type": "integer"}, "subject_type": {"type": "string"},
                   "subject_id": {"type": "string"}, "aggregate_version": {"type": "integer"}},
}


def message_id(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"


def message(event_type: str, version: int) -> dict:
    contract = contracts.CONTRACTS[(event_type, version)]
    found = {
        "messageId": message_id(event_type, version),
        "name": event_type,
        "title": f"{event_type} v{version}",
        "contentType": "application/json",
        "headers": HEADERS,
        "payload": envelope(event_type, version, contract),
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "tags": [{"name": publisher(event_type)}],
        "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": event_type,
                              "bindingVersion": AMQP_BINDING_VERSION}},
    }
    summary = _summary(contract)
    return {**found, "summary": summary} if summary else found


def channel(event_type: str, versions: list[int], prefix: str) -> dict:
    if is_replay(event_type):
        description = (f"Sent by a replay (shared/replay) through the default exchange straight to the asking "
                       f"service's queue ({prefix}.<service>), never through {prefix}.events.")
        exchange = {"type": "default", "vhost": "/"}
    else:
        description = f"Routing key {event_type} on the {prefix}.events topic exchange."
        exchange = {"name": f"{prefix}.events", "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}
    refs = [{"$ref": f"#/components/messages/{message_id(event_type, v)}"} for v in versions]
    return {
        "description": description,
        "subscribe": {
            "operationId": event_type,
            "summary": f"{publisher(event_type)} publishes {event_type}; subscribers bind to it.",
            "message": refs[0] if len(refs) == 1 else {"oneOf": refs},
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": AMQP_BINDING_VERSION}},
        },
        "bindings": {"amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _reachable(schemas: dict, roots: list[str]) -> dict:
    """The component schemas `roots` need, nested ones included."""
    names, pending = set(), list(roots)
    while pending:
        name = pending.pop()
        if name not in names:
            names.add(name)
            pending += [ref.removeprefix(SCHEMAS) for ref in _refs(schemas[name])]
    return {name: schemas[name] for name in sorted(names)}


def _refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


@lru_cache(maxsize=None)
def _build(service: str | None, prefix: str) -> dict:
    keys = published_by(service) if service else sorted(contracts.CONTRACTS)
    versions: dict[str, list[int]] = {}
    for event_type, version in keys:
        versions.setdefault(event_type, []).append(version)
    schemas = _contract_schemas()
    who = f"the {service} service publishes" if service else "every Probashi service publishes"
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": f"urn:probashi:events:{service or 'all'}",
        "info": {
            "title": f"Probashi {service} events" if service else "Probashi events",
            "version": "1.0.0",
            "description": (f"The integration events {who}, generated from shared/contracts.py. Each event is a "
                            "JSON envelope whose `data` the contract of its type and schema_version describes; "
                            "a changed shape is a new schema_version beside the old one."),
        },
        "servers": {"broker": {"url": "{host}", "protocol": "amqp", "protocolVersion": "0.9.1",
                               "description": "The RabbitMQ of AMQP_URL.",
                               "variables": {"host": {"default": "rabbitmq:5672"}}}},
        "defaultContentType": "application/json",
        "channels": {event_type: channel(event_type, found, prefix) for event_type, found in versions.items()},
        "components": {
            "messages": {message_id(*key): message(*key) for key in keys},
            "schemas": _reachable(schemas, [_name(contracts.CONTRACTS[key]) for key in keys]),
        },
    }


def document(service: str | None = None, prefix: str = "probashi") -> dict:
    """The AsyncAPI document of the events `service` publishes (None: every service's)."""
    return copy.deepcopy(_build(service, prefix))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.asyncapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", help="only the events this service publishes")
    parser.add_argument("--prefix", default="probashi", help="AMQP_PREFIX of the exchange named (default probashi)")
    parser.add_argument("--output", help="write it to this file instead of standard output")
    args = parser.parse_args(argv)
    text = json.dumps(document(args.service, args.prefix), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
