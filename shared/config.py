"""Settings read from the environment, the only way any process is configured.

Swapping SecantusDB for a real MongoDB replica set, or one broker for another, is a
change of MONGO_URI / AMQP_URL and nothing else.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_JWT_SECRET = "dev-only-insecure-secret-change-me"


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    service: str
    mongo_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_db: str = ""
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    # Every exchange and queue name starts with this, so tests and a running
    # `make run` never share topology on one broker.
    amqp_prefix: str = "probashi"
    environment: str = "development"
    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_issuer: str = "probashi"
    jwt_ttl_seconds: int = 8 * 3600
    # Delay before retry 1, 2, 3 ...; one attempt more than delays, then the dead-letter queue.
    retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)
    relay_batch_size: int = 500
    relay_poll_interval: float = 0.05
    relay_lease_seconds: float = 10.0
    db_timeout_ms: int = 3000
    log_level: str = "INFO"
    # -- outbox relay (hardening) --
    # A commit wakes the relay (change stream on the outbox); polling is only the sweeper
    # then, for events whose retry delay ran out. Without change streams it polls at
    # relay_poll_interval.
    relay_sweep_interval: float = 2.0
    # Failed publishes (nacked, unroutable) before an event is parked as failed: listed,
    # counted and requeued with `python -m shared.outbox` (make outbox).
    relay_max_attempts: int = 10
    relay_max_backoff_seconds: float = 60.0
    extra: dict = field(default_factory=dict)

    @property
    def database(self) -> str:
        return self.mongo_db or f"probashi_{self.service}"

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, service: str, env: dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        d = cls(service=service)
        return cls(
            service=service,
            mongo_uri=env.get("MONGO_URI", d.mongo_uri),
            mongo_db=env.get("MONGO_DB", d.mongo_db),
            amqp_url=env.get("AMQP_URL", d.amqp_url),
            amqp_prefix=env.get("AMQP_PREFIX", d.amqp_prefix),
            environment=env.get("PROBASHI_ENV", d.environment),
            jwt_secret=env.get("JWT_SECRET", d.jwt_secret),
            jwt_issuer=env.get("JWT_ISSUER", d.jwt_issuer),
            jwt_ttl_seconds=int(env.get("JWT_TTL_SECONDS", d.jwt_ttl_seconds)),
            retry_delays_ms=_ints(env["RETRY_DELAYS_MS"]) if env.get("RETRY_DELAYS_MS") else d.retry_delays_ms,
            relay_batch_size=int(env.get("RELAY_BATCH_SIZE", d.relay_batch_size)),
            relay_poll_interval=float(env.get("RELAY_POLL_INTERVAL", d.relay_poll_interval)),
            relay_lease_seconds=float(env.get("RELAY_LEASE_SECONDS", d.relay_lease_seconds)),
            db_timeout_ms=int(env.get("DB_TIMEOUT_MS", d.db_timeout_ms)),
            log_level=env.get("LOG_LEVEL", d.log_level),
            # -- outbox relay (hardening) --
            relay_sweep_interval=float(env.get("RELAY_SWEEP_INTERVAL", d.relay_sweep_interval)),
            relay_max_attempts=int(env.get("RELAY_MAX_ATTEMPTS", d.relay_max_attempts)),
            relay_max_backoff_seconds=float(env.get("RELAY_MAX_BACKOFF_SECONDS", d.relay_max_backoff_seconds)),
        )

    def check_production_safety(self) -> None:
        """Refuse to run in production with a missing or default signing key."""
        if self.production and (not self.jwt_secret or self.jwt_secret == DEFAULT_JWT_SECRET or len(self.jwt_secret) < 32):
            raise RuntimeError(
                "PROBASHI_ENV=production needs JWT_SECRET set to a private value of at least 32 characters"
            )
