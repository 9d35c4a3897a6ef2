"""Wiring: settings -> MongoDB -> repositories, content store, unit of work -> Ports,
what every use case works with. Used by every entry point of the documents service,
so they all agree."""
from __future__ import annotations

from shared import mongo
from shared.audit import AuditTrail
from shared.config import Settings
from shared.uow import MongoUnitOfWork

from .config import DocumentsConfig
from .ports import Ports
from .repository import DocumentsTx, Reads, ensure_indexes
from .storage import GridFSContent

SERVICE = "documents"


def unit_of_work(settings: Settings) -> MongoUnitOfWork:
    db = mongo.database(settings)
    prepare_database(db)
    return MongoUnitOfWork(db, SERVICE, DocumentsTx)


def prepare_database(db) -> None:
    """Also sweeps content left behind by an upload or deletion that did not finish."""
    mongo.prepare(db, [ensure_indexes, lambda d: GridFSContent(d).sweep()])


def build(settings: Settings, config: DocumentsConfig | None = None) -> Ports:
    db = mongo.database(settings)
    prepare_database(db)
    return Ports(MongoUnitOfWork(db, SERVICE, DocumentsTx), Reads(db), GridFSContent(db), AuditTrail(db),
                 config=config or DocumentsConfig.from_env())
