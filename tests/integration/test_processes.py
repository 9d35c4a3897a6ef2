"""The services as they run: gunicorn API, relay and consumer processes."""
from __future__ import annotations

import hashlib
import json
import signal
import socket
import time
import uuid
import urllib.error
import urllib.request

import pika
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


def send(method, url, token, data=None, content_type=None):
    """(status, headers, body bytes) of any request, errors included."""
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def multipart(fields: dict, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body, as `curl -F` sends it."""
    boundary = f"probashi-{uuid.uuid4().hex}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 "Content-Type: application/pdf\r\n\r\n".encode() + content + f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def wait_for_consumer(settings, queue: str, timeout: float = 30.0) -> None:
    """A consumer process has bound and subscribed its queue (until then, events miss it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
        try:
            if connection.channel().queue_declare(queue, passive=True).method.consumer_count > 0:
                return
        except pika.exceptions.ChannelClosedByBroker:
            pass  # not declared yet
        finally:
            if connection.is_open:
                connection.close()
        time.sleep(0.2)
    raise AssertionError(f"nobody consumes {queue}")


def send_truncated(base: str, token: str, body: bytes, content_type: str) -> bytes:
    """Announce the whole body, send half of it, then stop sending (a dropped upload)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(f"POST /api/v1/documents HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                     + body[:len(body) // 2])
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_register_then_upload_with_both_services_running(infra, tmp_path):
    registration, documents = infra.settings("registration"), infra.settings("documents")
    tap = infra.tap("documents.#")
    registration_api, registration_base = processes.api("registration", registration, tmp_path)
    documents_api, documents_base = processes.api("documents", documents, tmp_path)
    started = [registration_api.start(), processes.relay("registration", registration, tmp_path).start(),
               processes.consumer("registration", registration, tmp_path).start(),
               documents_api.start(), processes.relay("documents", documents, tmp_path).start(),
               processes.consumer("documents", documents, tmp_path).start()]
    try:
        processes.wait_ready(registration_base, registration_api)
        processes.wait_ready(documents_base, documents_api)
        wait_for_consumer(documents, f"{documents.amqp_prefix}.documents")
        operator = issue_token(registration, subject="op-7", role="udc_operator", udc_centre="UDC Beanibazar")
        status, migrant = request("POST", f"{registration_base}/api/v1/migrants", operator, MIGRANT)
        assert status == 201, migrant
        ref = migrant["reference"]

        contract = b"%PDF-1.7\n" + b"Employment contract, Doha " * 4000
        body, content_type = multipart({"owner": ref, "doc_type": "job_contract"}, "contract.pdf", contract)
        deadline = time.monotonic() + 20
        while True:  # the documents consumer learns of the migrant from the registration event
            status, _, answer = send("POST", f"{documents_base}/api/v1/documents", operator, body, content_type)
            if status != 422 or time.monotonic() > deadline:
                break
            assert "may take a moment" in json.loads(answer)["detail"]
            time.sleep(0.2)
        assert status == 201, answer
        document = json.loads(answer)
        assert document["versions"][0]["content_sha256"] == hashlib.sha256(contract).hexdigest()

        officer = issue_token(documents, subject="wo-3", role="welfare_officer")
        status, _, answer = send("POST", f"{documents_base}/api/v1/documents/{document['document_id']}/verification",
                                 officer, json.dumps({"decision": "verified", "version": 1}).encode(),
                                 "application/json")
        assert status == 200, answer
        events = [json.loads(b) for _, _, b in tap.drain(expect=2, timeout=20)]
        assert [e["type"] for e in events] == ["documents.document.uploaded", "documents.document.verified"]
        assert events[0]["data"]["owner"] == ref and events[0]["data"]["size"] == len(contract)

        own = issue_token(documents, subject="m", role="migrant", migrant_ref=ref)
        status, headers, content = send("GET", f"{documents_base}/api/v1/documents/{document['document_id']}/content", own)
        assert status == 200 and content == contract and headers["Content-Type"] == "application/pdf"
        status, _, answer = send("GET", f"{documents_base}/api/v1/migrants/{ref}/documents/verify", officer)
        assert status == 200 and json.loads(answer)["ok"] is True

        dropped = send_truncated(documents_base, operator, body, content_type)
        assert dropped.startswith(b"HTTP/1.1 400") and b"malformed-multipart" in dropped, dropped[:300]
        db = mongo.database(documents)
        assert db.records.count_documents({}) == 1 and db["content.files"].count_documents({}) == 1
    finally:
        codes = [p.stop(signal.SIGTERM) for p in started]
    assert codes[1:3] + codes[4:] == [0, 0, 0, 0], [p.log()[-2000:] for p in started]
