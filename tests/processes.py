"""Start a service's real processes (API under gunicorn, relay, consumer) for a test."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from shared.config import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = "python:shared.http.server"  # worker model and limits, as in make run and the image


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(settings: Settings) -> dict:
    return {**os.environ, "MONGO_URI": settings.mongo_uri, "MONGO_DB": settings.database,
            "AMQP_URL": settings.amqp_url, "AMQP_PREFIX": settings.amqp_prefix,
            "AMQP_QUEUE_TYPE": settings.amqp_queue_type, "AMQP_DELIVERY_LIMIT": str(settings.amqp_delivery_limit),
            "JWT_DEV_KEY_FILE": settings.jwt_dev_key_file, "JWT_JWKS_URL": settings.jwt_jwks_url,
            "JWT_JWKS_CACHE_SECONDS": str(settings.jwt_jwks_cache_seconds), "JWT_ISSUER": settings.jwt_issuer,
            "PROBASHI_ENV": settings.environment,
            "RETRY_DELAYS_MS": ",".join(map(str, settings.retry_delays_ms)),
            "RELAY_POLL_INTERVAL": str(settings.relay_poll_interval),
            "RELAY_LEASE_SECONDS": str(settings.relay_lease_seconds),
            "BODY_READ_TIMEOUT": str(settings.body_read_timeout), "HEADER_READ_TIMEOUT": str(settings.header_read_timeout),
            "JWT_MAX_TTL_SECONDS": str(settings.jwt_max_ttl_seconds),
            "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1",
            # No metrics server unless a test asks for one (metrics_env): many processes run at once.
            "METRICS_PORT": "0"}


def metrics_env() -> tuple[dict, str]:
    """Extra environment for a process that serves its /metrics and /health/live on a free
    port, and that server's base URL."""
    port = free_port()
    return {"METRICS_PORT": str(port)}, f"http://127.0.0.1:{port}"


class ServiceProcess:
    def __init__(self, name: str, argv: list[str], settings: Settings, log_dir: Path, env: dict | None = None):
        self.name = name
        self.argv = argv
        self.settings = settings
        self.env = env or {}
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "ServiceProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv, cwd=REPO_ROOT, env={**environment(self.settings), **self.env},
                                        stdout=log, stderr=subprocess.STDOUT)
        return self

    def stop(self, sig=signal.SIGTERM, timeout: float = 15.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def api(service: str, settings: Settings, log_dir: Path, workers: int = 2) -> tuple[ServiceProcess, str]:
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), f"services.{service}.wsgi:app"]
    return ServiceProcess(f"{service}-api", argv, settings, log_dir), f"http://127.0.0.1:{port}"


def relay(service: str, settings: Settings, log_dir: Path, env: dict | None = None) -> ServiceProcess:
    return ServiceProcess(f"{service}-relay", [sys.executable, "-m", f"services.{service}.relay"], settings, log_dir,
                          env)


def consumer(service: str, settings: Settings, log_dir: Path, env: dict | None = None) -> ServiceProcess:
    return ServiceProcess(f"{service}-consumer", [sys.executable, "-m", f"services.{service}.consumer"],
                          settings, log_dir, env)


def probe_consumer(settings: Settings, log_dir: Path, name: str = "probe-consumer", **env) -> ServiceProcess:
    """tests.consumer_probe as a consumer process (env: PROBE_CRASH=1, PROBE_BLOCK=1)."""
    return ServiceProcess(name, [sys.executable, "-m", "tests.consumer_probe"], settings, log_dir, env=env)


def probe_relay(settings: Settings, log_dir: Path, name: str = "probe-relay") -> ServiceProcess:
    """The outbox relay (shared.relay) as a process, on the outbox of settings' database."""
    return ServiceProcess(name, [sys.executable, "-c", "from shared.relay import main; main('probe')"],
                          settings, log_dir)


def timer(service: str, settings: Settings, log_dir: Path, name: str = "timer",
          env: dict | None = None) -> ServiceProcess:
    """A service's timer process (claims: python -m services.claims.timers)."""
    return ServiceProcess(f"{service}-{name}", [sys.executable, "-m", f"services.{service}.timers"], settings, log_dir,
                          env)


def wait_ready(base_url: str, process: ServiceProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise AssertionError(f"{process.name} exited:\n{process.log()}")
        try:
            with urllib.request.urlopen(f"{base_url}/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{process.name} not ready:\n{process.log()}")
