"""Settings read from the environment, the only way any process is configured.

Swapping SecantusDB for a real MongoDB replica set, or one broker for another, is a
change of MONGO_URI / AMQP_URL and nothing else.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A setting that cannot work; the message names the environment variable."""


def _ints(text: str, name: str = "RETRY_DELAYS_MS") -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated whole numbers of milliseconds, "
                          f"got {text!r}") from None


def _number(env, name: str, default, kind=float):
    try:
        return kind(env[name]) if env.get(name) else default
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {env[name]!r}") from None


QUEUE_TYPES = ("quorum", "classic")


def _queue_type(value: str) -> str:
    if value not in QUEUE_TYPES:
        raise ConfigError(f"AMQP_QUEUE_TYPE must be one of {', '.join(QUEUE_TYPES)}, got {value!r}")
    return value


def _delivery_limit(value: int) -> int:
    if value < 1:
        raise ConfigError(f"AMQP_DELIVERY_LIMIT must be at least 1, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    service: str
    mongo_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_db: str = ""
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    # Every exchange and queue name starts with this, so tests and a running
    # `make run` never share topology on one broker.
    amqp_prefix: str = "probashi"
    # Durable queues are quorum queues, which a RabbitMQ cluster replicates (or "classic", the
    # queues of earlier versions; moving between them: `make topology-migrate`, shared/topology.py).
    amqp_queue_type: str = "quorum"
    # Deliveries of one message that end without an ack (the consumer died or lost its
    # connection mid-handling) before the broker dead-letters it: quorum queues only.
    amqp_delivery_limit: int = 20
    environment: str = "development"
    # Tokens (shared/auth.py): a service trusts the keys of JWT_JWKS_URL and, in development
    # and tests only, the development key; with neither it refuses to start.
    jwt_issuer: str = "probashi"
    jwt_jwks_url: str = ""
    # Keys are fetched again after this; a token naming an unknown kid refetches at once
    # (at most once per 10 s), so a new key is trusted the moment it is published.
    jwt_jwks_cache_seconds: float = 300.0
    # A PEM Ed25519 private key (`make run` creates .data/dev-jwt-key.pem); refused in production.
    jwt_dev_key_file: str = ""
    jwt_ttl_seconds: int = 8 * 3600
    # Delay before retry 1, 2, 3 ...; one attempt more than delays, then the dead-letter queue.
    retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)
    relay_batch_size: int = 500
    relay_poll_interval: float = 0.05
    relay_lease_seconds: float = 10.0
    db_timeout_ms: int = 3000
    log_level: str = "INFO"
    # --- HTTP edge (wp/edge): token lifetime cap, slow request bodies ---
    # Tokens whose exp - iat exceeds this are refused, however they are signed.
    jwt_max_ttl_seconds: int = 12 * 3600
    # Seconds a request body may go without a byte arriving before the answer is 408.
    body_read_timeout: float = 10.0
    # Seconds gunicorn waits for a request line and headers once a client started sending them.
    header_read_timeout: float = 10.0
    # -- consumer (wp/consumer): deferral and inbox housekeeping, checked by check_consumer() --
    # How long an event may wait out an unavailable database before its failures spend attempts.
    defer_limit_seconds: float = 3600.0
    # Inbox rows older than this are pruned (TTL); the per-aggregate version keeps replays out.
    inbox_retention_seconds: int = 30 * 24 * 3600
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
            amqp_queue_type=_queue_type(env.get("AMQP_QUEUE_TYPE") or d.amqp_queue_type),
            amqp_delivery_limit=_delivery_limit(_number(env, "AMQP_DELIVERY_LIMIT", d.amqp_delivery_limit, int)),
            environment=env.get("PROBASHI_ENV", d.environment),
            jwt_issuer=env.get("JWT_ISSUER", d.jwt_issuer),
            jwt_jwks_url=env.get("JWT_JWKS_URL", d.jwt_jwks_url),
            jwt_jwks_cache_seconds=_number(env, "JWT_JWKS_CACHE_SECONDS", d.jwt_jwks_cache_seconds),
            jwt_dev_key_file=env.get("JWT_DEV_KEY_FILE", d.jwt_dev_key_file),
            jwt_ttl_seconds=int(env.get("JWT_TTL_SECONDS", d.jwt_ttl_seconds)),
            # -- consumer (wp/consumer) --
            retry_delays_ms=_ints(env["RETRY_DELAYS_MS"]) if env.get("RETRY_DELAYS_MS") else d.retry_delays_ms,
            defer_limit_seconds=_number(env, "DEFER_LIMIT_SECONDS", d.defer_limit_seconds),
            inbox_retention_seconds=_number(env, "INBOX_RETENTION_SECONDS", d.inbox_retention_seconds, int),
            relay_batch_size=int(env.get("RELAY_BATCH_SIZE", d.relay_batch_size)),
            relay_poll_interval=float(env.get("RELAY_POLL_INTERVAL", d.relay_poll_interval)),
            relay_lease_seconds=float(env.get("RELAY_LEASE_SECONDS", d.relay_lease_seconds)),
            db_timeout_ms=int(env.get("DB_TIMEOUT_MS", d.db_timeout_ms)),
            log_level=env.get("LOG_LEVEL", d.log_level),
            jwt_max_ttl_seconds=int(env.get("JWT_MAX_TTL_SECONDS", d.jwt_max_ttl_seconds)),
            body_read_timeout=float(env.get("BODY_READ_TIMEOUT", d.body_read_timeout)),
            header_read_timeout=float(env.get("HEADER_READ_TIMEOUT", d.header_read_timeout)),
            # -- outbox relay (hardening) --
            relay_sweep_interval=float(env.get("RELAY_SWEEP_INTERVAL", d.relay_sweep_interval)),
            relay_max_attempts=int(env.get("RELAY_MAX_ATTEMPTS", d.relay_max_attempts)),
            relay_max_backoff_seconds=float(env.get("RELAY_MAX_BACKOFF_SECONDS", d.relay_max_backoff_seconds)),
        )

    def check_token_settings(self) -> None:
        """Fail closed: a service that trusts no key, or a production service that would trust
        the development key, does not start; a lifetime above the cap would issue tokens nobody
        accepts."""
        if self.production and self.jwt_dev_key_file:
            raise RuntimeError("JWT_DEV_KEY_FILE is for development and tests only: unset it in production "
                               "(services trust the keys of JWT_JWKS_URL)")
        if not self.jwt_jwks_url and not self.jwt_dev_key_file:
            raise RuntimeError("set JWT_JWKS_URL to the JWKS of the identity provider (identity's "
                               "/api/v1/.well-known/jwks.json); in development `make run` sets JWT_DEV_KEY_FILE")
        if self.jwt_jwks_url and not self.jwt_jwks_url.startswith(("http://", "https://")):
            raise RuntimeError(f"JWT_JWKS_URL must be an http(s) URL, got {self.jwt_jwks_url!r}")
        if self.jwt_jwks_cache_seconds <= 0:
            raise RuntimeError(f"JWT_JWKS_CACHE_SECONDS must be more than 0, got {self.jwt_jwks_cache_seconds}")
        if self.jwt_dev_key_file:
            from shared.auth import dev_key  # the key must load now, not at the first request
            dev_key(self)
        if self.jwt_ttl_seconds > self.jwt_max_ttl_seconds:
            raise RuntimeError(f"JWT_TTL_SECONDS ({self.jwt_ttl_seconds}) exceeds the token lifetime "
                               f"JWT_MAX_TTL_SECONDS ({self.jwt_max_ttl_seconds})")

    # -- consumer (wp/consumer) --
    MAX_DELAY_MS = 2**32 - 1  # RabbitMQ's largest x-message-ttl

    def check_consumer(self) -> None:
        """Refuse retry settings that would lose events: every retry and deferral goes to a
        delay queue declared from RETRY_DELAYS_MS, so without one there is nowhere to go."""
        if not self.retry_delays_ms:
            raise ConfigError("RETRY_DELAYS_MS must list at least one delay in milliseconds "
                              "(e.g. 1000,5000,30000): failed events wait in those delay queues")
        bad = [ms for ms in self.retry_delays_ms if not 1 <= ms <= self.MAX_DELAY_MS]
        if bad:
            raise ConfigError(f"RETRY_DELAYS_MS delays must be between 1 and {self.MAX_DELAY_MS} ms, got {bad}")
        if self.defer_limit_seconds < 0:
            raise ConfigError(f"DEFER_LIMIT_SECONDS must be 0 or more, got {self.defer_limit_seconds}")
        if self.inbox_retention_seconds < 1:
            raise ConfigError(f"INBOX_RETENTION_SECONDS must be at least 1, got {self.inbox_retention_seconds}")
