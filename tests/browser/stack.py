"""The real system behind the portal, for browser journeys: SecantusDB and RabbitMQ through the
integration harness (tests/harness.py, tests/conftest.py's Infra: a database and an exchange
prefix of its own), every service's API served in this process over HTTP (werkzeug, threaded),
their relays and consumers as processes (tests/processes.py), and the portal pointed at them.

Nothing is faked: tokens are identity's own (every other service trusts identity's JWKS only),
staff accounts are made as an operator would (the first admin by `services.identity.admin
create-admin` with the password on standard input, the others by the admin through identity's
staff API, each then signing in once to replace the temporary password), the directory is loaded
from its seed file, and SMS codes land in a development outbox file (`stack.sms_code(phone)`).

One stack per test session (starting it costs a few seconds of both cores); tests share it, so
each journey uses people and phones of its own (`stack.unique_phone()`, `stack.unique_nid()`).
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pika
from werkzeug.serving import make_server

from shared.sms import read_outbox
from shared.topology import Names
from tests import processes
from tests.waiting import wait_for

APIS = ("registration", "documents", "claims", "complaints", "casestatus", "directory")
RELAYS = ("identity", "registration", "documents", "claims", "complaints", "directory")
CONSUMERS = ("identity", "registration", "documents", "claims", "complaints", "casestatus")
JWKS_PATH = "/api/v1/.well-known/jwks.json"
# Cheap password hashes (the integration tests' choice): identity's defaults cost a core-second each.
CHEAP_HASHES = {"IDENTITY_ARGON2_TIME_COST": "1", "IDENTITY_ARGON2_MEMORY_KIB": "8", "IDENTITY_ARGON2_PARALLELISM": "1"}
ADMIN = ("stack.admin", "prothom-proshashok-gopon-26")
PASSWORD = "notun-gopon-kotha-{}-26"  # each staff member's own password, by username
BANGLA_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")


@dataclass(frozen=True)
class Staff:
    username: str
    password: str
    role: str
    full_name: str
    district: str
    udc_centre: str | None = None


# The staff the journeys sign in as; more by `stack.add_staff(...)`.
STAFF = (
    Staff("rahima.khatun", PASSWORD.format("rahima"), "udc_operator", "Rahima Khatun", "Cumilla", "UDC Daudkandi"),
    Staff("kamal.hossain", PASSWORD.format("kamal"), "welfare_officer", "Kamal Hossain", "Cumilla"),
    Staff("selim.reza", PASSWORD.format("selim"), "legal_aid", "Selim Reza", "Dhaka"),
)


def call(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers=headers, method=method)
    try:
        with _opener.open(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 never through a proxy


class RealStack:
    def __init__(self, infra, workdir: Path, trust_dev_key: bool = False):
        """`trust_dev_key`: the APIs also trust the test session's development key, as `make run`'s
        do (the demo loader signs its tokens with it); otherwise identity's tokens only."""
        self.infra, self.workdir, self.trust_dev_key = infra, Path(workdir), trust_dev_key
        self.outbox = self.workdir / "sms-outbox.jsonl"
        self.urls: dict[str, str] = {}
        self.apps: dict = {}
        self.staff: dict[str, Staff] = {}
        self._servers: list = []
        self._processes: list[processes.ServiceProcess] = []
        self._saved_env: dict[str, str | None] = {}
        self._numbers = itertools.count(1)
        self._run = random.Random(infra.run_id).randrange(10**6)  # numbers differ from a run before
        self.portal_url = ""

    # -- starting and stopping ---------------------------------------------------------------

    def start(self) -> "RealStack":
        self._set_env({"SMS_ADAPTER": "dev", "SMS_DEV_OUTBOX": str(self.outbox), **CHEAP_HASHES})
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from services.identity import api as identity_api

        identity_settings = self.infra.settings("identity")
        self._serve("identity", identity_api.create(identity_settings, configure_logging=False))
        jwks = self.urls["identity"] + JWKS_PATH
        # Identity's keys only, as in production (unless trust_dev_key): a token the tests forged would be refused.
        self.settings = {"identity": identity_settings}
        dev_key = self.infra.dev_key_file if self.trust_dev_key else ""
        for name in (*APIS, "portal"):
            self.settings[name] = self.infra.settings(name, jwt_jwks_url=jwks, jwt_dev_key_file=dev_key)
        for name in CONSUMERS:  # queues bound before any relay publishes, so no event is unrouted
            self._spawn(processes.consumer(name, self.settings[name], self.workdir))
        self._seed_directory()
        for name in APIS:
            self._serve(name, _create_api(name, self.settings[name]))
        self._wait_for_queues()
        for name in RELAYS:
            self._spawn(processes.relay(name, self.settings[name], self.workdir))
        self._make_staff()
        self._start_portal()

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
        for process in reversed(self._processes):
            process.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _set_env(self, values: dict) -> None:
        """The in-process APIs read these from the environment, and the processes inherit them."""
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def serve(self, name: str, app) -> str:
        """Another app (e.g. an API with its clock set) served like the others, until stop(); its URL."""
        self._serve(name, app)
        return self.urls[name]

    def _serve(self, name: str, app) -> None:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True, name=f"{name}-api").start()
        self._servers.append(server)
        self.apps[name], self.urls[name] = app, f"http://127.0.0.1:{server.server_port}"

    def _spawn(self, process: processes.ServiceProcess) -> None:
        self._processes.append(process.start())

    def _wait_for_queues(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self.infra.amqp_url))

        def declared(queue: str) -> bool:
            channel = connection.channel()
            try:
                channel.queue_declare(queue, passive=True)
                channel.close()
                return True
            except pika.exceptions.ChannelClosedByBroker:
                return False

        try:
            for name in CONSUMERS:
                process = next(p for p in self._processes if p.name == f"{name}-consumer")
                wait_for(lambda: declared(Names(self.infra.prefix, name).queue) or _exited(process), 60,
                         lambda: f"{name}'s consumer did not declare its queue:\n{process.log()[-3000:]}")
                if process.process.poll() is not None:
                    raise AssertionError(f"{process.name} exited:\n{process.log()[-3000:]}")
        finally:
            connection.close()

    def _seed_directory(self) -> None:
        from services.directory import bootstrap, seed
        from services.directory.config import DirectoryConfig

        service = bootstrap.build(self.settings["directory"])
        seed.load(service, seed.read(DirectoryConfig.from_env({}).seed_path, service.today()), say=lambda _line: None)

    def _make_staff(self) -> None:
        username, password = ADMIN
        made = subprocess.run([sys.executable, "-m", "services.identity.admin", "create-admin", "--username", username,
                               "--full-name", "Stack Admin"], input=password + "\n", capture_output=True, text=True,
                              cwd=processes.REPO_ROOT, env=processes.environment(self.settings["identity"]), timeout=120)
        if made.returncode != 0:
            raise AssertionError(f"create-admin failed: {made.stdout}{made.stderr}")
        for member in STAFF:
            self.add_staff(member)

    def admin_token(self) -> str:
        status, pair = call("POST", self.urls["identity"] + "/api/v1/sessions",
                            {"username": ADMIN[0], "password": ADMIN[1]})
        assert status == 200, pair
        return pair["access_token"]

    def add_staff(self, member: Staff) -> Staff:
        """An account made by the admin through identity's API, its temporary password replaced
        by `member.password` at a first sign-in, as a new staff member does."""
        body = {"username": member.username, "full_name": member.full_name, "role": member.role,
                "district": member.district, **({"udc_centre": member.udc_centre} if member.udc_centre else {})}
        status, made = call("POST", self.urls["identity"] + "/api/v1/staff", body, self.admin_token())
        assert status == 201, made
        status, pair = call("POST", self.urls["identity"] + "/api/v1/sessions",
                            {"username": member.username, "password": made["temporary_password"],
                             "new_password": member.password})
        assert status == 200, pair
        self.staff[member.username] = member
        return member

    def _start_portal(self) -> None:
        from services.portal.app import create
        from services.portal.config import BACKENDS, PortalConfig

        env = {var: self.urls[name] for name, (var, _default) in BACKENDS.items()}
        config = PortalConfig.from_env({**env, "PORTAL_SECRET_KEY": "real-stack-browser-test",
                                        "PORTAL_COOKIE_SECURE": "false"}, settings=self.settings["portal"])
        self._serve("portal", create(config, configure_logging=False))  # sessions in its own database
        self.portal_url = self.urls["portal"]

    # -- what journeys need ------------------------------------------------------------------

    def token(self, username: str) -> str:
        """A staff member's access token from identity, for setting the scene through an API."""
        member = self.staff[username]
        status, pair = call("POST", self.urls["identity"] + "/api/v1/sessions",
                            {"username": member.username, "password": member.password})
        assert status == 200, pair
        return pair["access_token"]

    def api(self, service: str, method: str, path: str, body: dict | None = None,
            token: str | None = None) -> tuple[int, dict]:
        return call(method, f"{self.urls[service]}/api/v1{path}", body, token)

    def unique_phone(self) -> str:
        return f"+8801{7 + next(self._numbers) % 3}{(self._run * 1000 + next(self._numbers)) % 10**8:08d}"

    def unique_nid(self) -> str:
        return f"{(self._run * 10**4 + next(self._numbers)) % 10**10:010d}"

    def sms_code(self, phone_digits: str, after: int = 0, timeout: float = 15.0) -> str:
        """The 6-digit code of the newest SMS to a phone (its last 10 digits match) among the
        outbox's messages after the first `after` (len(stack.sms()) before asking)."""
        tail = re.sub(r"\D", "", phone_digits)[-10:]

        def newest():
            for message in reversed(self.sms()[after:]):
                if re.sub(r"\D", "", message["to"]).endswith(tail):
                    return re.search(r"(\d{6})", message["text"].translate(BANGLA_DIGITS))
            return None

        wait_for(lambda: newest() is not None, timeout, f"no SMS to {phone_digits} in {self.outbox}")
        return newest().group(1)

    def sms(self) -> list[dict]:
        return read_outbox(str(self.outbox)) if self.outbox.exists() else []

    def database(self, service: str):
        from shared import mongo
        return mongo.database(self.settings[service])

    def wait_until_known(self, reference: str, timeout: float = 30.0) -> None:
        """Until the registration of `reference` reached claims, complaints, the vault and identity by the broker
        (an operator filing at once would otherwise be told the person is not known yet)."""
        from shared.projections import MIGRANTS
        self.wait_for(lambda: self.database("claims")[MIGRANTS].find_one({"_id": reference, "registered": True})
                      and self.database("complaints")[MIGRANTS].find_one({"_id": reference})
                      and self.database("documents").owners.find_one({"_id": reference})
                      and self.database("identity").phone_migrants.find_one({"_id": reference}),
                      timeout, f"{reference} did not reach claims, documents and identity")

    def wait_for_case(self, case_id: str, phone: str | None = None, timeout: float = 30.0) -> None:
        """Until case status has the case (its page shows) and, given a phone, identity knows the
        phone as the case's (its owner can sign in and read it)."""
        officer = self.token(STAFF[1].username)
        self.wait_for(lambda: self.api("casestatus", "GET", f"/cases/{case_id}/timeline", token=officer)[0] == 200,
                      timeout, f"case status did not learn of {case_id}")
        if phone:
            self.wait_for(lambda: self.database("identity").phone_cases.find_one({"_id": case_id, "phone": phone}),
                          timeout, f"identity did not learn {case_id}'s phone")

    def wait_for(self, condition, timeout: float = 30.0, message: str = "the stack did not get there") -> None:
        """Waits for events to travel (relay, broker, consumer): e.g. a new claim's case page."""
        wait_for(condition, timeout, lambda: f"{message}\n{self.logs()}", interval=0.2)

    def logs(self, lines: int = 15) -> str:
        return "\n".join(f"--- {p.name} ---\n" + "\n".join(p.log().splitlines()[-lines:]) for p in self._processes)


def _exited(process: processes.ServiceProcess) -> bool:
    return process.process.poll() is not None


def _create_api(name: str, settings):
    module = __import__(f"services.{name}.api", fromlist=["create"])
    return module.create(settings, configure_logging=False)


def start_stack(infra, workdir: Path, trust_dev_key: bool = False) -> RealStack:
    return RealStack(infra, workdir, trust_dev_key).start()


@contextlib.contextmanager
def stack_session(mongo_uri: str, amqp_url: str, workdir: Path, trust_dev_key: bool = False):
    """A started stack with databases and an exchange prefix of its own, dropped and deleted
    when the block ends (the browser tests' `real_stack`; the demo loader's test)."""
    import pymongo

    from tests.conftest import Infra

    infra = Infra(mongo_uri, amqp_url)
    stack = start_stack(infra, workdir, trust_dev_key)
    try:
        yield stack
    finally:
        stack.stop()
        infra.cleanup()
        client = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=5000)
        for service in infra.services:
            client.drop_database(f"t{infra.run_id}_{service}")
        client.close()

