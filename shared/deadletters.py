"""Dead letters: list, show and replay what a service's consumer gave up on.

    python -m shared.deadletters --service registration list
    python -m shared.deadletters --service registration show EVENT_ID
    python -m shared.deadletters --service registration replay EVENT_ID | --all

    python -m shared.deadletters --service registration list --skip 100 --limit 100

The queue may hold more than fits in memory, so it is read one message at a time and
each is printed (or replayed) as it comes. Listing takes each message without acking
and drops it from memory: the broker keeps the unacked ones for this channel, and the
tool gives them all back when it is done (basic.recover; the channel's close does it if
the tool dies half way), so a listing neither loses nor duplicates a message. A classic queue puts them back in their order;
a quorum queue (RabbitMQ 3.10) in an order of its own, even when given them back one by
one: a listing shows the queue's order of the moment, and --skip pages are exact only
on classic queues (on quorum queues a page may repeat or miss letters of another page;
a full listing never does). It stops after the messages that
were in the queue when it started. Replay puts a message back on the service's queue
with its attempt count reset, and acks it in the dead-letter queue only after the
broker confirmed the copy.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from typing import Iterator

from kombu import Connection, Producer

from shared import topology
from shared.config import Settings

_ERROR_HEADERS = ("x-error", "x-error-type", "x-attempts", "x-failed-at", "x-consumer",
                  "x-original-exchange", "x-original-routing-key")


@dataclass
class DeadLetter:
    event_id: str
    event_type: str
    headers: dict
    body: bytes

    def summary(self) -> dict:
        return {"event_id": self.event_id, "type": self.event_type,
                **{k: self.headers.get(k) for k in _ERROR_HEADERS}, **self._broker_error()}

    def _broker_error(self) -> dict:
        """A letter the broker dead-lettered itself carries no error of the consumer's: say why."""
        reason = self.headers.get("x-first-death-reason")
        if self.headers.get("x-error") or not reason:
            return {}
        if reason == "delivery_limit":  # the broker's count; the consumer's own says DeliveryLimitReached
            why = ("delivered more often than AMQP_DELIVERY_LIMIT without an ack: its consumer died or lost "
                   "its connection while handling it, each time (a poison message?)")
        else:
            why = f"dead-lettered by the broker ({reason})"
        return {"x-error": why, "x-error-type": reason,
                "x-original-routing-key": self.headers.get("x-original-routing-key")
                or self.headers.get("x-first-death-queue")}


class DeadLetterQueue:
    def __init__(self, settings: Settings):
        self.names = topology.Names(settings.amqp_prefix, settings.service)
        self.queue_kind = topology.QueueKind.of(settings)
        self.connection = Connection(settings.amqp_url, transport_options={"confirm_publish": True})

    def _messages(self, channel) -> Iterator:
        """The queue's messages one by one, unacked: they return to the queue when the
        channel closes. Only those present at the start, so a busy queue still ends."""
        queue = topology.dead_letter_queue(self.names, self.queue_kind)(channel)
        queue.declare()
        present = queue.queue_declare(passive=True).message_count
        taken = acked = 0
        try:
            for _ in range(present):
                message = queue.get(no_ack=False)
                if message is None:
                    return
                taken += 1
                yield message
                acked += message.acknowledged
        finally:
            if taken > acked:
                self._give_back(channel, queue, present - acked)

    @staticmethod
    def _give_back(channel, queue, expected: int, patience: float = 5.0) -> None:
        """Return the unacked messages now, and wait (a while) until the queue counts them
        again: a quorum queue takes them back asynchronously, so a listing started at once
        would otherwise count too few and stop early."""
        channel.basic_recover(requeue=True)
        deadline = time.monotonic() + patience
        while queue.queue_declare(passive=True).message_count < expected and time.monotonic() < deadline:
            time.sleep(0.05)

    @staticmethod
    def _as_dead_letter(message) -> DeadLetter:
        return DeadLetter(message.properties.get("message_id") or "?", message.properties.get("type") or "?",
                          dict(message.headers or {}), message.body)

    def letters(self, limit: int | None = None, skip: int = 0) -> Iterator[DeadLetter]:
        """The dead letters in queue order, a page at a time (`skip`, then `limit`),
        holding only the one being looked at in memory."""
        with self.connection.channel() as channel, closing(self._messages(channel)) as messages:
            for position, message in enumerate(messages):
                if limit is not None and position >= skip + limit:
                    return
                if position >= skip:
                    yield self._as_dead_letter(message)

    def list(self, limit: int | None = None) -> list[DeadLetter]:
        """All of them (or the first `limit`) at once: for tests and small queues."""
        return list(self.letters(limit))

    def find(self, event_id: str) -> DeadLetter | None:
        with closing(self.letters()) as letters:  # closing the channel gives the rest back now
            return next((letter for letter in letters if letter.event_id == event_id), None)

    def replay(self, event_ids: set[str] | None) -> list[str]:
        """Replay the given events (None: all). Returns the ids replayed."""
        replayed = []
        with self.connection.channel() as channel, closing(self._messages(channel)) as messages:
            producer = Producer(channel)
            for message in messages:
                letter = self._as_dead_letter(message)
                if event_ids is not None and letter.event_id not in event_ids:
                    continue
                headers = {k: v for k, v in letter.headers.items() if not k.startswith("x-")}
                headers["x-replayed-from"] = self.names.dead_letter_queue
                producer.publish(message.body, exchange="", routing_key=self.names.queue, headers=headers,
                                 content_type=message.content_type or "application/json",
                                 content_encoding=message.content_encoding or "utf-8",
                                 message_id=letter.event_id, type=letter.event_type,
                                 correlation_id=message.properties.get("correlation_id"),
                                 delivery_mode=2, retry=False)
                message.ack()
                replayed.append(letter.event_id)
                if event_ids is not None and len(replayed) == len(event_ids):
                    break  # found them all; the rest go back untouched
        return replayed


def _decode(body: bytes):
    try:
        return json.loads(body)
    except ValueError:  # a malformed message is exactly what may end up here
        return body.decode("utf-8", errors="replace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deadletters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list")
    listing.add_argument("--limit", type=int, default=None, help="list at most N (a page)")
    listing.add_argument("--skip", type=int, default=0, help="start after the first N (the next page)")
    show = sub.add_parser("show")
    show.add_argument("event_id")
    replay = sub.add_parser("replay")
    group = replay.add_mutually_exclusive_group(required=True)
    group.add_argument("event_id", nargs="?")
    group.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)

    dlq = DeadLetterQueue(Settings.from_env(args.service))
    if args.command == "list":
        count = 0
        for count, letter in enumerate(dlq.letters(args.limit, args.skip), start=1):
            print(json.dumps(letter.summary(), default=str, ensure_ascii=False), flush=True)
        print(f"{count} dead letter(s) listed from {dlq.names.dead_letter_queue}", file=sys.stderr)
        return 0
    if args.command == "show":
        letter = dlq.find(args.event_id)
        if letter is None:
            print(f"no dead letter {args.event_id}", file=sys.stderr)
            return 1
        print(json.dumps({**letter.summary(), "headers": letter.headers,
                          "body": _decode(letter.body)}, default=str, ensure_ascii=False, indent=2))
        return 0
    replayed = dlq.replay(None if args.all else {args.event_id})
    for event_id in replayed:
        print(f"replayed {event_id}")
    print(f"{len(replayed)} replayed to {dlq.names.queue}", file=sys.stderr)
    return 0 if replayed or args.all else 1


if __name__ == "__main__":
    sys.exit(main())
