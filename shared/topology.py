"""Exchange, queues, retry delays and dead-lettering: declared by code, idempotently,
by every process at start.

    {prefix}.events                     topic exchange; routing key = event type;
                                        alternate exchange {prefix}.unrouted
    {prefix}.unrouted                   fanout exchange and queue: events no queue is bound
                                        to yet land here instead of coming back to the relay
    {prefix}.{service}                  a consuming service's durable queue
    {prefix}.{service}.retry.{N}ms      delay queue: holds a failed message N ms, then
                                        dead-letters it back to the service queue
    {prefix}.{service}.dead             dead letters, with the error in the headers
Delay queues carry their delay in the name: a queue's TTL cannot change once declared.
Nor can an exchange's arguments: every declarer of the events exchange (relay and
watcher via pika, consumers via kombu, the tests' tap) takes them from here, and one
declared earlier without them is reported (TopologyMismatch) and fixed by
`python -m shared.topology migrate` (make topology-migrate).

    python -m shared.topology migrate    recreate {AMQP_PREFIX}.events with its alternate exchange
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

from amqp.exceptions import PreconditionFailed
from kombu import Exchange, Queue, binding


class TopologyMismatch(RuntimeError):
    """The broker holds an exchange declared with other arguments than this code's."""


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


def unrouted_name(prefix: str) -> str:
    """The alternate exchange of the events exchange, and the queue bound to it."""
    return f"{prefix}.unrouted"


def events_exchange_arguments(prefix: str) -> dict:
    return {"alternate-exchange": unrouted_name(prefix)}


def mismatch_message(prefix: str) -> str:
    return (f"exchange {prefix}.events exists on the broker without alternate-exchange={unrouted_name(prefix)} "
            f"(declared by an older version). Stop this prefix's relays and consumers, run "
            f"`make topology-migrate` (AMQP_PREFIX={prefix}), then start them again: consumers re-bind their queues.")


class _EventsExchange(Exchange):
    """The events exchange; declaring it also declares its alternate exchange and queue,
    and turns the broker's PRECONDITION_FAILED into a message that says what to do."""

    def declare(self, nowait=False, passive=None, channel=None):
        prefix = self.name[: -len(".events")]
        channel = channel or self.channel
        unrouted = Exchange(unrouted_name(prefix), type="fanout", durable=True)
        Queue(unrouted_name(prefix), unrouted, durable=True, auto_delete=False)(channel).declare()
        try:
            return super().declare(nowait=nowait, passive=passive, channel=channel)
        except PreconditionFailed as exc:
            raise TopologyMismatch(mismatch_message(prefix)) from exc


def events_exchange(prefix: str) -> Exchange:
    return _EventsExchange(f"{prefix}.events", type="topic", durable=True,
                           arguments=events_exchange_arguments(prefix))


def declare_events_exchange(channel, prefix: str) -> None:
    """The same declaration on a pika BlockingChannel (the watcher, tests, the bench)."""
    import pika.exceptions
    unrouted = unrouted_name(prefix)
    channel.exchange_declare(unrouted, exchange_type="fanout", durable=True)
    channel.queue_declare(unrouted, durable=True)
    channel.queue_bind(unrouted, unrouted)
    try:
        channel.exchange_declare(f"{prefix}.events", exchange_type="topic", durable=True,
                                 arguments=events_exchange_arguments(prefix))
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 406:
            raise TopologyMismatch(mismatch_message(prefix)) from exc
        raise


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


def migrate(amqp_url: str, prefix: str) -> None:
    """Recreate the events exchange with its alternate exchange. Its bindings go with the
    old one: run it with the prefix's relays and consumers stopped; consumers re-bind at start."""
    import pika
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.exchange_delete(f"{prefix}.events")
        declare_events_exchange(channel, prefix)
    finally:
        connection.close()


def main(argv: list[str] | None = None, settings=None) -> int:
    from shared.config import Settings
    args = sys.argv[1:] if argv is None else argv
    if args != ["migrate"]:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    settings = settings or Settings.from_env("topology")
    migrate(settings.amqp_url, settings.amqp_prefix)
    print(f"recreated {settings.amqp_prefix}.events with alternate exchange {unrouted_name(settings.amqp_prefix)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
