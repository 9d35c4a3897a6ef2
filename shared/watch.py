"""Print every event RabbitMQ routes on the events exchange, as it arrives.

    python -m shared.watch [BINDING_KEY]     (default '#': everything)

It binds a private, self-deleting queue, so it sees only what is published while it
runs and takes nothing away from the services' own queues.
"""
from __future__ import annotations

import json
import sys

import pika

from shared import topology
from shared.config import Settings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    binding_key = args[0] if args else "#"
    settings = Settings.from_env("watch")
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    channel = connection.channel()
    exchange = f"{settings.amqp_prefix}.events"
    try:
        topology.declare_events_exchange(channel, settings.amqp_prefix, topology.QueueKind.of(settings))
    except topology.TopologyMismatch as exc:
        print(exc, file=sys.stderr)
        return 1
    queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
    channel.queue_bind(queue, exchange, routing_key=binding_key)
    print(f"watching {exchange} for '{binding_key}' (Ctrl-C to stop)", file=sys.stderr, flush=True)

    def show(_channel, method, properties, body):
        try:
            payload = json.loads(body)
        except ValueError:
            payload = body.decode("utf-8", errors="replace")
        print(json.dumps({"routing_key": method.routing_key, "message_id": properties.message_id,
                          "event": payload}, ensure_ascii=False, indent=2), flush=True)

    channel.basic_consume(queue, show, auto_ack=True)
    try:
        channel.start_consuming()
    except KeyboardInterrupt:
        pass
    finally:
        if connection.is_open:
            connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
