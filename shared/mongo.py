"""One MongoDB client per process, from MONGO_URI; every service uses only its own database."""
from __future__ import annotations

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import AutoReconnect, ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError

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
