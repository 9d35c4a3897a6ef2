"""python -m shared.replay --to documents --from registration [--timeout 30]: ask for a
replay and follow its progress until the requester reports what it applied."""
from __future__ import annotations

import argparse
import json
import sys
import uuid

import pika
import pika.exceptions

from shared.config import Settings

from .events import SERVICE_NAME, request_queue, service_queue


class Command:
    def __init__(self, settings: Settings, out=sys.stdout, err=sys.stderr):
        self.settings, self.out, self.err = settings, out, err

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def fail(self, text: str) -> int:
        print(f"replay failed: {text}", file=self.err, flush=True)
        return 1

    def run(self, source: str, to: str, timeout: float) -> int:
        prefix = self.settings.amqp_prefix
        try:
            connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
        except pika.exceptions.AMQPError as exc:
            return self.fail(f"cannot reach RabbitMQ ({exc!r})")
        try:
            target, requests = service_queue(prefix, to), request_queue(prefix, source)
            if consumers(connection, target) is None:
                return self.fail(f"{to} has no queue {target} yet: start its consumer once (it declares the "
                                 f"queue), then ask for the replay")
            serving = consumers(connection, requests)
            if serving is None:
                return self.fail(f"{source} is not serving replays under AMQP_PREFIX={prefix} (no queue "
                                 f"{requests}): is its consumer process running? Nothing was replayed.")
            channel = connection.channel()
            reply_to = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
            request_id = str(uuid.uuid4())
            channel.confirm_delivery()
            channel.basic_publish("", requests, json.dumps({"request_id": request_id, "to": to}).encode(),
                                  pika.BasicProperties(reply_to=reply_to, correlation_id=request_id,
                                                       content_type="application/json",
                                                       expiration=str(int(timeout * 1000))), mandatory=True)
            self.say(f"replay {request_id}: asked {source} to replay its current state to {to}")
            return self._follow(channel, reply_to, request_id, source, to, timeout, serving)
        finally:
            if connection.is_open:
                connection.close()

    def _follow(self, channel, reply_to, request_id, source, to, timeout, serving) -> int:
        stage, served, total = "requested", 0, 0
        for method, _, body in channel.consume(reply_to, auto_ack=True, inactivity_timeout=timeout):
            if method is None:
                return self.fail(self._silence(stage, source, to, timeout, served, total, serving))
            try:
                message = json.loads(body)
            except ValueError:
                continue
            if not isinstance(message, dict) or message.get("request_id") != request_id:
                continue
            stage = message.get("stage")
            served, total = message.get("served", served), message.get("total", total)
            if stage == "started":
                self.say(f"{source}: {total} to replay")
            elif stage == "served":
                self.say(f"{source}: served {served} of {total}")
            elif stage == "sent":
                self.say(f"{source}: all {served} sent to {to}; waiting for {to} to apply them")
            elif stage == "failed":
                return self.fail(f"{source} could not replay: {message.get('error')}")
            elif stage == "applied":
                applied = message.get("applied", 0)
                self.say(f"{to}: applied {applied} of {served} ({served - applied} already known, "
                         f"or older than what {to} had)")
                self.say("done")
                return 0
        return self.fail("the broker closed the reply queue")

    @staticmethod
    def _silence(stage, source, to, timeout, served, total, serving) -> str:
        if stage == "requested":
            return (f"{source} did not answer within {timeout:g} s ({serving} replay server(s) on its queue): "
                    f"is its consumer process running? The request expires unserved; nothing was replayed.")
        if stage in ("started", "served"):
            return (f"{source} stopped answering after sending {served} of {total}: run the replay again "
                    f"(safe: what {to} already applied is skipped).")
        return (f"{to} did not confirm within {timeout:g} s that it applied the replay: is its consumer "
                f"running? The events wait in its queue and apply when it runs.")


def consumers(connection, queue: str) -> int | None:
    """How many consume from `queue`; None when it does not exist."""
    channel = connection.channel()
    try:
        return channel.queue_declare(queue, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            return None
        raise
    finally:
        if channel.is_open:
            channel.close()


def main(argv: list[str] | None = None, settings: Settings | None = None, out=None, err=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.replay",
                                     description="Ask a service to replay its current state, as events, "
                                                 "to one other service's queue (safe to run twice).")
    parser.add_argument("--to", required=True, help="the service that learns (its queue gets the events)")
    parser.add_argument("--from", dest="source", required=True, help="the service whose state is replayed")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds without progress before giving up (default 30)")
    args = parser.parse_args(argv)
    for name in (args.to, args.source):
        if not SERVICE_NAME.match(name):
            parser.error(f"not a service name: {name!r}")
    if args.to == args.source:
        parser.error("a service does not replay to itself")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    settings = settings or Settings.from_env("replay")
    return Command(settings, out or sys.stdout, err or sys.stderr).run(args.source, args.to, args.timeout)
