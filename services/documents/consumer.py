"""python -m services.documents.consumer: the events the documents service acts on.

Its own events are not among them: a document's history is written by the transaction
that changes the document (transaction.py). At start the process removes the binding
an earlier version used to read them back, and from then on it also sweeps stored
content no committed record keeps, every DOCUMENT_SWEEP_INTERVAL_SECONDS (storage.Sweeper).
It serves replays of the vault's documents, and learns from registration's replay the
migrants registered before its queue existed (replay.py, shared/replay/).
"""
import logging

from kombu import Connection

from shared import topology
from shared.config import Settings
from shared.consumer import EventConsumer
from shared.replay import Replays

from . import bootstrap, domain, projections, replay
from .config import DocumentsConfig
from .storage import GridFSContent, Sweeper

RETIRED_BINDINGS = ("documents.document.*",)

consumer = EventConsumer(bootstrap.SERVICE)
consumer.handles(domain.MIGRANT_REGISTERED)(projections.add_owner)
for pattern in domain.CASE_EVENTS:
    consumer.handles(pattern)(projections.track_case)
replays = Replays(consumer, sources=[replay.DOCUMENTS_SOURCE])
replays.learn(replay.MIGRANT_SNAPSHOT, replay.learn_owner)


def retire_bindings(settings: Settings) -> None:
    """A durable queue keeps the bindings of earlier versions; events routed by one that no
    handler takes would only be dead-lettered."""
    names = topology.Names(settings.amqp_prefix, bootstrap.SERVICE)
    with Connection(settings.amqp_url, connect_timeout=5) as connection:
        for routing_key in RETIRED_BINDINGS:
            try:
                connection.default_channel.queue_unbind(queue=names.queue, exchange=names.exchange,
                                                        routing_key=routing_key)
            except connection.channel_errors:  # no queue or exchange yet: nothing to retire
                logging.getLogger("probashi.documents").debug("no binding %s to retire", routing_key)
                return


def start(settings: Settings):
    """Everything the consumer process does besides consuming; returns its unit of work."""
    retire_bindings(settings)
    uow = bootstrap.unit_of_work(settings)
    Sweeper(GridFSContent(uow.db), DocumentsConfig.from_env().sweep_interval).start()
    replays.start(settings, uow.db)
    return uow


if __name__ == "__main__":
    consumer.main(start)
