"""The portal's settings, from the environment like every process (shared/config.py)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from shared.config import ConfigError, Settings

log = logging.getLogger("probashi.portal")

# (setting, default) per backend; the portal reaches each only through its HTTP API.
BACKENDS = {
    "identity": ("IDENTITY_URL", "http://127.0.0.1:8005"),
    "registration": ("REGISTRATION_URL", "http://127.0.0.1:8001"),
    "documents": ("DOCUMENTS_URL", "http://127.0.0.1:8002"),
    "claims": ("CLAIMS_URL", "http://127.0.0.1:8003"),
    "complaints": ("COMPLAINTS_URL", "http://127.0.0.1:8004"),
    "casestatus": ("CASESTATUS_URL", "http://127.0.0.1:8006"),
    "directory": ("DIRECTORY_URL", "http://127.0.0.1:8007"),
}
DEV_SECRET = "probashi-portal-development-only"


def _flag(env, name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {env[name]!r}")


def _number(env, name: str, default: float) -> float:
    try:
        return float(env[name]) if env.get(name) else default
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {env[name]!r}") from None


@dataclass(frozen=True)
class PortalConfig:
    settings: Settings
    backend_urls: dict = field(default_factory=dict)
    # Signs the CSRF tokens (Flask-WTF); the session itself is an opaque id looked up server-side.
    secret_key: str = DEV_SECRET
    # Secure cookies need https; PORTAL_COOKIE_SECURE=false is for local http development only.
    cookie_secure: bool = True
    session_idle_seconds: int = 8 * 3600
    # Seconds to connect to, and then to hear from, a backend before the page says it is away.
    connect_timeout: float = 2.0
    read_timeout: float = 8.0

    @property
    def production(self) -> bool:
        return self.settings.production

    @classmethod
    def from_env(cls, env: dict | None = None, settings: Settings | None = None) -> "PortalConfig":
        env = os.environ if env is None else env
        settings = settings or Settings.from_env("portal", env)
        config = cls(
            settings=settings,
            backend_urls={name: env.get(var, default).rstrip("/") for name, (var, default) in BACKENDS.items()},
            secret_key=env.get("PORTAL_SECRET_KEY", "") or DEV_SECRET,
            cookie_secure=_flag(env, "PORTAL_COOKIE_SECURE", True),
            session_idle_seconds=int(_number(env, "PORTAL_SESSION_IDLE_SECONDS", cls.session_idle_seconds)),
            connect_timeout=_number(env, "PORTAL_CONNECT_TIMEOUT", cls.connect_timeout),
            read_timeout=_number(env, "PORTAL_READ_TIMEOUT", cls.read_timeout),
        )
        config.check()
        return config

    def check(self) -> None:
        if self.production and self.secret_key == DEV_SECRET:
            raise ConfigError("PORTAL_SECRET_KEY must be set in production (a long random string)")
        if self.production and not self.cookie_secure:
            raise ConfigError("PORTAL_COOKIE_SECURE=false is for local http development only, not production")
        if self.secret_key == DEV_SECRET:
            log.warning("PORTAL_SECRET_KEY is not set: using the development key (refused in production)")
