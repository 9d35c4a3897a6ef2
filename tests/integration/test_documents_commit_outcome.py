"""An upload whose commit outcome is unknown (the database went away during commit):
the bytes stay until the sweep can tell, and the client is told the truth.

The database is reached through a proxy that understands MongoDB's message framing and
loses every `commitTransaction`: either after the server applied it (its reply never
reaches the client) or before (the server never sees it). Everything else passes, so
the API's own clean-up, reads and GridFS work as they would with a flaky network.
"""
from __future__ import annotations

import io
import socket
import struct
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from pymongo import uri_parser

from services.documents import api as documents_api, bootstrap
from services.documents.bootstrap import unit_of_work
from services.documents.config import DocumentsConfig
from services.documents.consumer import consumer as documents_consumer
from services.documents.storage import GridFSContent
from shared import mongo
from shared.auth import issue_token
from shared.events import Envelope
from shared.http.app import create_app

pytestmark = pytest.mark.integration

REF = "PB-2345-6789"
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 50
COMMIT = b"commitTransaction"


class CommitLosingProxy:
    """Forwards MongoDB traffic, except that each commitTransaction is lost: with
    `applied=True` the server gets it and its reply is dropped, else it never arrives.
    Either way the connection is then closed, as a network failure would."""

    def __init__(self, host: str, port: int, applied: bool):
        self.target, self.applied = (host, port), applied
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.commits_lost = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:  # the database is gone (the session is over)
                _close(client)
                continue
            pending: set[int] = set()  # request ids of commits whose replies must not arrive
            threading.Thread(target=self._requests, args=(client, upstream, pending), daemon=True).start()
            threading.Thread(target=self._replies, args=(upstream, client, pending), daemon=True).start()

    def _requests(self, client, upstream, pending) -> None:
        try:
            while message := _read_message(client):
                if COMMIT in message:
                    self.commits_lost += 1
                    if not self.applied:
                        break
                    pending.add(struct.unpack_from("<i", message, 4)[0])
                upstream.sendall(message)
        except OSError:
            pass
        _close(client, upstream)

    def _replies(self, upstream, client, pending) -> None:
        try:
            while message := _read_message(upstream):
                if struct.unpack_from("<i", message, 8)[0] in pending:
                    break  # the commit was applied; its answer is lost on the way
                client.sendall(message)
        except OSError:
            pass
        _close(client, upstream)


def _read_message(sock) -> bytes:
    header = _read_exactly(sock, 4)
    if not header:
        return b""
    return header + _read_exactly(sock, struct.unpack("<i", header)[0] - 4)


def _read_exactly(sock, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return b""
        data += chunk
    return data


def _close(*socks) -> None:
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


@pytest.fixture(params=[True, False], ids=["commit applied, reply lost", "commit lost"])
def flaky(request, infra):
    direct = infra.settings("documents")
    hosts = uri_parser.parse_uri(direct.mongo_uri)["nodelist"]
    if len(hosts) != 1:
        pytest.skip("needs a single-host database to put the proxy in front of")
    proxy = CommitLosingProxy(*hosts[0], applied=request.param)
    through = replace(direct, mongo_uri=f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true")
    documents_consumer.process(unit_of_work(direct), Envelope.new(
        type="registration.migrant.registered", source="registration", subject_type="migrant", subject_id=REF,
        aggregate_version=1, data={"reference": REF}))
    ports = bootstrap.build(through, DocumentsConfig())
    app = create_app(through, documents_api.make_api(ports), title="documents", description="through the proxy",
                     readiness={}, configure_logging=False)
    yield app.test_client(), direct, proxy, request.param
    ports.reads.db.client.close()
    proxy.close()


def test_an_upload_whose_commit_outcome_is_unknown_keeps_its_bytes_and_says_so(flaky):
    http, settings, proxy, applied = flaky
    token = issue_token(settings, subject="wo", role="welfare_officer")
    answer = http.post("/api/v1/documents", content_type="multipart/form-data",
                       headers={"Authorization": f"Bearer {token}"},
                       data={"owner": REF, "doc_type": "job_contract", "file": (io.BytesIO(PDF), "contract.pdf")})
    assert proxy.commits_lost >= 1
    assert answer.status_code == 503 and answer.headers["Retry-After"], answer.json
    problem = answer.json
    assert problem["type"] == "urn:probashi:problem:outcome-unknown" and "may have been stored" in problem["detail"]
    document_id = problem["document_id"]
    assert document_id in problem["detail"]

    db = mongo.database(settings)  # the database answers again
    assert db["content.files"].count_documents({}) == 1  # the bytes were not thrown away on a guess
    # A transaction whose commit never arrived is aborted by the server after its
    # lifetime limit (60 s); killAllSessions does that now.
    db.client.admin.command("killAllSessions", [])
    GridFSContent(db).sweep(older_than=timedelta(0))  # the sweep decides from what committed
    if applied:
        assert db.documents.find_one({"_id": document_id}) is not None
        assert db["content.files"].count_documents({"metadata.state": "stored"}) == 1
        report = http.get(f"/api/v1/migrants/{REF}/documents/verify", headers={"Authorization": f"Bearer {token}"})
        assert report.json["ok"] is True, report.json["problems"]
    else:
        assert db.documents.count_documents({}) == 0 and db.records.count_documents({}) == 0
        assert db["content.files"].count_documents({}) == 0 and db["content.chunks"].count_documents({}) == 0
