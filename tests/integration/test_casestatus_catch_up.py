"""Case status's first start on a system with data (shared/replay/catch_up.py, what `make run`
and docker-compose run): against the real registration and case-status consumer processes it
asks for each source's replay it has not applied, prints the progress, writes the timelines
without an SMS, stops with the reason when a source serves no replays, and asks again at the
next start only for what is still missing."""
from __future__ import annotations

import io

import pytest

from services.registration import bootstrap as registration_bootstrap
from shared import mongo, topology
from shared.auth import Principal
from shared.replay import request_queue
from shared.replay.catch_up import applied_sources, catch_up
from tests import processes
from tests.integration.test_replay import details
from tests.load import queue_consumed
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_catch_up_asks_each_source_once_and_says_why_it_stopped(infra, tmp_path):
    registration, casestatus = infra.settings("registration"), infra.settings("casestatus")
    service = registration_bootstrap.build(registration)
    references = {service.register(Principal("officer-1", "welfare_officer"), details(i))["reference"]
                  for i in range(3)}
    started = [processes.consumer("registration", registration, tmp_path).start(),
               processes.consumer("casestatus", casestatus, tmp_path).start()]
    try:
        for queue in (request_queue(infra.prefix, "registration"), topology.Names(infra.prefix, "casestatus").queue):
            wait_for(lambda: queue_consumed(infra.amqp_url, queue), 30, f"nobody consumes {queue}")

        out = io.StringIO()
        # Complaints runs no consumer here: registration's replay is applied, then it stops.
        assert catch_up(casestatus, ["registration", "complaints"], out, wait_seconds=2, timeout=20) == 1
        lines = out.getvalue().splitlines()
        assert lines[0] == ("casestatus: catching up from registration, complaints (one by hand: make replay "
                            "ARGS='--to casestatus --from SOURCE')")
        assert lines[2:7] == ["registration: 3 to replay", "registration: served 3 of 3",
                              "registration: all 3 sent to casestatus; waiting for casestatus to apply them",
                              "casestatus: applied 3 of 3 (0 already known, or older than what casestatus had)",
                              "done"]
        assert lines[7] == ("complaints's or casestatus's consumer is not consuming after 2 s: catch-up stopped; "
                            "what is not applied is asked for at the next start")
        db = mongo.database(casestatus)
        entries = list(db.entries.find({}, {"migrant_reference": 1, "replayed": 1, "type": 1}))
        assert {e["migrant_reference"] for e in entries} == references
        assert {(e["type"], e["replayed"]) for e in entries} == {("registration.migrant.registered", True)}
        assert db.notifications.count_documents({}) == 0  # old news sends no SMS
        assert applied_sources(casestatus) == {"registration"}

        again = io.StringIO()
        assert catch_up(casestatus, ["registration"], again) == 0
        assert again.getvalue() == "casestatus has applied the replays of registration already: nothing to catch up\n"
        assert db.entries.count_documents({}) == len(entries)
    finally:
        for process in started:
            process.stop()
