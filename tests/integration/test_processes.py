"""The registration service as it runs: gunicorn API, relay and consumer processes."""
from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request

import pytest

from shared import mongo
from shared.auth import issue_token
from tests import processes

pytestmark = pytest.mark.integration

MIGRANT = {"name_en": "Karim Mia", "name_bn": "করিম মিয়া", "date_of_birth": "1990-07-15", "sex": "male",
           "nid": "1234567890123", "passport_number": "EA1234567", "phone": "+8801812345678",
           "district": "Sylhet", "upazila": "Beanibazar", "destination_country": "QA", "occupation": "Driver"}


def request(method, url, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_register_over_http_reaches_rabbitmq_and_the_consumer(infra, tmp_path):
    settings = infra.settings("registration")
    tap = infra.tap("registration.#")
    api, base = processes.api("registration", settings, tmp_path)
    started = [api.start(), processes.relay("registration", settings, tmp_path).start(),
               processes.consumer("registration", settings, tmp_path).start()]
    try:
        processes.wait_ready(base, api)
        operator = issue_token(settings, subject="op-7", role="udc_operator", udc_centre="UDC Beanibazar")
        status, migrant = request("POST", f"{base}/api/v1/migrants", operator, MIGRANT)
        assert status == 201, migrant

        messages = tap.drain(expect=1, timeout=20)
        assert [json.loads(body)["subject"]["id"] for _, _, body in messages] == [migrant["reference"]]

        db = mongo.database(settings)
        deadline = time.monotonic() + 20
        while db.history.count_documents({}) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        own = issue_token(settings, subject="m", role="migrant", migrant_ref=migrant["reference"])
        status, history = request("GET", f"{base}/api/v1/migrants/{migrant['reference']}/history", own)
        assert status == 200 and [e["type"] for e in history["items"]] == ["registration.migrant.registered"]
    finally:
        codes = [p.stop(signal.SIGTERM) for p in started]
    assert codes[1:] == [0, 0], [p.log()[-2000:] for p in started]
