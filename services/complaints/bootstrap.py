"""Wiring: settings -> lists, MongoDB -> repositories, unit of work and service. Used by
every entry point of the complaints service, so they all agree."""
from __future__ import annotations

from shared import mongo
from shared.audit import AuditTrail
from shared.config import Settings
from shared.uow import MongoUnitOfWork

from . import categories, due_queue, repository
from .config import ComplaintsConfig
from .repository import ComplaintsTx, Reads
from .service import ComplaintsService

SERVICE = "complaints"


def unit_of_work(settings: Settings) -> MongoUnitOfWork:
    db = mongo.database(settings)
    prepare_database(db)
    return MongoUnitOfWork(db, SERVICE, ComplaintsTx)


def prepare_database(db) -> None:
    # The scorecard package adds scorecard.ensure_indexes here.
    mongo.prepare(db, [repository.ensure_indexes, due_queue.ensure_indexes])


def build(settings: Settings, config: ComplaintsConfig | None = None) -> ComplaintsService:
    config = config or ComplaintsConfig.from_env()
    lists = categories.load(config.categories_path)  # a bad lists file stops start-up here
    db = mongo.database(settings)
    prepare_database(db)
    return ComplaintsService(MongoUnitOfWork(db, SERVICE, ComplaintsTx), Reads(db), AuditTrail(db), lists, config)
