"""python -m services.documents.consumer: the events the documents service acts on."""
from shared.consumer import EventConsumer

from . import bootstrap, domain
from .service import DocumentsService

consumer = EventConsumer(bootstrap.SERVICE)
consumer.handles(domain.MIGRANT_REGISTERED)(DocumentsService.add_owner)
for pattern in domain.CASE_EVENTS:
    consumer.handles(pattern)(DocumentsService.track_case)
# Its own events feed each document's history (and so always have a queue to go to).
consumer.handles("documents.document.*")(DocumentsService.project_history)

if __name__ == "__main__":
    consumer.main(bootstrap.unit_of_work)
