"""Real infrastructure for the integration tests: RabbitMQ and a MongoDB-protocol server.

Used by tests/conftest.py. MongoDB is SecantusDB, run as a separate process from its
own virtualenv (.venv-secantus, made by `make venv`); set TEST_MONGO_URI to test against
a real MongoDB replica set instead.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pymongo
from pymongo.errors import PyMongoError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECANTUSD = REPO_ROOT / ".venv-secantus" / "bin" / "secantusd-py"
START_TIMEOUT = 30.0

_running: set["MongoServer"] = set()


def amqp_ready(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when something on host:port answers the AMQP 0-9-1 handshake, not just TCP."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            return sock.recv(1) == b"\x01"  # a method frame: Connection.Start
    except OSError:
        return False


def ensure_rabbitmq(amqp_url: str) -> None:
    """Return once amqp_url's broker answers; start a local one via the script if needed."""
    parts = urlsplit(amqp_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    if amqp_ready(host, port):
        return
    script = REPO_ROOT / "scripts" / "ensure-rabbitmq.sh"
    env = {**os.environ, "RABBITMQ_HOST": host, "RABBITMQ_PORT": str(port)}
    result = subprocess.run([str(script)], env=env, capture_output=True, text=True)
    if result.returncode != 0 or not amqp_ready(host, port):
        raise RuntimeError(
            f"RabbitMQ is not reachable at {host}:{port} and {script.name} could not start it:\n"
            f"{result.stdout}{result.stderr}"
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MongoServer:
    """One SecantusDB process with a fixed port and storage, so tests can restart it."""

    def __init__(self, binary: Path, storage: Path, port: int, sync_on_commit: bool = True):
        self.binary, self.storage, self.port = binary, storage, port
        self.sync_on_commit = sync_on_commit
        self.uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        self.log_path = storage.parent / "secantusd.log"
        self.proc: subprocess.Popen | None = None

    def __repr__(self) -> str:
        return f"MongoServer({self.uri}, storage={self.storage})"

    def start(self, timeout: float = START_TIMEOUT) -> "MongoServer":
        if self.proc and self.proc.poll() is None:
            return self
        tmp = self.storage.parent / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        # Append: a restart keeps the earlier log, which is what you want when debugging one.
        log = open(self.log_path, "ab")
        cmd = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", str(self.storage)]
        if self.sync_on_commit:
            # Without it, a commit acknowledged <~100 ms before kill() can vanish (like mongod
            # with j:false); crash tests need every acknowledged write to survive. Cost here: ~none.
            cmd.append("--sync-on-commit")
        self.proc = subprocess.Popen(
            cmd,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "TMPDIR": str(tmp)},
            # Run from the storage dir so a stray ./secantusd.toml in the repo is never picked up.
            cwd=self.storage.parent,
        )
        log.close()
        _running.add(self)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"secantusd exited with code {self.proc.returncode} on start\n{self.log_tail()}")
            try:
                with pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500) as client:
                    client.admin.command("ping")
                return
            except PyMongoError as exc:
                error = exc
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"secantusd did not answer ping on port {self.port} within {timeout:.0f}s "
                           f"(last error: {error})\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful shutdown (SIGTERM), escalating to SIGKILL after timeout."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        _running.discard(self)

    def kill(self) -> None:
        """Crash it (SIGKILL) - for tests of what survives an abrupt database loss."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        _running.discard(self)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "(no secantusd log)"
        return f"--- last {len(text)} lines of {self.log_path} ---\n" + "\n".join(text)


def start_mongo(tmp_dir: str | os.PathLike, *, sync_on_commit: bool = True) -> MongoServer:
    """Start SecantusDB on a free port with storage in tmp_dir/mongo-PORT/; return when it pings."""
    name = os.environ.get("SECANTUSD") or str(DEFAULT_SECANTUSD)
    binary = Path(shutil.which(name) or name)
    if not binary.exists():
        raise RuntimeError(f"SecantusDB binary {binary} not found: run `make venv` (or set SECANTUSD)")
    port = _free_port()
    home = Path(tmp_dir) / f"mongo-{port}"  # data, tmp and log side by side, unique per server
    home.mkdir(parents=True, exist_ok=True)
    return MongoServer(binary, home / "data", port, sync_on_commit).start()


def mongo_uri_for_tests(tmp_dir: str | os.PathLike) -> tuple[str, MongoServer | None]:
    """(uri, server): TEST_MONGO_URI from the environment with server None, else a fresh
    SecantusDB that the caller stops. Not MONGO_URI: that may be a developer's own database."""
    if os.environ.get("TEST_MONGO_URI"):
        return os.environ["TEST_MONGO_URI"], None
    server = start_mongo(tmp_dir)
    return server.uri, server


@atexit.register
def _stop_leftovers() -> None:
    # A crashed or interrupted test session must not leave database processes behind.
    for server in list(_running):
        server.kill()


_dev_key_dir: str | None = None


def dev_key_file() -> str:
    """This test session's development signing key (a fresh Ed25519 key in a private temporary
    file, removed at exit): what `infra.settings(...)` and the unit tests' Settings trust and
    `issue_token` signs with, as `make run`'s .data/dev-jwt-key.pem is in development."""
    global _dev_key_dir
    if _dev_key_dir is None:
        import tempfile

        from shared.auth import write_dev_key
        _dev_key_dir = tempfile.mkdtemp(prefix="probashi-dev-key-")
        atexit.register(shutil.rmtree, _dev_key_dir, True)
        write_dev_key(Path(_dev_key_dir) / "dev-jwt-key.pem")
    return str(Path(_dev_key_dir) / "dev-jwt-key.pem")
