"""python -m services.documents.consumer: the events the documents service acts on.

Its own events are not among them: a document's history is written by the transaction
that changes the document (transaction.py). The process also sweeps stored content no
committed record keeps, every DOCUMENT_SWEEP_INTERVAL_SECONDS (storage.Sweeper).
"""
from shared.config import Settings
from shared.consumer import EventConsumer

from . import bootstrap, domain, projections
from .config import DocumentsConfig
from .storage import GridFSContent, Sweeper

consumer = EventConsumer(bootstrap.SERVICE)
consumer.handles(domain.MIGRANT_REGISTERED)(projections.add_owner)
for pattern in domain.CASE_EVENTS:
    consumer.handles(pattern)(projections.track_case)


def unit_of_work_and_sweeper(settings: Settings):
    uow = bootstrap.unit_of_work(settings)
    Sweeper(GridFSContent(uow.db), DocumentsConfig.from_env().sweep_interval).start()
    return uow


if __name__ == "__main__":
    consumer.main(unit_of_work_and_sweeper)
