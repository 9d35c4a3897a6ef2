#!/usr/bin/env python3
"""`make run`: start SecantusDB (unless MONGO_URI is set) and every service, stop them all on Ctrl-C.

Standard library only, apart from a pymongo ping (run with .venv/bin/python). Each child
gets its own process group, so Ctrl-C reaches only this supervisor, which then shuts the
children down in order; the shared RabbitMQ is never touched.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `shared` from this checkout, whatever the virtualenv's install points at
VENV_BIN = ROOT / ".venv" / "bin"

# (service, API port). Adding a service is one line here.
SERVICES = [
    ("registration", 8001),
    ("documents", 8002),
    ("claims", 8003),
    ("complaints", 8004),
    ("identity", 8005),
    ("casestatus", 8006),
    ("directory", 8007),
]

# Web front ends (no relay or consumer: they call the APIs above over HTTP), and their port.
WEB = [("portal", 8080)]

# Read-side services publish no events, so they have no outbox relay.
NO_RELAY = {"casestatus"}
# Processes beyond API, relay and consumer (python -m services.<name>.<module>): the overdue
# timers, and case status's SMS sender.
EXTRA_PROCESSES = [("claims", "timers"), ("complaints", "timers"), ("casestatus", "sender")]
# Services whose data starts from a seed file (python -m services.<name>.seed --if-empty):
# loaded before their API starts, on the first start only (a database with entries is left alone).
SEEDS = ["directory"]
# Catch-up at first start: a service that learns others' past asks each source for its replay
# (shared/replay) once, in this order; its `replays` collection records each one it applied.
CATCH_UP = {"casestatus": ["registration", "documents", "claims", "complaints"]}
CATCH_UP_WAIT = 60.0  # seconds for the consumers' queues to appear before giving up

MONGO_PORT = 27027
# Each process without an HTTP API (relay, consumer, timer, sender) serves /metrics and
# /health/live on a port of its own (METRICS_PORT), numbered from here in start order.
METRICS_PORT_FIRST = 9101
# `make run`'s development signing key (services trust no key by default): an Ed25519 key made
# once, reused by restarts and `make token`; every service trusts its public half.
DEV_JWT_KEY_FILE = ROOT / ".data" / "dev-jwt-key.pem"
# The JWKS every service trusts besides the development key: identity's, once identity is in
# SERVICES (JWT_JWKS_URL in the environment wins, e.g. Keycloak's certs URL).
JWKS_PATH = "/api/v1/.well-known/jwks.json"
# Sign-in codes by SMS in development: identity's dev adapter writes them here (shared/sms.py).
SMS_DEV_OUTBOX = ROOT / ".data" / "sms-outbox.jsonl"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0

_print_lock = threading.Lock()


def say(line: str) -> None:
    with _print_lock:
        print(line, flush=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def mongo_ping(uri: str) -> bool:
    import pymongo  # from the app venv; only needed when we manage the database
    from pymongo.errors import PyMongoError

    try:
        with pymongo.MongoClient(uri, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000) as client:
            client.admin.command("ping")
        return True
    except PyMongoError:
        return False


def dev_jwt_key() -> Path:
    if not DEV_JWT_KEY_FILE.exists():
        from shared.auth import write_dev_key  # from the app venv; readable by you only (0600)

        write_dev_key(DEV_JWT_KEY_FILE)
    return DEV_JWT_KEY_FILE


class Child:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str]):
        self.name, self.cmd = name, cmd
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            process_group=0,  # own group: terminal Ctrl-C goes to us, not straight to the child
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for raw in self.proc.stdout:
            say(f"[{self.name}] {raw.decode(errors='replace').rstrip()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self) -> None:
        if self.alive():
            self.proc.terminate()

    def wait_or_kill(self, deadline: float) -> None:
        try:
            self.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"==> {self.name} did not stop in {STOP_TIMEOUT:.0f}s, killing it")
            try:  # the whole group, so e.g. gunicorn workers go too
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


class Supervisor:
    def __init__(self) -> None:
        self.children: list[Child] = []  # the database (if ours) first, then the apps

    def spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> Child:
        child = Child(name, cmd, env)
        self.children.append(child)
        return child

    def check_children(self) -> None:
        for child in self.children:
            if not child.alive():
                raise SystemExit(f"{child.name} exited unexpectedly with code {child.proc.returncode}; stopping everything")

    def stop_all(self) -> None:
        running = [c for c in self.children if c.alive()]
        if running:
            say("==> stopping " + ", ".join(c.name for c in running))
        # Apps first, database last, so nothing loses its database mid-shutdown.
        apps = [c for c in self.children if c.name != "secantusdb"]
        for group in (apps, [c for c in self.children if c.name == "secantusdb"]):
            for child in group:
                child.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT
            for child in group:
                child.wait_or_kill(deadline)
        say("==> all stopped")

    def start_mongo(self, env: dict[str, str]) -> str:
        uri = f"mongodb://127.0.0.1:{MONGO_PORT}/?directConnection=true"
        if port_open(MONGO_PORT):
            if mongo_ping(uri):
                say(f"==> reusing the database already running on port {MONGO_PORT} (not stopped on exit)")
                return uri
            raise SystemExit(f"port {MONGO_PORT} is in use by something that does not answer MongoDB ping")
        binary = ROOT / ".venv-secantus" / "bin" / "secantusd-py"
        if not binary.exists():
            raise SystemExit(f"{binary} is missing: run `make venv`")
        data = ROOT / ".data"
        (data / "mongo").mkdir(parents=True, exist_ok=True)
        (data / "tmp").mkdir(parents=True, exist_ok=True)
        say(f"==> starting SecantusDB on 127.0.0.1:{MONGO_PORT} (data in .data/mongo)")
        self.spawn("secantusdb",
                   [str(binary), "--host", "127.0.0.1", "--port", str(MONGO_PORT), "--storage-path", str(data / "mongo")],
                   {**env, "TMPDIR": str(data / "tmp")})
        deadline = time.monotonic() + 30
        while not (port_open(MONGO_PORT) and mongo_ping(uri)):
            self.check_children()
            if time.monotonic() > deadline:
                raise SystemExit("SecantusDB did not answer within 30s")
            time.sleep(0.2)
        return uri

    def wait_ready(self, urls: list[str]) -> None:
        pending, start = list(urls), time.monotonic()
        next_note = start + 5
        while pending:
            self.check_children()
            pending = [u for u in pending if not http_ok(u)]
            now = time.monotonic()
            if pending and now - start > READY_TIMEOUT:
                raise SystemExit(f"not ready after {READY_TIMEOUT:.0f}s: {', '.join(pending)}")
            if pending and now >= next_note:
                say(f"==> still waiting for {', '.join(pending)} ({now - start:.0f}s)")
                next_note = now + 5
            time.sleep(0.3)

    def run(self) -> None:
        env = dict(os.environ)
        env.setdefault("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
        env.setdefault("AMQP_PREFIX", "probashi")
        env.setdefault("PROBASHI_ENV", "development")
        env["PYTHONUNBUFFERED"] = "1"  # so child log lines appear as they happen
        if not env.get("JWT_DEV_KEY_FILE") and env["PROBASHI_ENV"] != "production":
            env["JWT_DEV_KEY_FILE"] = str(dev_jwt_key())
            say(f"==> development tokens (`make token`) are signed with {DEV_JWT_KEY_FILE.relative_to(ROOT)}")
        if "identity" in dict(SERVICES):  # identity signs the real tokens and publishes its keys
            env.setdefault("JWT_JWKS_URL", f"http://127.0.0.1:{dict(SERVICES)['identity']}{JWKS_PATH}")
        if env["PROBASHI_ENV"] != "production":  # production names its gateway (SMS_ADAPTER=http)
            env.setdefault("SMS_ADAPTER", "dev")
            env.setdefault("SMS_DEV_OUTBOX", str(SMS_DEV_OUTBOX))
        if not env.get("MONGO_URI"):
            env["MONGO_URI"] = self.start_mongo(env)
        else:
            say(f"==> using MONGO_URI={env['MONGO_URI']}")

        # The portal is served over plain http here, so its cookies cannot be Secure (production refuses this).
        env.setdefault("PORTAL_COOKIE_SECURE", "false")
        background = background_processes()
        metrics_ports = {name: METRICS_PORT_FIRST + n for n, (name, _) in enumerate(background)}
        busy = [port for port in [*(port for _, port in SERVICES + WEB), *metrics_ports.values()] if port_open(port)]
        if busy:  # else health checks could pass against someone else's server
            raise SystemExit(f"port(s) {busy} already in use - is another `make run` going?")
        upgrade_topology(env)
        for svc in SEEDS:
            say(f"==> {svc}: seeding on first start (python -m services.{svc}.seed --if-empty)")
            if subprocess.run([str(VENV_BIN / "python"), "-m", f"services.{svc}.seed", "--if-empty"], cwd=ROOT,
                              env=env).returncode != 0:
                raise SystemExit(f"the {svc} seed failed (see above)")
        for svc, port in SERVICES:
            # Worker model and limits come from shared/http/server.py, as in the tests and the image.
            self.spawn(f"{svc}-api", [str(VENV_BIN / "gunicorn"), "-c", "python:shared.http.server",
                                      "--bind", f"127.0.0.1:{port}", "--access-logfile", "-",
                                      f"services.{svc}.wsgi:app"], env)
        for name, module in background:
            self.spawn(name, [str(VENV_BIN / "python"), "-m", module],
                       {**env, "METRICS_HOST": "127.0.0.1", "METRICS_PORT": str(metrics_ports[name])})
        for web, port in WEB:
            self.spawn(f"{web}-web", [str(VENV_BIN / "gunicorn"), "-c", "python:shared.http.server",
                                      "--bind", f"127.0.0.1:{port}", "--access-logfile", "-",
                                      f"services.{web}.wsgi:app"], env)

        self.wait_ready([f"http://127.0.0.1:{port}/health/ready" for _, port in SERVICES + WEB])
        print_banner(env, metrics_ports)
        threading.Thread(target=catch_up, args=(env,), daemon=True).start()
        while True:
            self.check_children()
            time.sleep(0.5)


def background_processes() -> list[tuple[str, str]]:
    """(name, module) of every process without an HTTP API, in start order."""
    found = []
    for svc, _ in SERVICES:
        if svc not in NO_RELAY:
            found.append((f"{svc}-relay", f"services.{svc}.relay"))
        if (ROOT / "services" / svc / "consumer.py").exists():  # directory consumes no events
            found.append((f"{svc}-consumer", f"services.{svc}.consumer"))
    for svc, module in EXTRA_PROCESSES:
        found.append((f"{svc}-timer" if module == "timers" else f"{svc}-{module}", f"services.{svc}.{module}"))
    return found


# No proxies: an http_proxy in the environment must not intercept 127.0.0.1 health checks.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_ok(url: str) -> bool:
    try:
        with _opener.open(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:  # URLError, HTTPError (non-2xx), connection refused
        return False


def print_banner(env: dict, metrics_ports: dict[str, int]) -> None:
    lines = ["", "=" * 72, "Probashi is running."]
    for svc, port in SERVICES:
        base = f"http://127.0.0.1:{port}"
        lines += [f"  {svc:13} API {base}/api/v1   OpenAPI {base}/openapi.json   docs {base}/docs"]
    reg = dict(SERVICES).get("registration", 8001)
    idp = dict(SERVICES).get("identity", 8005)
    outbox = env.get("SMS_DEV_OUTBOX") if env.get("SMS_ADAPTER") == "dev" else None
    for web, port in WEB:
        lines += [f"  {web:13} http://127.0.0.1:{port}/   (open it in a browser; Bangla first, English by the switch)"]
    lines += ["Prometheus metrics: each API and the portal at /metrics on its port; the other processes at",
              "  http://127.0.0.1:PORT/metrics (and /health/live): "
              + ", ".join(f"{name} {port}" for name, port in metrics_ports.items())]
    lines += [
        "",
        f"Every service trusts identity's keys: JWT_JWKS_URL={env.get('JWT_JWKS_URL')}",
        "The first admin (asks for a password; README \"Sign-in\" goes on from there):",
        f"  MONGO_URI='{env.get('MONGO_URI')}' .venv/bin/python -m services.identity.admin create-admin --username NAME",
        "Staff sign in (a new account's temporary password is changed with \"new_password\"):",
        f"  curl -s -X POST http://127.0.0.1:{idp}/api/v1/sessions -H 'Content-Type: application/json' \\",
        "       -d '{\"username\": \"admin\", \"password\": \"...\"}'",
        f"Migrants and families ask for a code: POST http://127.0.0.1:{idp}/api/v1/otp/requests {{\"phone\": ...}}",
        (f"  the SMS lands in {outbox} (development: nothing is really sent)" if outbox
         else f"  the SMS goes through the gateway at {env.get('SMS_GATEWAY_URL')}"),
        "",
        "Get a development token (roles: migrant, family, udc_operator, welfare_officer, legal_aid, admin;",
        "migrant needs REF=..., family CASES=...; signed with .data/dev-jwt-key.pem):",
        "  TOKEN=$(make -s token ROLE=welfare_officer)",
        "Register a migrant (see the docs URL for the full schema):",
        f"  curl -s -X POST http://127.0.0.1:{reg}/api/v1/migrants \\",
        "       -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
        "       -d '{\"name_en\": \"Rahima Akter\", \"name_bn\": \"রহিমা আক্তার\", \"date_of_birth\": \"1995-04-12\",",
        "            \"sex\": \"female\", \"nid\": \"1990123456\", \"phone\": \"01712345678\", \"district\": \"Cumilla\",",
        "            \"upazila\": \"Daudkandi\", \"destination_country\": \"SA\", \"occupation\": \"Domestic worker\"}'",
        "Upload their contract (REF is the reference the registration answered with):",
        f"  curl -s -X POST http://127.0.0.1:{dict(SERVICES).get('documents', 8002)}/api/v1/documents \\",
        "       -H \"Authorization: Bearer $TOKEN\" -F file=@contract.pdf -F owner=$REF -F doc_type=job_contract",
        "File a claim for them (README \"Claims\" follows one from filing to payment):",
        f"  curl -s -X POST http://127.0.0.1:{dict(SERVICES).get('claims', 8003)}/api/v1/claims \\",
        "       -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
        "       -d '{\"type\": \"legal_aid\", \"migrant_reference\": \"'$REF'\", \"district\": \"Cumilla\",",
        "            \"event\": {\"country\": \"SA\"}}'",
        "File a complaint for them (README \"Complaints\" follows one from intake to a paid award):",
        f"  curl -s -X POST http://127.0.0.1:{dict(SERVICES).get('complaints', 8004)}/api/v1/complaints \\",
        "       -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
        "       -d '{\"complainant\": {\"migrant_reference\": \"'$REF'\", \"name\": \"Rahima Akter\", \"phone\": \"01712345678\"},",
        "            \"channel\": \"udc\", \"category\": \"unpaid_wages\", \"district\": \"Cumilla\",",
        "            \"respondents\": [{\"kind\": \"recruiting_agency\", \"name\": \"Al-Noor Overseas\", \"licence\": \"RL-1234\"}],",
        "            \"narrative\": \"Six months of wages unpaid; the agency does not answer calls.\"}'",
        "Their timeline, in Bangla and English, with what happens next (README \"Case status\"):",
        f"  curl -s 'http://127.0.0.1:{dict(SERVICES).get('casestatus', 8006)}/api/v1/migrants/'$REF'/timeline?lang=en' \\",
        "       -H \"Authorization: Bearer $TOKEN\"",
        "",
        "A living system to look around in: load demo data from another terminal (migrants with papers,",
        "claims and complaints in every status; on SecantusDB 200 take about ten minutes, the default 2000 long):",
        "  make demo ARGS='--migrants 200'  # or just: make demo",
        "",
        "Ctrl-C stops everything started here (the shared RabbitMQ keeps running).",
        "=" * 72,
    ]
    say("\n".join(lines))


def catch_up(env: dict) -> None:
    """First start of a service that learns the past from replays (CATCH_UP): shared/replay's
    catch-up asks each source it has not applied a replay from yet, printing the progress;
    an unfinished one is asked again at the next start. Old events come only to its queue,
    so no SMS goes out for them."""
    from shared.config import Settings
    from shared.replay.catch_up import catch_up as ask

    class Prefixed:  # the command's lines, as the children's: [name] line
        def __init__(self, name: str):
            self.name = name

        def write(self, text: str) -> None:
            for line in text.splitlines():
                if line.strip():
                    say(f"[{self.name}] {line}")

        def flush(self) -> None:
            pass

    for target, sources in CATCH_UP.items():
        try:
            ask(Settings.from_env(target, env), sources, Prefixed(f"{target}-catch-up"), wait_seconds=CATCH_UP_WAIT)
        except Exception as exc:  # noqa: BLE001 - the services run on; the next start asks again
            say(f"[{target}-catch-up] failed: {exc!r}; it runs again at the next start")


def upgrade_topology(env: dict) -> None:
    """A broker an earlier `make run` used may hold this prefix's events exchange without its
    alternate exchange, or classic queues where AMQP_QUEUE_TYPE now asks for quorum ones:
    every relay and consumer would refuse to start. Nothing of this prefix runs now (the
    ports were free), so in development do what `make topology-migrate` does (queues keep
    their messages); production leaves it to the operator, whom the processes tell."""
    if env["PROBASHI_ENV"] == "production":
        return
    from shared import topology
    from shared.config import Settings
    try:
        changes = topology.migrate(Settings.from_env("topology", env), topology.consuming_services())
    except topology.MigrationRefused as exc:
        raise SystemExit(f"cannot bring the broker's {env['AMQP_PREFIX']} queues up to date: {exc}") from None
    for change in changes:
        say(f"==> topology (development only): {change}")


def main() -> int:
    sup = Supervisor()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt  # one shutdown path for Ctrl-C and SIGTERM

    # Set SIGINT explicitly too: Python leaves it ignored if we were started with it ignored.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        sup.run()
    except KeyboardInterrupt:
        say("\n==> interrupted")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            say(f"ERROR: {exc.code}" if isinstance(exc.code, str) else f"ERROR: exit {exc.code}")
            code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abandon children
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sup.stop_all()
    return code


if __name__ == "__main__":
    sys.exit(main())
