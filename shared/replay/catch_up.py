"""python -m shared.replay.catch_up --to casestatus --from registration --from documents ...

A service's first start on a system that already has data: ask each source, in the order
given, for the replay the service has not applied yet, printing each one's progress (the
command's, shared/replay/command.py). What "applied" means is the requester's own record:
its `replays` collection has a completed row per replay it handled the end marker of, so a
catch-up that was interrupted (or a source that was down) is asked again at the next start,
and one that finished is never asked again. It waits for the requester's and each source's
consumer to consume first (they declare their queues at start), so it can run beside them
(`make run` does, in a thread; docker-compose as a one-shot container).
"""
from __future__ import annotations

import argparse
import sys
import time

import pika
import pika.exceptions
import pymongo

from shared.config import Settings

from .command import Command, consumers
from .events import REPLAYS, SERVICE_NAME, request_queue, service_queue

QUEUE_WAIT_SECONDS = 60.0


def applied_sources(settings: Settings) -> set[str]:
    """The sources whose replay the service (settings.service) has applied, by its own record."""
    with pymongo.MongoClient(settings.mongo_uri, serverSelectionTimeoutMS=settings.db_timeout_ms) as client:
        found = client[settings.database][REPLAYS].distinct("source", {"completed_at": {"$exists": True}})
    return set(found)


def consuming(amqp_url: str, queues: list[str]) -> bool:
    """Every one of `queues` exists and has a consumer."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    except (pika.exceptions.AMQPError, OSError):
        return False
    try:
        return all(consumers(connection, queue) for queue in queues)
    finally:
        if connection.is_open:
            connection.close()


def catch_up(settings: Settings, sources: list[str], out=sys.stdout, wait_seconds: float = QUEUE_WAIT_SECONDS,
             timeout: float = 60.0) -> int:
    """0 when every source's replay is applied (now or before), else 1 with the reason said."""
    def say(text: str) -> None:
        print(text, file=out, flush=True)

    target, prefix = settings.service, settings.amqp_prefix
    todo = [source for source in sources if source not in applied_sources(settings)]
    if not todo:
        say(f"{target} has applied the replays of {', '.join(sources)} already: nothing to catch up")
        return 0
    say(f"{target}: catching up from {', '.join(todo)} (one by hand: make replay ARGS='--to {target} --from SOURCE')")
    for source in todo:
        queues = [service_queue(prefix, target), request_queue(prefix, source)]
        deadline = time.monotonic() + wait_seconds
        while not consuming(settings.amqp_url, queues):
            if time.monotonic() > deadline:
                say(f"{source}'s or {target}'s consumer is not consuming after {wait_seconds:g} s: catch-up stopped; "
                    "what is not applied is asked for at the next start")
                return 1
            time.sleep(1)
        if Command(settings, out, out).run(source, target, timeout) != 0:
            say("catch-up stopped; what is not applied is asked for at the next start")
            return 1
    say(f"{target} caught up: it knows what happened before it started")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.replay.catch_up",
                                     description="Ask each source once for its replay to a service (first start).")
    parser.add_argument("--to", required=True, help="the service that learns")
    parser.add_argument("--from", dest="sources", action="append", required=True,
                        help="a source, in order (repeat for each)")
    parser.add_argument("--wait", type=float, default=QUEUE_WAIT_SECONDS,
                        help="seconds to wait for the consumers' queues (default 60)")
    args = parser.parse_args(argv)
    for name in (args.to, *args.sources):
        if not SERVICE_NAME.match(name):
            parser.error(f"not a service name: {name!r}")
    if args.to in args.sources:
        parser.error("a service does not replay to itself")
    return catch_up(Settings.from_env(args.to), args.sources, wait_seconds=args.wait)


if __name__ == "__main__":
    sys.exit(main())
