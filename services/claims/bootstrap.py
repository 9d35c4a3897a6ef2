"""Wiring: settings -> catalogue, MongoDB -> repositories, unit of work and service. Used by
every entry point of the claims service, so they all agree."""
from __future__ import annotations

from shared import mongo
from shared.audit import AuditTrail
from shared.config import Settings
from shared.uow import MongoUnitOfWork

from . import catalogue, catalogue_store, reports
from .config import ClaimsConfig
from .repository import ClaimsTx, Reads, ensure_indexes
from .service import ClaimsService

SERVICE = "claims"


def unit_of_work(settings: Settings) -> MongoUnitOfWork:
    db = mongo.database(settings)
    prepare_database(db)
    return MongoUnitOfWork(db, SERVICE, ClaimsTx)


def prepare_database(db) -> None:
    mongo.prepare(db, [ensure_indexes, reports.ensure_indexes, catalogue_store.ensure_indexes])


def build(settings: Settings, config: ClaimsConfig | None = None) -> ClaimsService:
    config = config or ClaimsConfig.from_env()
    raw = catalogue.load_raw(config.catalogue_path)
    loaded = catalogue.parse(raw)  # a bad catalogue stops start-up here
    db = mongo.database(settings)
    prepare_database(db)
    uow = MongoUnitOfWork(db, SERVICE, ClaimsTx)
    service = ClaimsService(uow, Reads(db), AuditTrail(db), loaded, config)
    # The database holds the catalogue's versions; the file seeds version 1 of an empty one.
    service.catalogues = catalogue_store.CatalogueStore(uow, db, clock=service.clock, today=service.today)
    service.catalogues.seed(raw)
    return service
