"""Wiring: settings -> MongoDB -> repositories, content store, unit of work and service.
Used by every entry point of the documents service, so they all agree."""
from __future__ import annotations

import logging
import time

from shared import mongo
from shared.audit import AuditTrail
from shared.config import Settings
from shared.outbox import OutboxStore
from shared.uow import MongoUnitOfWork

from .config import DocumentsConfig
from .repository import DocumentsTx, Reads, ensure_indexes
from .service import DocumentsService
from .storage import GridFSContent

SERVICE = "documents"
log = logging.getLogger("probashi.documents")


def unit_of_work(settings: Settings) -> MongoUnitOfWork:
    db = mongo.database(settings)
    prepare_database(db)
    return MongoUnitOfWork(db, SERVICE, DocumentsTx)


def prepare_database(db, attempts: int = 30) -> None:
    """Indexes are the guarantee that a chain never forks, so nothing serves before they
    exist; content left behind by an upload or deletion that did not finish goes here."""
    for attempt in range(1, attempts + 1):
        try:
            ensure_indexes(db)
            AuditTrail(db).ensure_indexes()
            OutboxStore(db).ensure_indexes()
            GridFSContent(db).sweep()
            return
        except mongo.UNAVAILABLE as exc:
            if attempt == attempts:
                raise
            log.warning("database not reachable yet (%s); retrying", exc)
            time.sleep(1)


def build(settings: Settings, config: DocumentsConfig | None = None) -> DocumentsService:
    db = mongo.database(settings)
    prepare_database(db)
    return DocumentsService(MongoUnitOfWork(db, SERVICE, DocumentsTx), Reads(db), GridFSContent(db), AuditTrail(db),
                            config=config or DocumentsConfig.from_env())
