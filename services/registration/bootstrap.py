"""Wiring: settings -> MongoDB -> repositories, unit of work and service. Used by every
entry point of the registration service, so they all agree."""
from __future__ import annotations

import logging
import time

from shared import mongo
from shared.audit import AuditTrail
from shared.config import Settings
from shared.outbox import OutboxStore
from shared.uow import MongoUnitOfWork

from .repository import HistoryRepository, MigrantRepository, RegistrationTx, ensure_indexes
from .service import RegistrationService

SERVICE = "registration"
log = logging.getLogger("probashi.registration")


def unit_of_work(settings: Settings) -> MongoUnitOfWork:
    db = mongo.database(settings)
    prepare_database(db)
    return MongoUnitOfWork(db, SERVICE, RegistrationTx)


def prepare_database(db, attempts: int = 30) -> None:
    """Indexes are the guarantee against duplicates, so nothing serves before they exist."""
    for attempt in range(1, attempts + 1):
        try:
            ensure_indexes(db)
            AuditTrail(db).ensure_indexes()
            OutboxStore(db).ensure_indexes()
            return
        except mongo.UNAVAILABLE as exc:
            if attempt == attempts:
                raise
            log.warning("database not reachable yet (%s); retrying", exc)
            time.sleep(1)


def build(settings: Settings) -> RegistrationService:
    db = mongo.database(settings)
    prepare_database(db)
    return RegistrationService(MongoUnitOfWork(db, SERVICE, RegistrationTx), MigrantRepository(db),
                               HistoryRepository(db), AuditTrail(db))
