"""Dead letters: list, show and replay what a service's consumer gave up on.

    python -m shared.deadletters --service registration list
    python -m shared.deadletters --service registration show EVENT_ID
    python -m shared.deadletters --service registration replay EVENT_ID | --all

Listing reads the messages without acking and then gives them back, so it changes
nothing. Replay puts a message back on the service's queue with its attempt count
reset, and removes it from the dead-letter queue only after the broker confirmed it.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from kombu import Connection, Producer, Queue

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
                **{k: self.headers.get(k) for k in _ERROR_HEADERS}}


class DeadLetterQueue:
    def __init__(self, settings: Settings):
        self.names = topology.Names(settings.amqp_prefix, settings.service)
        self.connection = Connection(settings.amqp_url, transport_options={"confirm_publish": True})

    def _fetch_all(self, channel) -> list:
        """Every message in the queue, unacked: they return to the queue when the channel closes."""
        queue = Queue(self.names.dead_letter_queue, durable=True)(channel)
        queue.declare()
        messages = []
        while (message := queue.get(no_ack=False)) is not None:
            messages.append(message)
        return messages

    @staticmethod
    def _as_dead_letter(message) -> DeadLetter:
        return DeadLetter(message.properties.get("message_id") or "?", message.properties.get("type") or "?",
                          dict(message.headers or {}), message.body)

    def list(self) -> list[DeadLetter]:
        with self.connection.channel() as channel:
            return [self._as_dead_letter(m) for m in self._fetch_all(channel)]

    def replay(self, event_ids: set[str] | None) -> list[str]:
        """Replay the given events (None: all). Returns the ids replayed."""
        replayed = []
        with self.connection.channel() as channel:
            producer = Producer(channel)
            for message in self._fetch_all(channel):
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
    sub.add_parser("list")
    show = sub.add_parser("show")
    show.add_argument("event_id")
    replay = sub.add_parser("replay")
    group = replay.add_mutually_exclusive_group(required=True)
    group.add_argument("event_id", nargs="?")
    group.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)

    dlq = DeadLetterQueue(Settings.from_env(args.service))
    if args.command == "list":
        letters = dlq.list()
        for letter in letters:
            print(json.dumps(letter.summary(), default=str, ensure_ascii=False))
        print(f"{len(letters)} dead letter(s) in {dlq.names.dead_letter_queue}", file=sys.stderr)
        return 0
    if args.command == "show":
        for letter in dlq.list():
            if letter.event_id == args.event_id:
                print(json.dumps({**letter.summary(), "headers": letter.headers,
                                  "body": _decode(letter.body)}, default=str, ensure_ascii=False, indent=2))
                return 0
        print(f"no dead letter {args.event_id}", file=sys.stderr)
        return 1
    replayed = dlq.replay(None if args.all else {args.event_id})
    for event_id in replayed:
        print(f"replayed {event_id}")
    print(f"{len(replayed)} replayed to {dlq.names.queue}", file=sys.stderr)
    return 0 if replayed or args.all else 1


if __name__ == "__main__":
    sys.exit(main())
