"""The web portal signing people in through the real identity service over HTTP, with its
sessions in its own database: a migrant by the SMS code (read from the development outbox), an
admin by password; sign-out revokes the refresh token at identity. The database and identity
are real; the other services are left away (the portal's pages then say so politely)."""
from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from services.identity import api as identity_api
from services.identity.bootstrap import unit_of_work
from services.identity.config import IdentityConfig
from services.identity.consumer import consumer as identity_consumer
from services.portal.app import create as create_portal
from services.portal.config import PortalConfig
from services.portal.sessions import key_of
from shared import mongo
from shared.events import Envelope
from shared.sms import read_outbox
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

CONFIG = IdentityConfig(argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1)
REF, PHONE = "PB-2345-6789", "+8801711111111"
ADMIN_PASSWORD = "ekta-lomba-gopon-kotha-26"


def serve(app) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture
def world(infra, tmp_path, monkeypatch):
    outbox = tmp_path / "sms-outbox.jsonl"
    monkeypatch.setenv("SMS_ADAPTER", "dev")
    monkeypatch.setenv("SMS_DEV_OUTBOX", str(outbox))
    identity_settings = infra.settings("identity")
    identity = identity_api.create(identity_settings, configure_logging=False, config=CONFIG)
    service = identity.config["IDENTITY_SERVICE"]
    identity_consumer.process(unit_of_work(identity_settings), Envelope.new(
        type="registration.migrant.registered", source="registration", subject_type="migrant", subject_id=REF,
        aggregate_version=1, data={"reference": REF, "name_en": "Rahim Uddin", "name_bn": "রহিম উদ্দিন",
                                   "phone": PHONE, "registered_by": {"user": "op-1", "role": "udc_operator",
                                                                     "udc_centre": "UDC Daudkandi"}}))
    service.create_admin("nasreen", "Nasreen Haque", "Dhaka", ADMIN_PASSWORD)
    identity_url, identity_server = serve(identity)
    away = "http://127.0.0.1:9"  # nothing listens there
    portal_settings = infra.settings("portal")
    config = PortalConfig.from_env({**{name: away for name in ("REGISTRATION_URL", "DOCUMENTS_URL", "CLAIMS_URL",
                                                               "COMPLAINTS_URL", "CASESTATUS_URL", "DIRECTORY_URL")},
                                    "IDENTITY_URL": identity_url, "PORTAL_SECRET_KEY": "integration",
                                    "PORTAL_CONNECT_TIMEOUT": "0.5"}, settings=portal_settings)
    portal = create_portal(config, configure_logging=False)
    yield portal.test_client(), mongo.database(portal_settings), outbox, identity.test_client()
    identity_server.shutdown()


def csrf_of(client, path="/sign-in") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_a_migrant_signs_in_with_the_sms_code_and_out_again(world):
    web, db, outbox, identity = world
    token = csrf_of(web)
    assert web.post("/sign-in/phone", data={"phone": "01711-111111", "csrf_token": token}).status_code == 302
    wait_for(lambda: read_outbox(str(outbox)), 10, "no SMS")
    code = re.search(r"(\d{6})", read_outbox(str(outbox))[-1]["text"].translate(str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")))
    assert web.post("/sign-in/code", data={"code": "000000", "csrf_token": token}).status_code == 422
    signed_in = web.post("/sign-in/code", data={"code": code.group(1), "csrf_token": token})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/me/timeline"

    session_id = web.get_cookie("__Host-portal_session").value
    row = db.sessions.find_one({"_id": key_of(session_id)})
    auth = row["data"]["auth"]
    assert auth["user"]["role"] == "migrant" and auth["user"]["migrant_ref"] == REF
    assert db.sessions.find_one({"_id": session_id}) is None  # kept by the id's hash only

    away = web.get("/me/timeline")  # case status is not running here
    assert away.status_code == 503 and "কিছুই বদলানো হয়নি" in away.get_data(as_text=True)

    token = csrf_of(web, "/")
    assert web.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert db.sessions.find_one({"_id": key_of(session_id)}) is None
    refused = identity.post("/api/v1/tokens/refresh", json={"refresh_token": auth["refresh_token"]})
    assert refused.status_code == 401  # revoked at identity


def test_an_admin_signs_in_with_the_password_and_a_wrong_one_is_a_sentence(world):
    web, db, _, _ = world
    token = csrf_of(web, "/sign-in/staff")
    wrong = web.post("/sign-in/staff", data={"username": "nasreen", "password": "not-the-password-at-all",
                                             "csrf_token": token})
    assert wrong.status_code == 422 and "ইউজারনেম বা পাসওয়ার্ড ভুল" in wrong.get_data(as_text=True)
    right = web.post("/sign-in/staff", data={"username": "nasreen", "password": ADMIN_PASSWORD, "csrf_token": token})
    assert right.status_code == 302 and right.headers["Location"] == "/staff"
    assert "nasreen" in web.get("/staff").get_data(as_text=True)
