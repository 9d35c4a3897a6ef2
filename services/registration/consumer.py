"""python -m services.registration.consumer: the events the registration service acts on.

None yet: a migrant's history is written in the transaction that changes the record
(service.py), not by consuming registration's own events back from the broker. The
process serves replays of the registry to services that ask (replay.py, shared/replay/).
"""
from shared.consumer import EventConsumer
from shared.replay import Replays

from . import bootstrap, replay

consumer = EventConsumer(bootstrap.SERVICE)
replays = Replays(consumer, sources=[replay.MIGRANTS_SOURCE])


def start(settings):
    """The unit of work the consumer runs with; replays are served beside it."""
    uow = bootstrap.unit_of_work(settings)
    replays.start(settings, uow.db)
    return uow


if __name__ == "__main__":
    consumer.main(start)
