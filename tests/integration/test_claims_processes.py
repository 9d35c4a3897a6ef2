"""The claims service as it runs (gunicorn API, relay and consumer processes) next to
registration's: a migrant registered over HTTP becomes known to claims through RabbitMQ,
and a claim filed for them goes out as claims.claim.submitted."""
from __future__ import annotations

import json
import signal

import pytest

from shared.auth import issue_token
from shared.topology import Names
from tests import processes
from tests.integration.test_processes import MIGRANT, request, wait_for_consumer
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def test_a_migrant_registered_over_http_can_be_claimed_for_and_the_claim_is_published(infra, tmp_path):
    registration, claims = infra.settings("registration"), infra.settings("claims")
    tap = infra.tap("claims.#")
    registration_api, registration_base = processes.api("registration", registration, tmp_path, workers=1)
    claims_api, claims_base = processes.api("claims", claims, tmp_path, workers=1)
    started = [registration_api.start(), processes.relay("registration", registration, tmp_path).start(),
               claims_api.start(), processes.relay("claims", claims, tmp_path).start(),
               processes.consumer("claims", claims, tmp_path).start()]
    try:
        processes.wait_ready(registration_base, registration_api)
        processes.wait_ready(claims_base, claims_api)
        wait_for_consumer(claims, Names(claims.amqp_prefix, "claims").queue)
        officer = issue_token(registration, subject="officer-1", role="welfare_officer")
        status, migrant = request("POST", f"{registration_base}/api/v1/migrants", officer, MIGRANT)
        assert status == 201, migrant

        filing = {"type": "legal_aid", "migrant_reference": migrant["reference"], "district": "Sylhet",
                  "event": {"country": "QA"}}
        answers = []
        wait_for(lambda: answers.append(request("POST", f"{claims_base}/api/v1/claims", officer, filing))
                 or answers[-1][0] != 404, 30, lambda: f"claims never learned the migrant: {answers[-1:]}")
        status, claim = answers[-1]
        assert status == 201, claim
        [(method, _, body)] = tap.drain(expect=1, timeout=20)
        assert method.routing_key == "claims.claim.submitted"
        assert json.loads(body)["data"]["migrant_reference"] == migrant["reference"]
        assert json.loads(body)["data"]["claimant_phone"] == MIGRANT["phone"]
    finally:
        codes = [p.stop(signal.SIGTERM) for p in started]
    assert codes[1] == codes[3] == codes[4] == 0, [p.log()[-2000:] for p in started]
