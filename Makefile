# Probashi developer entry points. `make run` and `make test` are all you need;
# every other prerequisite (virtualenvs, SecantusDB, RabbitMQ) is set up on demand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
SECANTUS_VENV := .venv-secantus
SECANTUS_VERSION := 0.7.0b3
PIP_FLAGS := --quiet --disable-pip-version-check

# Stamps make `venv` a no-op until pyproject.toml (or the SecantusDB pin) changes.
APP_STAMP := $(VENV)/.probashi-installed
SECANTUS_STAMP := $(SECANTUS_VENV)/.secantus-$(SECANTUS_VERSION)

ROLE ?= welfare_officer
REF ?=
AUD ?=
CASES ?=
ARGS ?=
PYTEST_ARGS ?=

.PHONY: help venv rabbitmq browser run test token demo deadletters outbox replay backup topology-migrate events asyncapi kubectl bench clean python-venv

help:
	@echo "make run          start SecantusDB + every service locally (Ctrl-C stops all)"
	@echo "make test         run the whole test suite (unit + integration)"
	@echo "make token ROLE=welfare_officer [REF=...] [AUD=documents] [CASES=...]   print a dev JWT"
	@echo "make demo [ARGS='--migrants 500 --seed 2']   load demo data into the services make run started"
	@echo "make deadletters ARGS='--service registration list'"
	@echo "make outbox ARGS='--service registration list|count|requeue --all'   parked outbox events"
	@echo "make replay ARGS='--to documents --from registration'   a service learns another's current state"
	@echo "make backup ARGS='dump --service registration --to DIR' | ARGS='restore --from DIR --to-uri URI'"
	@echo "make topology-migrate [ARGS='--service documents']   events exchange and queues up to date (AMQP_QUEUE_TYPE), messages kept"
	@echo "make events [KEY=registration.#]   print events as RabbitMQ routes them"
	@echo "make asyncapi [OUT=.data/asyncapi.json]   write the AsyncAPI document of every event"
	@echo "make venv | rabbitmq | browser | kubectl | bench | clean"

venv: $(APP_STAMP) $(SECANTUS_STAMP)

# Debian splits ensurepip into python3-venv; install it only when it is missing.
python-venv:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  echo "==> installing python3-venv with apt-get" >&2; \
	  SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; }

$(APP_STAMP): pyproject.toml
	@$(MAKE) --no-print-directory python-venv
	@echo "==> installing the app into $(VENV) (pip install -e '.[test]')" >&2
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install $(PIP_FLAGS) -e '.[test]'
	@touch $@

# SecantusDB pins its own pymongo, so it lives in a virtualenv of its own and runs
# as a separate process; it is never imported by, or vendored into, the app.
$(SECANTUS_STAMP):
	@$(MAKE) --no-print-directory python-venv
	@echo "==> installing SecantusDB==$(SECANTUS_VERSION) into $(SECANTUS_VENV)" >&2
	@$(PYTHON) -m venv $(SECANTUS_VENV)
	@$(SECANTUS_VENV)/bin/pip install $(PIP_FLAGS) 'SecantusDB==$(SECANTUS_VERSION)'
	@rm -f $(SECANTUS_VENV)/.secantus-*
	@touch $@

rabbitmq:
	@scripts/ensure-rabbitmq.sh

# The portal's browser tests: Debian's chromium and chromedriver, fonts-noto-core, axe-core (npm).
browser:
	@scripts/ensure-browser.sh

# kubectl (its built-in kustomize renders deploy/k8s) for the offline manifest tests; never talks to a cluster.
kubectl:
	@scripts/ensure-kubectl.sh

run: venv rabbitmq
	@exec $(VENV)/bin/python scripts/devrun.py

# pytest exits 5 when it collected nothing; for CI that is a broken suite, not a pass.
test: venv rabbitmq browser kubectl
	@$(VENV)/bin/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then \
	  echo "make test: FAILED - pytest collected no tests (exit code 5)" >&2; exit 1; \
	fi; exit $$rc

# Signed with the development key `make run` creates (.data/dev-jwt-key.pem; JWT_DEV_KEY_FILE
# names another); AUD="registration documents" narrows the services it is for (default: every
# service); CASES="CLM-... CMP-..." names the cases of a ROLE=family token.
token: venv
	@JWT_DEV_KEY_FILE="$${JWT_DEV_KEY_FILE:-.data/dev-jwt-key.pem}" $(VENV)/bin/python -m shared.auth token \
	  --role $(ROLE) $(if $(REF),--migrant-ref $(REF)) $(foreach aud,$(AUD),--audience $(aud)) \
	  $(foreach case,$(CASES),--case $(case))

# Demo data through the APIs of the services `make run` started, with development tokens signed
# by the same key as `make token`; the same seed again adds nobody (demo/__main__.py).
demo: venv
	@JWT_DEV_KEY_FILE="$${JWT_DEV_KEY_FILE:-.data/dev-jwt-key.pem}" $(VENV)/bin/python -m demo $(ARGS)

# Prints every event RabbitMQ routes while it runs (KEY=registration.# narrows it).
events: venv rabbitmq
	@$(VENV)/bin/python -m shared.watch $(or $(KEY),#)

# Every service's events, generated from shared/contracts.py (each API serves its own at /asyncapi.json).
asyncapi: venv
	@mkdir -p $(dir $(or $(OUT),.data/asyncapi.json))
	@$(VENV)/bin/python -m shared.asyncapi --prefix "$${AMQP_PREFIX:-probashi}" --output $(or $(OUT),.data/asyncapi.json)

deadletters: venv rabbitmq
	@$(VENV)/bin/python -m shared.deadletters $(ARGS)

# Outbox events the relay parked after RELAY_MAX_ATTEMPTS failed publishes: list, count, requeue.
outbox: venv
	@$(VENV)/bin/python -m shared.outbox $(ARGS)

# A service whose queue came late learns another's current state, sent only to its queue;
# safe to run twice (shared/replay/). Both services' consumer processes must be running.
replay: venv rabbitmq
	@$(VENV)/bin/python -m shared.replay $(ARGS)

# One service's database in mongodump's layout, without mongodump (README, Backups and restores).
backup: venv
	@$(VENV)/bin/python -m shared.backup $(ARGS)

# An events exchange declared before it had its alternate exchange, or queues of another type
# than AMQP_QUEUE_TYPE (classic ones of an earlier version): stop the relays and consumers of
# AMQP_PREFIX first; queues are moved with their messages, consumers re-bind when they start.
topology-migrate: venv rabbitmq
	@$(VENV)/bin/python -m shared.topology migrate $(ARGS)

bench: venv rabbitmq
	@if [ -d bench ]; then $(VENV)/bin/python -m bench $(ARGS); \
	else echo "make bench: no bench/ package yet" >&2; exit 1; fi

clean:
	rm -rf $(VENV) $(SECANTUS_VENV) .data
