"""python -m services.registration.consumer: the events the registration service acts on.

None yet: a migrant's history is written in the transaction that changes the record
(service.py), not by consuming registration's own events back from the broker.
"""
from shared.consumer import EventConsumer

from . import bootstrap

consumer = EventConsumer(bootstrap.SERVICE)

if __name__ == "__main__":
    consumer.main(bootstrap.unit_of_work)
