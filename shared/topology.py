"""Exchange, queues, retry delays and dead-lettering: declared by code, idempotently,
by every process at start.

    {prefix}.events                     topic exchange; routing key = event type
    {prefix}.{service}                  a consuming service's durable queue
    {prefix}.{service}.retry.{N}ms      delay queue: holds a failed message N ms, then
                                        dead-letters it back to the service queue
    {prefix}.{service}.dead             dead letters, with the error in the headers
Delay queues carry their delay in the name: a queue's TTL cannot change once declared.
"""
from __future__ import annotations

from dataclasses import dataclass

from kombu import Exchange, Queue, binding


@dataclass(frozen=True)
class Names:
    prefix: str
    service: str

    @property
    def exchange(self) -> str:
        return f"{self.prefix}.events"

    @property
    def queue(self) -> str:
        return f"{self.prefix}.{self.service}"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dead"

    def retry_queue(self, delay_ms: int) -> str:
        return f"{self.queue}.retry.{delay_ms}ms"


def events_exchange(prefix: str) -> Exchange:
    return Exchange(f"{prefix}.events", type="topic", durable=True)


def service_queues(names: Names, binding_keys: list[str], retry_delays_ms: tuple[int, ...]) -> list[Queue]:
    exchange = events_exchange(names.prefix)
    main = Queue(names.queue, bindings=[binding(exchange, routing_key=k) for k in binding_keys],
                 durable=True, auto_delete=False)
    delays = [
        Queue(names.retry_queue(ms), durable=True, auto_delete=False,
              queue_arguments={"x-message-ttl": ms, "x-dead-letter-exchange": "",
                               "x-dead-letter-routing-key": names.queue})
        for ms in sorted(set(retry_delays_ms))
    ]
    dead = Queue(names.dead_letter_queue, durable=True, auto_delete=False)
    return [main, *delays, dead]


def declare(connection, names: Names, binding_keys: list[str], retry_delays_ms: tuple[int, ...]) -> list[Queue]:
    """Declare everything one consuming service needs; safe to repeat."""
    channel = connection.default_channel
    events_exchange(names.prefix)(channel).declare()
    queues = service_queues(names, binding_keys, retry_delays_ms)
    for queue in queues:
        queue(channel).declare()
    return queues
