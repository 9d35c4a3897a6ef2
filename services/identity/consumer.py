"""python -m services.identity.consumer: the events the identity service acts on.

Identity learns which phone belongs to which migrant and which case from registration's,
claims' and complaints' events (projections.py, the one-time-code sign-in), and what
existed before its queue did from their replays (shared/replay/): their handlers are
registered here. Its own events are not among them: an account's change is written
with its event (changes.py).
"""
from shared.consumer import EventConsumer
from shared.contracts import live_types_matching
from shared.replay import Replays

from . import bootstrap, projections

consumer = EventConsumer(bootstrap.SERVICE)


# -- one-time codes (otp package): consumer.handles(...)(projections.<handler>) ----------
consumer.handles("registration.migrant.registered")(projections.migrant_phone)
consumer.handles("registration.migrant.updated")(projections.migrant_updated)
# Each contracted live type by name, as claims does for documents' events; the snapshots
# are replayed straight to the queue, never bound (below).
for event_type in live_types_matching("claims.claim.*"):
    consumer.handles(event_type)(projections.claim_changed)
for event_type in live_types_matching("complaints.complaint.*"):
    consumer.handles(event_type)(projections.complaint_changed)
# What existed before identity's queue did, through the same projections as the live events:
#   python -m shared.replay --to identity --from registration   (migrants' own phones)
#   python -m shared.replay --to identity --from claims         (claimants' phones)
#   python -m shared.replay --to identity --from complaints     (complainants' phones)
replays = Replays(consumer)
replays.learn("registration.migrant.snapshot", projections.migrant_phone)
replays.learn(projections.CLAIM_SNAPSHOT, projections.claim_changed)
replays.learn(projections.COMPLAINT_SNAPSHOT, projections.complaint_changed)
# The process's start: the unit of work, and the answers to the end markers of its replays.
start = replays.starting(bootstrap.unit_of_work)


if __name__ == "__main__":
    consumer.main(start)
