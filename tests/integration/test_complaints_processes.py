"""The complaints service as it runs (gunicorn API, relay, consumer and, once it exists, the
timer) next to registration's: a migrant registered over HTTP becomes known to complaints
through RabbitMQ, a complaint filed for them goes out as complaints.complaint.received with
its receipt number, and a step taken over HTTP (If-Match) goes out after it."""
from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request

import pytest

from shared.auth import issue_token
from shared.topology import Names
from tests import processes
from tests.integration.test_processes import MIGRANT, request, wait_for_consumer
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

# The timer comes from the clocks work package; until it is merged the test runs without it.
HAS_TIMER = (processes.REPO_ROOT / "services" / "complaints" / "timers.py").exists()


def complaint_for(reference: str) -> dict:
    return {"complainant": {"migrant_reference": reference, "name": "Karim Mia", "phone": "01812345678"},
            "channel": "udc", "category": "unpaid_wages", "district": "Sylhet", "amount_claimed": 180000,
            "respondents": [{"kind": "recruiting_agency", "name": "Al-Noor Overseas", "licence": "RL-1234"},
                            {"kind": "employer_abroad", "name": "Doha Facilities WLL", "country": "qa"}],
            "narrative": "Seven months' wages were not paid in Doha; the agency does not answer calls."}


def step(url: str, token: str, version: int, body: dict | None = None) -> tuple[int, dict, str | None]:
    req = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "If-Match": f'"{version}"'})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read()), response.headers["ETag"]
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), None


def test_a_migrant_registered_over_http_can_complain_and_the_complaint_is_published(infra, tmp_path):
    registration, complaints = infra.settings("registration"), infra.settings("complaints")
    tap = infra.tap("complaints.#")
    registration_api, registration_base = processes.api("registration", registration, tmp_path, workers=1)
    complaints_api, complaints_base = processes.api("complaints", complaints, tmp_path, workers=1)
    started = [registration_api.start(), processes.relay("registration", registration, tmp_path).start(),
               complaints_api.start(), processes.relay("complaints", complaints, tmp_path).start(),
               processes.consumer("complaints", complaints, tmp_path).start()]
    if HAS_TIMER:
        started.append(processes.timer("complaints", complaints, tmp_path).start())
    try:
        processes.wait_ready(registration_base, registration_api)
        processes.wait_ready(complaints_base, complaints_api)
        wait_for_consumer(complaints, Names(complaints.amqp_prefix, "complaints").queue)
        officer = issue_token(registration, subject="officer-1", role="welfare_officer")
        status, migrant = request("POST", f"{registration_base}/api/v1/migrants", officer, MIGRANT)
        assert status == 201, migrant

        answers = []
        wait_for(lambda: answers.append(request("POST", f"{complaints_base}/api/v1/complaints", officer,
                                                complaint_for(migrant["reference"])))
                 or answers[-1][0] != 404, 30, lambda: f"complaints never learned the migrant: {answers[-1:]}")
        status, complaint = answers[-1]
        assert status == 201, complaint
        assert complaint["status"] == "received" and complaint["agency_licences"] == ["RL-1234"]
        [(method, _, body)] = tap.drain(expect=1, timeout=20)
        received = json.loads(body)
        assert method.routing_key == "complaints.complaint.received"
        assert received["subject"]["id"] == complaint["complaint_id"]
        assert {k: received["data"][k] for k in ("case_id", "receipt_number", "migrant_reference",
                                                  "complainant_phone", "agency_licences", "status")} == {
            "case_id": complaint["complaint_id"], "receipt_number": complaint["receipt_number"],
            "migrant_reference": migrant["reference"], "complainant_phone": "+8801812345678",
            "agency_licences": ["RL-1234"], "status": "received"}

        legal_aid = issue_token(complaints, subject="lawyer-1", role="legal_aid")
        url = f"{complaints_base}/api/v1/complaints/{complaint['complaint_id']}/scrutiny"
        assert step(url, legal_aid, version=2)[0] == 412  # stale: nothing changes, nothing published
        status, scrutinised, etag = step(url, legal_aid, version=1)
        assert status == 200 and scrutinised["status"] == "scrutiny" and etag == '"2"', scrutinised
        [(method, _, body)] = tap.drain(expect=1, timeout=20)
        assert method.routing_key == "complaints.complaint.scrutiny_started"
        assert json.loads(body)["aggregate_version"] == 2
    finally:
        codes = [p.stop(signal.SIGTERM) for p in started]
    # Relays, consumer (and timer) stop cleanly on SIGTERM, as in make run and docker-compose.
    assert codes[1] == codes[3] == codes[4] == 0 and codes[5:] in ([], [0]), [p.log()[-2000:] for p in started]
