"""python -m services.identity.consumer: the events the identity service acts on.

Identity learns which phone belongs to which migrant and which case from registration's,
claims' and complaints' events (projections.py, the one-time-code sign-in): their handlers
are registered here. Its own events are not among them: an account's change is written
with its event (changes.py).
"""
from shared.config import Settings
from shared.consumer import EventConsumer

from . import bootstrap

consumer = EventConsumer(bootstrap.SERVICE)

# -- one-time codes (otp package): consumer.handles(...)(projections.<handler>) ----------


def start(settings: Settings):
    """The unit of work the handlers run in."""
    return bootstrap.unit_of_work(settings)


if __name__ == "__main__":
    consumer.main(start)
