"""python -m services.casestatus.consumer: the events the case-status service is fed by.

Every contracted live event of registration, documents, claims and complaints becomes an
entry on a migrant's timeline, folds into what happens next and may queue an SMS
(service.CaseStatusService.apply). Late events are applied too (apply_late): an event older
than one already applied for its case is still an entry in its place; the duplicate of an
event stops at the inbox. What happened before its queue existed comes from the other
services' replays (catch-up, no SMS):

    python -m shared.replay --to casestatus --from registration
    python -m shared.replay --to casestatus --from documents
    python -m shared.replay --to casestatus --from claims
    python -m shared.replay --to casestatus --from complaints
"""
from shared.consumer import EventConsumer
from shared.contracts import live_types_matching
from shared.replay import Replays

from . import bootstrap, catch_up
from .service import CaseStatusService

consumer = EventConsumer(bootstrap.SERVICE, apply_late=True)
service = CaseStatusService(uow=None)  # the handlers run in the consumer's unit of work


LIVE_TYPES = [event_type for pattern in ("registration.migrant.*", "documents.document.*", "claims.claim.*",
                                         "complaints.complaint.*")
              for event_type in live_types_matching(pattern)]
for event_type in LIVE_TYPES:
    consumer.handles(event_type)(service.apply)

replays = Replays(consumer)
for snapshot_type in catch_up.SNAPSHOTS:
    replays.learn(snapshot_type, service.learn_snapshot)
# The process's start: the unit of work, and the answers to the end markers of its replays.
start = replays.starting(bootstrap.unit_of_work)


if __name__ == "__main__":
    consumer.main(start)
