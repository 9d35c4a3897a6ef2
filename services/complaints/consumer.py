"""python -m services.complaints.consumer: the events the complaints service acts on.

- registration.migrant.registered / updated: which migrants exist (intake needs one);
- documents.document.*: whose each document is (evidence is the complainant's own);
- claims.claim.submitted: which claims exist and whose (linking a complaint to a claim);
- its own complaints.complaint.*, and registration's migrants with the licence of the agency
  that sent them: the recruiting-agency scorecard (scorecard.py), a projection.

What existed before its queue did, it learns from registration's and documents' replays;
it serves replays of its complaints to services that start late, such as identity
(replay.py, shared/replay/).
"""
from shared.consumer import EventConsumer
from shared.replay import Replays

from . import bootstrap, projections, replay, scorecard

consumer = EventConsumer(bootstrap.SERVICE)


def both(*handlers):
    """One handler per event type: the migrants projection, then the scorecard's workers."""
    def apply(event, tx) -> None:
        for handler in handlers:
            handler(event, tx)
    return apply


consumer.handles("registration.migrant.registered")(both(projections.migrant_registered,
                                                          scorecard.worker_registered))
consumer.handles("registration.migrant.updated")(both(projections.migrant_updated, scorecard.worker_updated))
# Each live type by name: "documents.document.*" would also take the replay's snapshots.
for event_type in projections.DOCUMENT_EVENTS:
    consumer.handles(event_type)(projections.document_changed)
consumer.handles("claims.claim.submitted")(projections.claim_submitted)
# Its own events, each type by name, for the recruiting-agency scorecard (a projection).
for event_type in scorecard.COMPLAINT_EVENTS:
    consumer.handles(event_type)(scorecard.complaint_changed)
replays = Replays(consumer, sources=[replay.COMPLAINTS_SOURCE])
replays.learn(replay.MIGRANT_SNAPSHOT, both(replay.learn_migrant, scorecard.worker_snapshot))
replays.learn(replay.DOCUMENT_SNAPSHOT, replay.learn_document)
# The process's start: the unit of work, and the answers to the end markers of the replays it asks for.
start = replays.starting(bootstrap.unit_of_work)


if __name__ == "__main__":
    consumer.main(start)
