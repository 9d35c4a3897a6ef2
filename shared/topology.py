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

Durable queues are quorum queues (AMQP_QUEUE_TYPE=quorum, the default), which a RabbitMQ
cluster replicates, or classic ones (AMQP_QUEUE_TYPE=classic: the queues of earlier
versions). A quorum service queue counts the deliveries of each message that ended without
an ack (x-delivery-count): a message that kills or disconnects its consumer every time
(a poison message) is dead-lettered by the broker into {service}.dead after
AMQP_DELIVERY_LIMIT of them, instead of looping. Quorum queues dead-letter at-least-once
(kept until the target queue confirmed it), which needs x-overflow=reject-publish; none
has a length limit, so nothing is ever refused for that. The temporary queues (the
watcher's, replay requests and answers) stay classic: quorum queues cannot be exclusive
or auto-delete. A queue's type and arguments cannot change in place: a queue declared
otherwise is reported (TopologyMismatch) and moved by `migrate`, messages included.

    python -m shared.topology migrate [--service NAME ...]
        recreate {AMQP_PREFIX}.events with its alternate exchange if it lacks it, and move
        the unrouted queue and each consuming service's queues (default: all) to
        AMQP_QUEUE_TYPE / AMQP_DELIVERY_LIMIT, with their messages
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass

from amqp.exceptions import PreconditionFailed
from kombu import Exchange, Queue, binding

from shared.config import Settings


class TopologyMismatch(RuntimeError):
    """The broker holds an exchange or queue declared with other arguments than this code's."""


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


@dataclass(frozen=True)
class QueueKind:
    """What every durable queue is declared as (AMQP_QUEUE_TYPE, AMQP_DELIVERY_LIMIT)."""
    type: str = Settings.amqp_queue_type
    delivery_limit: int = Settings.amqp_delivery_limit

    @classmethod
    def of(cls, settings: Settings) -> "QueueKind":
        return cls(settings.amqp_queue_type, settings.amqp_delivery_limit)

    @property
    def quorum(self) -> bool:
        return self.type == "quorum"

    def plain(self) -> dict:
        """A queue nothing dead-letters out of (dead letters, unrouted events)."""
        return {"x-queue-type": "quorum"} if self.quorum else {}

    def dead_lettering(self, target: str, **more) -> dict:
        """A queue that dead-letters to `target` through the default exchange."""
        arguments = {**self.plain(), **more, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": target}
        if self.quorum:  # at-least-once: the broker keeps a dead letter until `target` confirmed it
            arguments.update({"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
        return arguments

    def consumed(self, dead_letter_queue: str) -> dict:
        """A service queue: past its delivery limit a message goes to the dead-letter queue."""
        if not self.quorum:
            return {}  # classic queues count no deliveries (and earlier versions declared them bare)
        return self.dead_lettering(dead_letter_queue, **{"x-delivery-limit": self.delivery_limit})

    def describe(self) -> str:
        return (f"AMQP_QUEUE_TYPE={self.type}" +
                (f", AMQP_DELIVERY_LIMIT={self.delivery_limit}" if self.quorum else ""))


def unrouted_name(prefix: str) -> str:
    """The alternate exchange of the events exchange, and the queue bound to it."""
    return f"{prefix}.unrouted"


def events_exchange_arguments(prefix: str) -> dict:
    return {"alternate-exchange": unrouted_name(prefix)}


def mismatch_message(prefix: str) -> str:
    return (f"exchange {prefix}.events exists on the broker without alternate-exchange={unrouted_name(prefix)} "
            f"(declared by an older version). Stop this prefix's relays and consumers, run "
            f"`make topology-migrate` (AMQP_PREFIX={prefix}), then start them again: consumers re-bind their queues.")


def queue_mismatch_message(prefix: str, queue: str, kind: QueueKind, broker_says: str) -> str:
    return (f"queue {queue} exists on the broker with other arguments than {kind.describe()} ask for "
            f"(a queue's type and arguments cannot change in place; broker: {broker_says}). Stop this "
            f"prefix's relays and consumers, run `make topology-migrate` (AMQP_PREFIX={prefix}, same "
            f"AMQP_QUEUE_TYPE): it moves the queues and their messages; then start them again. "
            f"Or keep the queues as they are with the AMQP_QUEUE_TYPE / AMQP_DELIVERY_LIMIT they were declared with.")


_MISMATCHED_QUEUE = re.compile(r"for queue '([^']+)'")


def mismatch(prefix: str, kind: QueueKind, broker_says: str) -> TopologyMismatch:
    """The broker's PRECONDITION_FAILED as an error that says what to do."""
    queue = _MISMATCHED_QUEUE.search(broker_says)
    if queue:
        return TopologyMismatch(queue_mismatch_message(prefix, queue.group(1), kind, broker_says))
    return TopologyMismatch(f"{mismatch_message(prefix)} (broker: {broker_says})")


class _DurableQueue(Queue):
    """A durable queue whose PRECONDITION_FAILED (declared otherwise earlier) says what to do."""
    attrs = Queue.attrs + (("prefix", None), ("kind", None))

    def declare(self, nowait=False, channel=None):
        try:
            return super().declare(nowait=nowait, channel=channel)
        except PreconditionFailed as exc:
            raise mismatch(self.prefix, self.kind, str(exc)) from exc


def _queue(name: str, prefix: str, kind: QueueKind, arguments: dict, **options) -> Queue:
    return _DurableQueue(name, durable=True, auto_delete=False, queue_arguments=arguments or None,
                         prefix=prefix, kind=kind, **options)


class _EventsExchange(Exchange):
    """The events exchange; declaring it also declares its alternate exchange and queue,
    and turns the broker's PRECONDITION_FAILED into a message that says what to do."""
    attrs = Exchange.attrs + (("kind", None),)

    def declare(self, nowait=False, passive=None, channel=None):
        prefix = self.name[: -len(".events")]
        channel = channel or self.channel
        kind = self.kind or QueueKind()
        unrouted = Exchange(unrouted_name(prefix), type="fanout", durable=True)
        _queue(unrouted_name(prefix), prefix, kind, kind.plain(), exchange=unrouted)(channel).declare()
        try:
            return super().declare(nowait=nowait, passive=passive, channel=channel)
        except PreconditionFailed as exc:
            raise TopologyMismatch(mismatch_message(prefix)) from exc


def events_exchange(prefix: str, kind: QueueKind | None = None) -> Exchange:
    return _EventsExchange(f"{prefix}.events", type="topic", durable=True,
                           arguments=events_exchange_arguments(prefix), kind=kind or QueueKind())


def declare_events_exchange(channel, prefix: str, kind: QueueKind | None = None) -> None:
    """The same declaration on a pika BlockingChannel (the watcher, tests, the bench)."""
    import pika.exceptions
    kind = kind or QueueKind()
    unrouted = unrouted_name(prefix)
    try:
        channel.exchange_declare(unrouted, exchange_type="fanout", durable=True)
        channel.queue_declare(unrouted, durable=True, arguments=kind.plain())
        channel.queue_bind(unrouted, unrouted)
        channel.exchange_declare(f"{prefix}.events", exchange_type="topic", durable=True,
                                 arguments=events_exchange_arguments(prefix))
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 406:
            raise mismatch(prefix, kind, exc.reply_text) from exc
        raise


def service_queues(names: Names, binding_keys: list[str], retry_delays_ms: tuple[int, ...],
                   kind: QueueKind | None = None) -> list[Queue]:
    """The service queue, its delay queues and its dead-letter queue, in that order."""
    kind = kind or QueueKind()
    exchange = events_exchange(names.prefix, kind)
    main = _queue(names.queue, names.prefix, kind, kind.consumed(names.dead_letter_queue),
                  bindings=[binding(exchange, routing_key=k) for k in binding_keys])
    delays = [_queue(names.retry_queue(ms), names.prefix, kind,
                     kind.dead_lettering(names.queue, **{"x-message-ttl": ms}))
              for ms in sorted(set(retry_delays_ms))]
    return [main, *delays, dead_letter_queue(names, kind)]


def dead_letter_queue(names: Names, kind: QueueKind | None = None) -> Queue:
    kind = kind or QueueKind()
    return _queue(names.dead_letter_queue, names.prefix, kind, kind.plain())


def declare(connection, names: Names, binding_keys: list[str], retry_delays_ms: tuple[int, ...],
            kind: QueueKind | None = None) -> list[Queue]:
    """Declare everything one consuming service needs; safe to repeat."""
    channel = connection.default_channel
    events_exchange(names.prefix, kind)(channel).declare()
    queues = service_queues(names, binding_keys, retry_delays_ms, kind)
    for queue in queues:
        queue(channel).declare()
    return queues


# -- migrate: bring a prefix's exchange and queues to what this code declares -------------------
class MigrationRefused(RuntimeError):
    """Migrating now could lose messages; the message says what to do first."""


def holding_queue(queue: str) -> str:
    """Where `migrate` keeps a queue's messages while the queue is declared anew."""
    return f"{queue}.migrating"


class _Broker:
    """The migration's pika channel, publishing with confirms; reopened after the broker closes it."""

    def __init__(self, amqp_url: str):
        import pika
        self.pika = pika
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self._channel = None

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()

    @property
    def channel(self):
        if self._channel is None or not self._channel.is_open:
            self._channel = self.connection.channel()
            self._channel.confirm_delivery()
        return self._channel

    def _closed_with(self, code: int, call) -> bool:
        """Runs `call(channel)`: False if it went through, True if the broker answered `code`."""
        try:
            call(self.channel)
            return False
        except self.pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code != code:
                raise
            return True

    def fresh_channel(self) -> None:
        """RabbitMQ 3.10 crashes a channel that publishes to a queue it knew as classic
        and that was declared anew as quorum since (INTERNAL_ERROR): a new channel knows better."""
        if self._channel is not None and self._channel.is_open:
            self._channel.close()
        self._channel = None

    def exists(self, queue: str) -> bool:
        return not self._closed_with(404, lambda channel: channel.queue_declare(queue, passive=True))

    def consumers(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).method.consumer_count

    def queue_differs(self, queue: Queue) -> bool:
        """True when `queue` exists declared otherwise (its type, its arguments)."""
        return self.exists(queue.name) and self._closed_with(406, lambda channel: channel.queue_declare(
            queue.name, durable=True, arguments=queue.queue_arguments or {}))

    def exchange_differs(self, prefix: str) -> bool:
        return self._closed_with(406, lambda channel: channel.exchange_declare(
            f"{prefix}.events", exchange_type="topic", durable=True, arguments=events_exchange_arguments(prefix),
            passive=False))

    def move(self, source: str, target: str) -> int:
        """Every message of `source` into `target`, in order, each acked only once `target` confirmed it."""
        self.channel.queue_declare(target, durable=True, passive=True)
        moved = 0
        while True:
            method, properties, body = self.channel.basic_get(source, auto_ack=False)
            if method is None:
                return moved
            self.channel.basic_publish("", target, body, properties, mandatory=True)  # raises unless confirmed
            self.channel.basic_ack(method.delivery_tag)
            moved += 1

    def delete_empty(self, queue: str) -> None:
        if self._closed_with(406, lambda channel: channel.queue_delete(queue, if_empty=True)):
            raise MigrationRefused(
                f"messages arrived in {queue} while it was being moved: something still publishes to it. "
                f"Stop this prefix's relays and consumers and run `make topology-migrate` again (what was "
                f"moved already waits in the *.migrating queues and is put back then).")


def _relocate(broker: _Broker, queues: list[Queue], home: dict[str, str], redeclare, done: list[str]) -> None:
    """Move the queues declared otherwise: their messages into their holding queue (`home`:
    queue -> the queue whose holding queue takes them), the queue deleted, `redeclare()`
    declares them anew, the held messages go back. An interrupted run leaves them held; the
    next run puts them back. Refuses while anything consumes from a queue to be moved."""
    moving = [queue for queue in queues if broker.queue_differs(queue)]
    held = [target for target in dict.fromkeys(home.values()) if broker.exists(holding_queue(target))]
    if not moving and not held:
        return
    busy = [queue.name for queue in moving if broker.consumers(queue.name)]
    if busy:
        raise MigrationRefused(f"{', '.join(busy)} still have consumers: stop the consumer processes of this "
                               f"prefix first (and its relays), then run `make topology-migrate` again")
    for target in dict.fromkeys(home.values()):
        broker.channel.queue_declare(holding_queue(target), durable=True)
    for queue in moving:
        broker.move(queue.name, holding_queue(home[queue.name]))
        broker.delete_empty(queue.name)
    redeclare()
    broker.fresh_channel()
    kept = 0
    for target in dict.fromkeys(home.values()):
        kept += broker.move(holding_queue(target), target)
        broker.delete_empty(holding_queue(target))
    if moving:
        done.append(f"declared anew as {moving[0].kind.type}: {', '.join(queue.name for queue in moving)} "
                    f"({kept} message(s) kept)")
    else:
        done.append(f"{kept} message(s) an interrupted migration held put back")


def migrate(settings: Settings, consumers: dict[str, list[str]]) -> list[str]:
    """Bring `settings.amqp_prefix` to this code's topology, one line per change: the events
    exchange gets its alternate exchange (recreated: its bindings go with the old one, and
    consumers re-bind at start), and the unrouted queue and each consuming service's queues
    (`consumers`: service -> binding keys) the configured queue type, messages kept. Run it
    with the prefix's relays and consumers stopped; it refuses while a queue has consumers."""
    from kombu import Connection
    prefix, kind, done = settings.amqp_prefix, QueueKind.of(settings), []
    broker = _Broker(settings.amqp_url)
    try:
        unrouted = _queue(unrouted_name(prefix), prefix, kind, kind.plain())

        def events_exchange_again() -> None:
            if broker.exchange_differs(prefix):
                broker.channel.exchange_delete(f"{prefix}.events")
                done.append(f"recreated {prefix}.events with alternate exchange {unrouted_name(prefix)}")
            declare_events_exchange(broker.channel, prefix, kind)

        _relocate(broker, [unrouted], {unrouted.name: unrouted.name}, events_exchange_again, done)
        events_exchange_again()
        for service, binding_keys in consumers.items():
            names = Names(prefix, service)
            queues = service_queues(names, binding_keys, settings.retry_delays_ms, kind)
            home = {queue.name: names.queue for queue in queues[:-1]} | {names.dead_letter_queue: names.dead_letter_queue}

            def declare_service(names=names, binding_keys=binding_keys) -> None:
                with Connection(settings.amqp_url) as connection:
                    declare(connection, names, binding_keys, settings.retry_delays_ms, kind)

            _relocate(broker, queues, home, declare_service, done)
    finally:
        broker.close()
    return done


def consuming_services() -> dict[str, list[str]]:
    """Every service with a consumer process (services/<name>/consumer.py): its binding keys."""
    import importlib
    import importlib.util
    import pkgutil

    import services
    found = {}
    for module in pkgutil.iter_modules(services.__path__):
        if module.ispkg and importlib.util.find_spec(f"services.{module.name}.consumer") is not None:
            consumer = importlib.import_module(f"services.{module.name}.consumer").consumer
            found[consumer.service] = consumer.binding_keys
    return found


def main(argv: list[str] | None = None, settings: Settings | None = None,
         consumers: dict[str, list[str]] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shared.topology", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("migrate", help="recreate the events exchange, move queues to AMQP_QUEUE_TYPE")
    command.add_argument("--service", action="append", help="only this service's queues (repeatable)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    settings = settings or Settings.from_env("topology")
    consumers = consumers if consumers is not None else consuming_services()
    unknown = set(args.service or ()) - set(consumers)
    if unknown:
        print(f"no consumer for {', '.join(sorted(unknown))}; services with one: {', '.join(sorted(consumers))}",
              file=sys.stderr)
        return 2
    chosen = {name: keys for name, keys in consumers.items() if not args.service or name in args.service}
    try:
        done = migrate(settings, chosen)
    except MigrationRefused as exc:
        print(f"topology-migrate refused: {exc}", file=sys.stderr)
        return 1
    for line in done:
        print(line)
    print(f"{settings.amqp_prefix}: topology up to date ({QueueKind.of(settings).describe()}; "
          f"services: {', '.join(sorted(chosen)) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
