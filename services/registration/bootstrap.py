"""Wiring: settings -> MongoDB -> repositories, unit of work and service. Used by every
entry point of the registration service, so they all agree."""
from __future__ import annotations

from shared import mongo
from shared.audit import AuditTrail
from shared.config import Settings
from shared.uow import MongoUnitOfWork

from .repository import HistoryRepository, MigrantRepository, RegistrationTx, ensure_indexes
from .service import RegistrationService

SERVICE = "registration"


def unit_of_work(settings: Settings) -> MongoUnitOfWork:
    db = mongo.database(settings)
    prepare_database(db)
    return MongoUnitOfWork(db, SERVICE, RegistrationTx)


def prepare_database(db) -> None:
    mongo.prepare(db, [ensure_indexes])


def build(settings: Settings) -> RegistrationService:
    db = mongo.database(settings)
    prepare_database(db)
    return RegistrationService(MongoUnitOfWork(db, SERVICE, RegistrationTx), MigrantRepository(db),
                               HistoryRepository(db), AuditTrail(db))
