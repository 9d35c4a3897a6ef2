"""`python -m shared.replay` between the real consumer processes of registration and
documents: its progress, and its failure once the source's process is stopped (which
leaves no request queue behind)."""
from __future__ import annotations

import subprocess
import sys

import pika
import pytest

from services.registration import bootstrap as registration_bootstrap
from shared import mongo, replay
from shared.auth import Principal
from tests import processes
from tests.integration.test_replay import details
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def consumers_on(amqp_url: str, queue: str) -> int | None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return replay.consumers(connection, queue)
    finally:
        connection.close()


def command(settings, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shared.replay", *argv], cwd=processes.REPO_ROOT,
                          env=processes.environment(settings), capture_output=True, text=True, timeout=60)


def test_the_command_reports_progress_between_the_real_processes_and_fails_once_the_source_is_down(infra, tmp_path):
    registration_settings, documents_settings = infra.settings("registration"), infra.settings("documents")
    service = registration_bootstrap.build(registration_settings)
    references = sorted(service.register(Principal("officer-1", "welfare_officer"), details(i))["reference"]
                        for i in range(3))
    requests = replay.request_queue(infra.prefix, "registration")
    registration = processes.consumer("registration", registration_settings, tmp_path).start()
    documents = processes.consumer("documents", documents_settings, tmp_path).start()
    try:
        wait_for(lambda: consumers_on(infra.amqp_url, requests), timeout=30,
                 message=lambda: f"registration serves no replays:\n{registration.log()}")
        wait_for(lambda: consumers_on(infra.amqp_url, f"{infra.prefix}.documents"), timeout=30,
                 message=lambda: f"documents consumer not consuming:\n{documents.log()}")

        done = command(documents_settings, "--to", "documents", "--from", "registration", "--timeout", "20")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[1:] == [
            "registration: 3 to replay", "registration: served 3 of 3",
            "registration: all 3 sent to documents; waiting for documents to apply them",
            "documents: applied 3 of 3 (0 already known, or older than what documents had)", "done"]
        known = mongo.database(documents_settings).owners.find({}, {"_id": 1})
        assert sorted(o["_id"] for o in known) == references

        assert registration.stop() == 0
        wait_for(lambda: consumers_on(infra.amqp_url, requests) is None, timeout=10,
                 message="the request queue outlived its last server")
        down = command(documents_settings, "--to", "documents", "--from", "registration", "--timeout", "2")
        assert down.returncode == 1
        assert "replay failed: registration is not serving replays under AMQP_PREFIX=" in down.stderr
        assert "is its consumer process running? Nothing was replayed." in down.stderr
    finally:
        registration.stop()
        documents.stop()
