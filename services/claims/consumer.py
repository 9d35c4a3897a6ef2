"""python -m services.claims.consumer: the events the claims service acts on.

- registration.migrant.*: which migrants exist, how to reach them, their WEWB membership
  and recorded steps (eligibility);
- documents.document.*: the state of each migrant's documents, which ticks the checklist
  of their open claims (projections.py).

Its own events are not among them: a claim's history is written by the transaction that
changes the claim (changes.py). What existed before its queue did, it learns from
registration's and documents' replays; it serves replays of its claims to services that
start late, such as identity (replay.py, shared/replay/).
"""
from shared.consumer import EventConsumer
from shared.replay import Replays

from . import bootstrap, projections, replay

consumer = EventConsumer(bootstrap.SERVICE)
consumer.handles("registration.migrant.registered")(projections.migrant_registered)
consumer.handles("registration.migrant.updated")(projections.migrant_updated)
consumer.handles("registration.migrant.membership_activated")(projections.membership_activated)
consumer.handles("registration.migrant.step_recorded")(projections.step_recorded)
# Each live type by name: "documents.document.*" would also take the replay's snapshots.
for event_type in projections.DOCUMENT_EVENTS:
    consumer.handles(event_type)(projections.document_changed)
replays = Replays(consumer, sources=[replay.CLAIMS_SOURCE])
replays.learn(replay.MIGRANT_SNAPSHOT, replay.learn_migrant)
replays.learn(replay.DOCUMENT_SNAPSHOT, replay.learn_document)
# The process's start: the unit of work, and the answers to the end markers of the replays it asks for.
start = replays.starting(bootstrap.unit_of_work)


if __name__ == "__main__":
    consumer.main(start)
