"""python -m services.registration.consumer: the events the registration service acts on."""
from shared.consumer import EventConsumer

from . import bootstrap
from .service import RegistrationService

consumer = EventConsumer(bootstrap.SERVICE)
consumer.handles("registration.migrant.*")(RegistrationService.project_history)

if __name__ == "__main__":
    consumer.main(bootstrap.unit_of_work)
