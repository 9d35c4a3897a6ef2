"""Wiring: settings -> MongoDB -> repositories, unit of work, passwords, token issuer and
service. Used by every entry point of the identity service, so they all agree. The first
start makes the first signing keys."""
from __future__ import annotations

from shared import mongo, sms
from shared.config import Settings
from shared.uow import MongoUnitOfWork

from . import otp_repository
from .config import IdentityConfig
from .otp_service import OtpService
from .passwords import Passwords
from .repository import IdentityTx, Reads, ensure_indexes
from .service import IdentityService
from .tokens import TokenIssuer

SERVICE = "identity"


def unit_of_work(settings: Settings) -> MongoUnitOfWork:
    db = mongo.database(settings)
    prepare_database(db)
    return MongoUnitOfWork(db, SERVICE, IdentityTx)


def prepare_database(db) -> None:
    mongo.prepare(db, [ensure_indexes, otp_repository.ensure_indexes])


def build(settings: Settings, config: IdentityConfig | None = None) -> IdentityService:
    config = config or IdentityConfig.from_env()
    if config.access_ttl_seconds > settings.jwt_max_ttl_seconds:  # tokens every service would refuse
        raise ValueError(f"IDENTITY_ACCESS_TTL_SECONDS ({config.access_ttl_seconds}) exceeds JWT_MAX_TTL_SECONDS "
                         f"({settings.jwt_max_ttl_seconds})")
    uow = unit_of_work(settings)
    service = IdentityService(uow, Reads(uow.db), Passwords(config), None, config)
    # The issuer reads the service's clock, so one clock decides lockouts and token times.
    service.issuer = TokenIssuer(settings, config, clock=lambda: service.clock())
    service.ensure_keys()
    # One-time codes by SMS (otp package): SMS_ADAPTER and its settings (shared/sms.py).
    service.otp = OtpService(uow, sms.from_settings(), service.issuer, clock=lambda: service.clock())
    return service
