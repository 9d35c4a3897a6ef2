"""One MongoDB client per process, from MONGO_URI; every service uses only its own database."""
from __future__ import annotations

import logging
import time
from typing import Callable

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import (AutoReconnect, ConnectionFailure, NetworkTimeout, PyMongoError,
                            ServerSelectionTimeoutError)

from shared.config import Settings

# Errors that mean "the database is not reachable right now", not "the request is wrong".
UNAVAILABLE = (AutoReconnect, ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError)


def connect(settings: Settings) -> MongoClient:
    return MongoClient(
        settings.mongo_uri,
        tz_aware=True,
        serverSelectionTimeoutMS=settings.db_timeout_ms,
        connectTimeoutMS=settings.db_timeout_ms,
        socketTimeoutMS=max(settings.db_timeout_ms * 4, 10000),
        appname=settings.service,
    )


def database(settings: Settings, client: MongoClient | None = None) -> Database:
    return (client or connect(settings))[settings.database]


def ping(db: Database) -> None:
    db.command("ping")


def prepare(db: Database, steps: list[Callable[[Database], None]], attempts: int = 30) -> None:
    """Run a service's start-up steps (indexes first: they are what guarantees uniqueness,
    so nothing serves before they exist), waiting for a database that is still starting.
    The outbox and audit trail every service database holds get their indexes here too."""
    from shared.audit import AuditTrail  # they build on this module's connection helpers
    from shared.outbox import OutboxStore

    shared_steps = [lambda d: OutboxStore(d).ensure_indexes(), lambda d: AuditTrail(d).ensure_indexes()]
    for attempt in range(1, attempts + 1):
        try:
            for step in [*shared_steps, *steps]:
                step(db)
            return
        except UNAVAILABLE as exc:
            if attempt == attempts:
                raise
            logging.getLogger("probashi.mongo").warning("database not reachable yet (%s); retrying", exc)
            time.sleep(1)


def unavailable(exc: BaseException) -> bool:
    """The database is unreachable or the transaction lost a conflict: worth waiting for.
    Anything else (a write the server refused, a document it cannot store) fails again."""
    return isinstance(exc, PyMongoError) and (
        isinstance(exc, UNAVAILABLE) or exc.has_error_label("TransientTransactionError"))
