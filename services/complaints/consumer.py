"""python -m services.complaints.consumer: the events the complaints service acts on.

- registration.migrant.registered / updated: which migrants exist (intake needs one);
- documents.document.*: whose each document is (evidence is the complainant's own);
- claims.claim.submitted: which claims exist and whose (linking a complaint to a claim).

What existed before its queue did, it learns from registration's and documents' replays
(replay.py, shared/replay/).
"""
from shared.config import Settings
from shared.consumer import EventConsumer
from shared.replay import Replays

from . import bootstrap, projections, replay

consumer = EventConsumer(bootstrap.SERVICE)
consumer.handles("registration.migrant.registered")(projections.migrant_registered)
consumer.handles("registration.migrant.updated")(projections.migrant_updated)
# Each live type by name: "documents.document.*" would also take the replay's snapshots.
for event_type in projections.DOCUMENT_EVENTS:
    consumer.handles(event_type)(projections.document_changed)
consumer.handles("claims.claim.submitted")(projections.claim_submitted)
replays = Replays(consumer)
replays.learn(replay.MIGRANT_SNAPSHOT, replay.learn_migrant)
replays.learn(replay.DOCUMENT_SNAPSHOT, replay.learn_document)


def start(settings: Settings):
    """The unit of work, and the answers to the end markers of the replays it asks for."""
    uow = bootstrap.unit_of_work(settings)
    replays.start(settings, uow.db)
    return uow


if __name__ == "__main__":
    consumer.main(start)
