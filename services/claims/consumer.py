"""python -m services.claims.consumer: the events the claims service acts on.

- registration.migrant.*: which migrants exist, how to reach them, their WEWB membership
  and recorded steps (eligibility);
- documents.document.*: the state of each migrant's documents, which ticks the checklist
  of their open claims (projections.py).

Its own events are not among them: a claim's history is written by the transaction that
changes the claim (changes.py).
"""
from shared.consumer import EventConsumer

from . import bootstrap, projections

consumer = EventConsumer(bootstrap.SERVICE)
consumer.handles("registration.migrant.registered")(projections.migrant_registered)
consumer.handles("registration.migrant.updated")(projections.migrant_updated)
consumer.handles("registration.migrant.membership_activated")(projections.membership_activated)
consumer.handles("registration.migrant.step_recorded")(projections.step_recorded)
consumer.handles("documents.document.*")(projections.document_changed)

if __name__ == "__main__":
    consumer.main(bootstrap.unit_of_work)
