"""Wiring: settings -> MongoDB -> repositories, unit of work and service. Used by every entry
point of the case-status service (API, consumer), so they all agree."""
from __future__ import annotations

from shared import mongo
from shared.audit import AuditTrail
from shared.config import Settings
from shared.uow import MongoUnitOfWork

from . import repository
from .repository import CaseStatusTx, Reads
from .service import CaseStatusService

SERVICE = "casestatus"


def unit_of_work(settings: Settings) -> MongoUnitOfWork:
    db = mongo.database(settings)
    prepare_database(db)
    return MongoUnitOfWork(db, SERVICE, CaseStatusTx)


def prepare_database(db) -> None:
    mongo.prepare(db, [repository.ensure_indexes])


def build(settings: Settings) -> CaseStatusService:
    uow = unit_of_work(settings)
    return CaseStatusService(uow, Reads(uow.db), AuditTrail(uow.db))
