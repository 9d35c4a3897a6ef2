"""docker-compose.yml, checked offline (no Docker engine here): valid against the Compose
specification's JSON schema (tests/schemas/), every process `make run` starts is there, nothing
starts without its secrets, no guest account anywhere, and the database and the broker are
published on the host only when docker-compose.ports.yml is added.

Each rule is a function that lists what breaks it, so the tests below also show that every rule
catches a file broken that way."""
from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "docker-compose.yml"
PORTS = ROOT / "docker-compose.ports.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = Draft7Validator(json.loads((ROOT / "tests" / "schemas" / "compose-spec.json").read_text()))

# What the secrets must be; any non-empty value satisfies compose.
SECRETS = {"RABBITMQ_PASSWORD": "r4bbit", "MONGO_PASSWORD": "m0ngo", "MONGO_REPLICA_SET_KEY": "k3yf1le",
           "PORTAL_SECRET_KEY": "p0rtal"}
INFRASTRUCTURE = {"mongo": (27017,), "rabbitmq": (5672, 15672)}
PORTAL = "portal-web"


def devrun():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import devrun as module
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return module


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


# -- compose's variable interpolation, as much of it as these files use -------------------------

class MissingVariable(ValueError):
    pass


INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(node, env: dict):
    """${NAME}, ${NAME:-default}, ${NAME:?message} (unset or empty stops compose) and $$."""
    def one(match):
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        value = env.get(name, "")
        if not value and operator == "?":
            raise MissingVariable(f"{name}: {argument}")
        return argument if not value and operator == "-" else value

    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    return INTERPOLATION.sub(one, node) if isinstance(node, str) else node


def strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def required_variables(doc: dict) -> set[str]:
    return {m.group(1) for text in strings(doc) for m in INTERPOLATION.finditer(text) if m.group(2) == "?"}


# -- the rules ---------------------------------------------------------------------------------

def schema_problems(doc: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in SCHEMA.iter_errors(doc)]


def expected_processes() -> dict[str, list[str]]:
    """Every process `make run` starts (scripts/devrun.py), as compose names and starts it."""
    run = devrun()

    def gunicorn(name: str, port: int) -> list[str]:
        return ["gunicorn", "-c", "python:shared.http.server", "--bind", f"0.0.0.0:{port}", "--access-logfile", "-",
                f"services.{name}.wsgi:app"]

    def python(module: str, *args: str) -> list[str]:
        return ["python", "-m", module, *args]

    processes = {}
    for svc, port in run.SERVICES:
        processes[f"{svc}-api"] = gunicorn(svc, port)
        if svc not in run.NO_RELAY:
            processes[f"{svc}-relay"] = python(f"services.{svc}.relay")
        if (ROOT / "services" / svc / "consumer.py").exists():
            processes[f"{svc}-consumer"] = python(f"services.{svc}.consumer")
    for svc, module in run.EXTRA_PROCESSES:
        processes[f"{svc}-timer" if module == "timers" else f"{svc}-{module}"] = python(f"services.{svc}.{module}")
    for web, port in run.WEB:
        processes[f"{web}-web"] = gunicorn(web, port)
    for svc in run.SEEDS:
        processes[f"{svc}-seed"] = python(f"services.{svc}.seed", "--if-empty")
    for target, sources in run.CATCH_UP.items():
        processes[f"{target}-catch-up"] = python("shared.replay.catch_up", "--to", target,
                                                 *[word for source in sources for word in ("--from", source)])
    return processes


def app_services(doc: dict) -> dict[str, dict]:
    return {name: svc for name, svc in doc["services"].items() if name not in INFRASTRUCTURE}


def process_problems(doc: dict) -> list[str]:
    expected, found = expected_processes(), {name: svc.get("command") for name, svc in app_services(doc).items()}
    problems = [f"{name} is missing: {' '.join(cmd)}" for name, cmd in expected.items() if name not in found]
    problems += [f"{name} is not a process make run starts" for name in found if name not in expected]
    problems += [f"{name} runs {found[name]}, not {cmd}" for name, cmd in expected.items()
                 if name in found and found[name] != cmd]
    return problems


def guest_problems(doc: dict) -> list[str]:
    """No guest account: no value names it, and the processes sign in as the users the broker and
    the database are started with."""
    problems = [f"names guest: {text!r}" for text in strings(doc) if "guest" in text.lower()]
    doc = interpolate(doc, SECRETS)
    services = doc["services"]
    broker, database = services["rabbitmq"].get("environment", {}), services["mongo"].get("environment", {})
    for name, svc in app_services(doc).items():
        env = svc.get("environment", {})
        amqp, mongo = urlsplit(env.get("AMQP_URL", "")), urlsplit(env.get("MONGO_URI", ""))
        if (unquote(amqp.username or ""), unquote(amqp.password or "")) != (
                broker.get("RABBITMQ_DEFAULT_USER"), broker.get("RABBITMQ_DEFAULT_PASS")):
            problems.append(f"{name}: AMQP_URL does not sign in as the broker's user")
        if (unquote(mongo.username or ""), unquote(mongo.password or "")) != (
                database.get("MONGO_INITDB_ROOT_USERNAME"), database.get("MONGO_INITDB_ROOT_PASSWORD")):
            problems.append(f"{name}: MONGO_URI does not sign in as the database's user")
        if parse_qs(mongo.query).get("authSource") != ["admin"]:
            problems.append(f"{name}: MONGO_URI does not authenticate against admin, where that user is")
    if "--keyFile" not in services["mongo"].get("command", []):
        problems.append("mongo: a replica set with users needs --keyFile")
    return problems


def published(svc: dict) -> list[tuple[str, int]]:
    """(host address, container port) of each published port, in the short syntax these files use."""
    found = []
    for port in interpolate(svc.get("ports", []), SECRETS):
        *host, target = str(port).rsplit(":", 2)
        found.append((host[0] if len(host) == 2 else "0.0.0.0", int(target.split("/")[0])))
    return found


def exposure_problems(doc: dict) -> list[str]:
    """The base file publishes the portal (any interface) and the APIs (loopback only), nothing else."""
    problems = []
    for name, svc in doc["services"].items():
        if svc.get("network_mode") == "host":
            problems.append(f"{name}: network_mode host publishes every port")
        for address, port in published(svc):
            if name in INFRASTRUCTURE or port in {p for ports in INFRASTRUCTURE.values() for p in ports}:
                problems.append(f"{name}: publishes {port}, which only docker-compose.ports.yml may")
            elif name != PORTAL and address != "127.0.0.1":
                problems.append(f"{name}: publishes {port} on {address}, not on 127.0.0.1 only")
    return problems


def secret_problems(doc: dict) -> list[str]:
    """Compose refuses to start without each secret, and .env.example names each one, empty."""
    problems = [f"{name} is not required (${{{name}:?...}})" for name in SECRETS if name not in required_variables(doc)]
    problems += [f"{m.group(0)} gives a secret a way around it" for text in strings(doc)
                 for m in INTERPOLATION.finditer(text) if m.group(1) in SECRETS and m.group(2) != "?"]
    problems += [f"{name} is required, but no test gives it" for name in required_variables(doc) - set(SECRETS)]
    for name in SECRETS:
        try:
            interpolate(doc, {k: v for k, v in SECRETS.items() if k != name})
        except MissingVariable:
            continue
        problems.append(f"starts without {name}")
    example = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
                   if line.strip() and not line.lstrip().startswith("#"))
    problems += [f".env.example does not list {name}" for name in required_variables(doc) if name not in example]
    problems += [f".env.example gives {name} a value" for name in required_variables(doc) if example.get(name)]
    return problems


def command_problems(doc: dict) -> list[str]:
    """One image for the apps, each command a module that exists, ports and healthchecks that agree."""
    problems = []
    services = doc["services"]
    for name, image in (("mongo", "mongo:"), ("rabbitmq", "rabbitmq:")):
        tag = services[name].get("image", "")
        if not tag.startswith(image) or tag.endswith(":latest"):
            problems.append(f"{name}: image {tag!r} is not {image}<pinned major>")
    for name, svc in app_services(doc).items():
        if (svc.get("build"), svc.get("image")) != (".", "probashi:dev"):
            problems.append(f"{name}: not the one image built from ./Dockerfile")
        command = svc.get("command") or []
        module = (command[2] if command[:2] == ["python", "-m"]
                  else command[-1].removesuffix(":app") if command[:1] == ["gunicorn"] else None)
        if module is None or importlib.util.find_spec(module) is None:
            problems.append(f"{name}: runs {command}, no module of this code base")
        for dependency, condition in (svc.get("depends_on") or {}).items():
            target = services.get(dependency)
            if target is None:
                problems.append(f"{name}: depends on {dependency}, which does not exist")
            elif condition.get("condition") == "service_healthy" and "healthcheck" not in target:
                problems.append(f"{name}: waits for {dependency} to be healthy, which has no healthcheck")
        if command[:1] == ["gunicorn"]:
            port = int(command[command.index("--bind") + 1].rsplit(":", 1)[1])
            check = " ".join(svc.get("healthcheck", {}).get("test", []))
            if f"127.0.0.1:{port}/health/ready" not in check:
                problems.append(f"{name}: no healthcheck on its /health/ready (port {port})")
            if [p for _, p in published(svc)] != [port]:
                problems.append(f"{name}: publishes {published(svc)}, not its port {port}")
        elif name.endswith(("-seed", "-catch-up")):
            if svc.get("restart") == "unless-stopped":
                problems.append(f"{name}: a one-shot job restarted forever")
        elif "127.0.0.1:9100/health/live" not in " ".join(svc.get("healthcheck", {}).get("test", [])):
            problems.append(f"{name}: no healthcheck on its METRICS_PORT /health/live")
    return problems


RULES = [process_problems, guest_problems, exposure_problems, secret_problems, command_problems]


# -- the files as they are ---------------------------------------------------------------------

@pytest.mark.parametrize("path", [BASE, PORTS], ids=lambda p: p.name)
def test_the_files_are_valid_compose_files(path):
    doc = load(path)
    assert schema_problems(doc) == []
    assert schema_problems(interpolate(doc, SECRETS)) == []  # as compose sees it, variables set


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_compose_file_keeps_the_rule(rule):
    assert rule(load(BASE)) == []


def test_every_process_of_every_service_runs():
    names = set(app_services(load(BASE)))
    assert {"portal-web", "claims-timer", "casestatus-sender", "directory-seed", "casestatus-catch-up"} <= names
    assert names == set(expected_processes())
    run = devrun()  # and make run, whose lists these are, starts every service there is
    assert {p.parent.name for p in (ROOT / "services").glob("*/wsgi.py")} == {name for name, _ in run.SERVICES + run.WEB}


def test_compose_stops_at_the_first_missing_secret_and_says_which():
    doc = load(BASE)
    for name in SECRETS:
        with pytest.raises(MissingVariable, match=name):
            interpolate(doc, {**SECRETS, name: ""})  # empty counts as missing, as in compose's :?


def test_the_ports_file_publishes_the_database_and_broker_on_loopback_only():
    services = load(PORTS)["services"]
    assert set(services) == set(INFRASTRUCTURE)
    for name, ports in INFRASTRUCTURE.items():
        assert sorted(published(services[name])) == [("127.0.0.1", port) for port in ports]


def test_no_bare_dollar_that_compose_would_read_as_a_variable():
    for path in (BASE, PORTS):
        for text in strings(load(path)):
            assert "$" not in INTERPOLATION.sub("", text), (path.name, text)


# -- and broken: each rule catches its breakage -----------------------------------------------

def broken(change) -> dict:
    doc = copy.deepcopy(load(BASE))
    change(doc["services"])
    return doc


BREAKAGES = {
    "a process dropped": (process_problems, lambda s: s.pop("claims-timer")),
    "the portal dropped": (process_problems, lambda s: s.pop("portal-web")),
    "a relay runs the consumer": (process_problems,
                                  lambda s: s["documents-relay"].update(command=s["documents-consumer"]["command"])),
    "guest in the broker URL": (guest_problems, lambda s: s["claims-api"].update(
        environment={**s["claims-api"]["environment"], "AMQP_URL": "amqp://guest:guest@rabbitmq:5672/%2F"})),
    "the broker's user from nowhere": (guest_problems, lambda s: s["rabbitmq"].pop("environment")),
    "mongo without a key file": (guest_problems, lambda s: s["mongo"].update(command=["mongod", "--replSet", "rs0"])),
    "mongo published": (exposure_problems, lambda s: s["mongo"].update(ports=["27017:27017"])),
    "the management UI published": (exposure_problems, lambda s: s["rabbitmq"].update(ports=["127.0.0.1:15672:15672"])),
    "an API on every interface": (exposure_problems, lambda s: s["claims-api"].update(ports=["8003:8003"])),
    "a secret with a default": (secret_problems, lambda s: s["rabbitmq"]["environment"].update(
        RABBITMQ_DEFAULT_PASS="${RABBITMQ_PASSWORD:-guessable}")),
    "a module that does not exist": (command_problems, lambda s: s["claims-timer"].update(
        command=["python", "-m", "services.claims.timer"])),
    "an API without its healthcheck": (command_problems, lambda s: s["identity-api"].pop("healthcheck")),
    "a consumer without its healthcheck": (command_problems, lambda s: s["claims-consumer"].update(
        healthcheck={"disable": True})),
    "a dependency that does not exist": (command_problems, lambda s: s["directory-api"].update(
        depends_on={"directory-sead": {"condition": "service_completed_successfully"}})),
    "the latest broker": (command_problems, lambda s: s["rabbitmq"].update(image="rabbitmq:latest")),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_file_is_caught(breakage):
    rule, change = BREAKAGES[breakage]
    assert rule(broken(change))


@pytest.mark.parametrize("change", [
    lambda s: s["claims-api"].update(commnd=["python"]),                                   # a misspelt key
    lambda s: s["claims-api"]["depends_on"].update(mongo={"condition": "service_ready"}),  # no such condition
    lambda s: s["mongo"]["healthcheck"].update(interval=5),                                # a duration as a number
    lambda s: s["rabbitmq"].update(ports={"5672": "5672"}),                                # ports as a mapping
], ids=["misspelt-key", "unknown-condition", "number-duration", "ports-mapping"])
def test_the_schema_catches_a_broken_file(change):
    assert schema_problems(broken(change))
