"""python -m services.identity.consumer: the events the identity service acts on.

Identity learns which phone belongs to which migrant and which case from registration's,
claims' and complaints' events (projections.py, the one-time-code sign-in): their handlers
are registered here. Its own events are not among them: an account's change is written
with its event (changes.py).
"""
from shared.config import Settings
from shared.consumer import EventConsumer

from shared.contracts import types_matching
from shared.replay import Replays

from . import bootstrap, projections

consumer = EventConsumer(bootstrap.SERVICE)

# -- one-time codes (otp package): consumer.handles(...)(projections.<handler>) ----------
consumer.handles("registration.migrant.registered")(projections.migrant_phone)
consumer.handles("registration.migrant.updated")(projections.migrant_updated)
# Each contracted type by name, as claims does for documents' events.
for event_type in types_matching("claims.claim.*"):
    consumer.handles(event_type)(projections.claim_changed)
for event_type in types_matching("complaints.complaint.*"):
    consumer.handles(event_type)(projections.complaint_changed)
# Migrants registered before identity's queue existed: python -m shared.replay --to identity --from registration
replays = Replays(consumer)
replays.learn("registration.migrant.snapshot", projections.migrant_phone)


def start(settings: Settings):
    """The unit of work the handlers run in, and the answers to the end markers of its replays."""
    uow = bootstrap.unit_of_work(settings)
    replays.start(settings, uow.db)
    return uow


if __name__ == "__main__":
    consumer.main(start)
