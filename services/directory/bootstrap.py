"""Wiring: settings -> MongoDB -> repositories, unit of work and service. Used by every
entry point of the directory service (API, seed), so they all agree."""
from __future__ import annotations

from shared import mongo
from shared.config import Settings
from shared.uow import MongoUnitOfWork

from .repository import DirectoryTx, Reads, ensure_indexes
from .service import DirectoryService

SERVICE = "directory"


def unit_of_work(settings: Settings) -> MongoUnitOfWork:
    db = mongo.database(settings)
    prepare_database(db)
    return MongoUnitOfWork(db, SERVICE, DirectoryTx)


def prepare_database(db) -> None:
    mongo.prepare(db, [ensure_indexes])


def build(settings: Settings) -> DirectoryService:
    uow = unit_of_work(settings)
    return DirectoryService(uow, Reads(uow.db))
