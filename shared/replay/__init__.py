"""Replays: a service that starts late asks another for its current state, as events.

    python -m shared.replay --to documents --from registration [--timeout 30]
    make replay ARGS="--to documents --from registration"

Live events reach only the queues bound when they were published, so a service whose
queue is created later (documents before it learnt of migrants, claims) never sees what
happened before. A replay sends it the source's *current state*, once, as events:

- Everything travels over RabbitMQ; nobody reads another service's database. The command
  puts a request on the source's request queue `{prefix}.{source}.replay` (default
  exchange), with `reply_to` = a private queue of its own for progress. The source's
  consumer process (a thread, ReplayServer) serves it and publishes each event through
  the default exchange straight to the requester's own queue `{prefix}.{to}`: never to
  the events exchange, so no other subscriber receives old events (a notification
  service will not send old SMS), and a handler cannot mistake them for news.
- One snapshot event per aggregate, of a distinct type `<service>.<aggregate>.snapshot`
  with its own contract (shared/contracts.py): the aggregate as it stands now, at its
  current `aggregate_version`. Not a re-sent `registered`: that says something happened
  (a welcome SMS), and it cannot carry later changes, steps or membership; re-creating
  each past event would need actors and moments the source no longer keeps. Replayed
  messages are marked: their type (`.snapshot`), an `x-replay` header and their
  correlation id (both the request id), so handlers and log lines tell them apart.
- The requester learns them only through handlers registered with `Replays.learn`
  (one line per source); those are not bound to the events exchange. Any other
  `*.snapshot` is acknowledged and ignored, not dead-lettered.
- Safe to run twice and against live traffic, through the consumer's inbox and
  per-aggregate high-water mark (shared/inbox.py): a snapshot's event id is derived from
  (type, aggregate, version), so the same state replayed again is the same event and is
  skipped as a duplicate; a snapshot older than a live event already applied is skipped
  as superseded; a live event newer than the snapshot still applies after it. A snapshot
  at the same version as a live event carries the same state, so applying both is harmless.
- Reliable without the outbox (a replay is a read, not a change): the source reads its
  collection in pages by `_id` (PAGE_SIZE at a time, never all of it in memory) and
  publishes each event mandatory and confirmed; a queue that is missing (returned) or a
  refusal (nack) stops the replay and is reported to the command. The request is acked
  only after the last event and the end marker were confirmed, so if the source's
  connection drops half way, the request goes back to the queue and is served again
  from the start (harmless, as above) by the reconnected server or another instance.
  The request queue lives while a server consumes it (auto-delete, so stopped services
  and tests leave none behind): with no source running the command says so at once;
  a request nobody takes expires (per-message TTL = the command's timeout).
- Progress: the source reports `started` (how many), `served` after each page and
  `sent`; its last message to the requester's queue is an end marker (`replay.completed`).
  The requester handles the marker after every replayed event before it (one queue, in
  order), and replies how many it applied (counted in its `replays` collection, in the
  transactions that applied them); the rest were already known or superseded. The
  command exits 0 then, and non-zero with a message saying which side did not answer
  within `--timeout` seconds of the last progress, or what failed.
"""
from .command import Command, consumers, main
from .events import (COMPLETED, HEADER, PAGE_SIZE, REPLAYS, REQUEST_QUEUE, SERVICE_NAME, SNAPSHOTS, BadRequest,
                     Request, Snapshot, Source, completed_event, request_queue, service_queue, snapshot_event,
                     snapshot_id)
from .learning import Replays
from .server import MongoStateReader, PikaPublisher, Publisher, ReplayFailed, ReplayServer, StateReader, serve

__all__ = ["COMPLETED", "HEADER", "PAGE_SIZE", "REPLAYS", "REQUEST_QUEUE", "SERVICE_NAME", "SNAPSHOTS", "BadRequest",
           "Command", "MongoStateReader", "PikaPublisher", "Publisher", "Replays", "ReplayFailed", "ReplayServer",
           "Request", "Snapshot", "Source", "StateReader", "completed_event", "consumers", "main", "request_queue",
           "serve", "service_queue", "snapshot_event", "snapshot_id"]
