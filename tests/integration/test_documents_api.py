"""The documents API against the real database (GridFS included) and broker."""
from __future__ import annotations

import hashlib
import io
import json
import os
import threading

import pika
import pytest

from services.documents import api as documents_api
from services.documents.bootstrap import unit_of_work
from services.documents.config import DocumentsConfig
from services.documents.consumer import consumer as documents_consumer
from shared import mongo
from shared.auth import issue_token
from shared.consumer import Worker
from shared.events import Envelope
from shared.outbox import OutboxStore
from shared.relay import Relay

from tests.waiting import wait_for

pytestmark = pytest.mark.integration

REF, OTHER = "PB-2345-6789", "PB-ABCD-EFGH"
LIMIT = 6 * 1024 * 1024
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 50
STORES = ("documents", "records", "chain_heads", "content.files", "content.chunks", "outbox")


def registered(reference: str) -> Envelope:
    return Envelope.new(type="registration.migrant.registered", source="registration", subject_type="migrant",
                        subject_id=reference, aggregate_version=1, data={"reference": reference})


def case_event(action: str, case_id: str, version: int, **data) -> Envelope:
    return Envelope.new(type=f"complaints.complaint.{action}", source="complaints", subject_type="complaint",
                        subject_id=case_id, aggregate_version=version, data={"case_id": case_id, **data})


class Vault:
    def __init__(self, app, settings, db, uow):
        self.http, self.settings, self.db, self.uow = app.test_client(), settings, db, uow

    def token(self, role, **claims):
        centre = "UDC Daudkandi" if role == "udc_operator" else None
        return issue_token(self.settings, subject=f"{role}-1", role=role, udc_centre=centre, **claims)

    def headers(self, role, **claims):
        return {"Authorization": f"Bearer {self.token(role, **claims)}"} if role else {}

    def upload(self, role="udc_operator", path="/documents", content=PDF, filename="contract.pdf",
               content_type="application/pdf", claims=None, **fields):
        data = {"owner": REF, "doc_type": "job_contract", **fields} if path == "/documents" else dict(fields)
        if content is not None:
            data["file"] = (io.BytesIO(content), filename, content_type)
        return self.http.post(f"/api/v1{path}", data=data, content_type="multipart/form-data",
                              headers=self.headers(role, **(claims or {})))

    def call(self, method, path, role="welfare_officer", body=None, **claims):
        return self.http.open(f"/api/v1{path}", method=method, json=body, headers=self.headers(role, **claims))

    def apply(self, event):
        documents_consumer.process(self.uow, event)

    def stored(self) -> dict:
        return {name: self.db[name].count_documents({}) for name in STORES}


@pytest.fixture
def vault(infra):
    settings = infra.settings("documents")
    app = documents_api.create(settings, configure_logging=False, config=DocumentsConfig(max_bytes=LIMIT))
    vault = Vault(app, settings, mongo.database(settings), unit_of_work(settings))
    for reference in (REF, OTHER):
        vault.apply(registered(reference))
    return vault


def test_a_multi_megabyte_file_round_trips_with_its_hash_and_the_event_reaches_rabbitmq(infra, vault):
    tap = infra.tap("documents.#")
    vault.apply(case_event("opened", "CMP-17", 1))
    content = b"%PDF-1.7\n" + os.urandom(5 * 1024 * 1024)
    created = vault.upload(content=content, filename="../চুক্তিপত্র final.pdf", issuer="Al-Noor Agency",
                           issue_date="2025-11-02", case_id="CMP-17")
    assert created.status_code == 201, created.json
    doc = created.json
    assert created.headers["Location"] == f"/api/v1/documents/{doc['document_id']}"
    version = doc["versions"][0]
    assert version["content_sha256"] == hashlib.sha256(content).hexdigest() and version["size"] == len(content)
    assert version["content_type"] == "application/pdf" and version["filename"] == "চুক্তিপত্র final.pdf"
    assert version["uploaded_by"]["udc_centre"] == "UDC Daudkandi" and version["seq"] == 1

    download = vault.http.get(f"/api/v1/documents/{doc['document_id']}/content",
                              headers=vault.headers("migrant", migrant_ref=REF))
    assert download.status_code == 200 and download.data == content
    assert download.mimetype == "application/pdf" and download.headers["Content-Length"] == str(len(content))
    assert download.headers["X-Content-SHA256"] == version["content_sha256"]
    assert download.headers["Content-Disposition"].startswith('attachment; filename="final.pdf"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert vault.db.audit.find_one({"action": "download"})["subject_id"] == doc["document_id"]

    Relay(OutboxStore(vault.db), vault.settings).run(stop_when_idle=True)
    [(method, props, body)] = tap.drain(expect=1)
    event = json.loads(body)
    assert method.routing_key == "documents.document.uploaded" and props.message_id == event["id"]
    assert {k: event["data"][k] for k in ("owner", "doc_type", "content_sha256", "size", "case_id")} == {
        "owner": REF, "doc_type": "job_contract", "content_sha256": version["content_sha256"],
        "size": len(content), "case_id": "CMP-17"}


def _truncated(vault):
    boundary = "----probashi"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"owner\"\r\n\r\n{REF}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"doc_type\"\r\n\r\njob_contract\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode() + PDF  # the client stopped here
    return vault.http.post("/api/v1/documents", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                           headers=vault.headers("udc_operator"))


REFUSED = [
    ("one byte over the limit", lambda v: v.upload(content=b"%PDF-1.4\n" + b"x" * (LIMIT - 8)), 413, "too-large"),
    ("far over the limit", lambda v: v.upload(content=b"%PDF-1.4\n" + b"x" * (LIMIT + 512 * 1024)), 413, "too-large"),
    ("empty file", lambda v: v.upload(content=b""), 422, "validation"),
    ("executable renamed .pdf", lambda v: v.upload(content=b"MZ\x90\x00\x03" + os.urandom(4096)), 415,
     "unsupported-type"),
    ("HTML sent as image/png", lambda v: v.upload(content=b"<html><script>x</script></html>", filename="a.png",
                                                  content_type="image/png"), 415, "unsupported-type"),
    ("truncated multipart", _truncated, 400, "malformed-multipart"),
    ("no file part", lambda v: v.upload(content=None), 422, "validation"),
    ("JSON instead of multipart", lambda v: v.call("POST", "/documents", "udc_operator",
                                                   {"owner": REF, "doc_type": "job_contract"}), 415, None),
    ("unknown owner", lambda v: v.upload(owner="PB-ZZZZ-ZZZZ"), 422, "validation"),
    ("unknown document type", lambda v: v.upload(doc_type="love_letter"), 422, "validation"),
    ("unknown field", lambda v: v.upload(colour="green"), 422, "validation"),
    ("no token", lambda v: v.upload(role=None), 401, None),
    ("a migrant uploading for another", lambda v: v.upload(role="migrant", claims={"migrant_ref": OTHER}), 403,
     "forbidden"),
]


@pytest.mark.parametrize("case,send,status,slug", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_uploads_get_their_own_status_and_store_nothing(vault, case, send, status, slug):
    response = send(vault)
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    if slug:
        assert response.json["type"] == f"urn:probashi:problem:{slug}"
    assert set(vault.stored().values()) == {0}, vault.stored()


def test_unknown_owner_says_a_new_registration_may_take_a_moment(vault):
    problem = vault.upload(owner="PB-ZZZZ-ZZZZ").json
    assert "may take a moment" in problem["detail"] and "owner" in problem["errors"]


def test_a_new_version_keeps_the_old_one(vault):
    doc_id = vault.upload(issuer="Agency").json["document_id"]
    newer = vault.upload(role="migrant", claims={"migrant_ref": REF}, path=f"/documents/{doc_id}/versions",
                         content=b"\x89PNG\r\n\x1a\n" + b"scan" * 100, filename="scan.png")
    assert newer.status_code == 201, newer.json
    assert [v["version"] for v in newer.json["versions"]] == [1, 2] and newer.json["current_version"] == 2
    assert newer.json["versions"][1]["issuer"] == "Agency"  # carried over
    first = vault.http.get(f"/api/v1/documents/{doc_id}/content?version=1", headers=vault.headers("legal_aid"))
    current = vault.http.get(f"/api/v1/documents/{doc_id}/content", headers=vault.headers("legal_aid"))
    assert first.data == PDF and current.mimetype == "image/png" and current.data.startswith(b"\x89PNG")
    assert vault.db["content.files"].count_documents({"metadata.state": "stored"}) == 2
    assert [e["type"] for e in vault.db.outbox.find().sort("created_at", 1)] == [
        "documents.document.uploaded", "documents.document.version_added"]


def test_officers_verify_or_reject_and_other_roles_cannot(vault):
    doc_id = vault.upload().json["document_id"]
    for role, claims in (("udc_operator", {}), ("migrant", {"migrant_ref": REF}), ("admin", {})):
        denied = vault.call("POST", f"/documents/{doc_id}/verification", role,
                            {"decision": "verified", "version": 1}, **claims)
        assert denied.status_code == 403
    assert vault.db.outbox.count_documents({"type": {"$ne": "documents.document.uploaded"}}) == 0
    no_reason = vault.call("POST", f"/documents/{doc_id}/verification", "legal_aid",
                           {"decision": "rejected", "version": 1})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    stale = vault.call("POST", f"/documents/{doc_id}/verification", body={"decision": "verified", "version": 2})
    assert stale.status_code == 409
    ok = vault.call("POST", f"/documents/{doc_id}/verification", body={"decision": "verified", "version": 1,
                                                                        "reason": "Matches the BMET copy"})
    assert ok.status_code == 200 and ok.json["status"] == "verified"
    assert ok.json["current"]["verification"]["by"] == {"user": "welfare_officer-1", "role": "welfare_officer"}
    event = vault.db.outbox.find_one({"type": "documents.document.verified"})["envelope"]
    assert event["data"]["version"] == 1 and event["data"]["reason"] == "Matches the BMET copy"


def test_another_migrants_document_is_forbidden_and_staff_reads_are_audited(vault):
    doc_id = vault.upload(owner=OTHER).json["document_id"]
    for path in (f"/documents/{doc_id}", f"/documents/{doc_id}/content", f"/documents/{doc_id}/history",
                 f"/migrants/{OTHER}/documents", f"/migrants/{OTHER}/documents/verify"):
        response = vault.call("GET", path, "migrant", migrant_ref=REF)
        assert response.status_code == 403, path
    sneaked = vault.upload(role="migrant", claims={"migrant_ref": REF}, path=f"/documents/{doc_id}/versions")
    assert sneaked.status_code == 403 and vault.db.records.count_documents({}) == 1
    assert vault.db.audit.count_documents({}) == 0
    assert vault.call("GET", f"/documents/{doc_id}", "legal_aid").status_code == 200
    assert vault.call("GET", f"/migrants/{OTHER}/documents", "welfare_officer").status_code == 200
    entries = list(vault.db.audit.find({}, {"_id": 0, "actor": 1, "action": 1, "subject_id": 1}).sort("at", 1))
    assert entries == [{"actor": {"user": "legal_aid-1", "role": "legal_aid"}, "action": "read", "subject_id": doc_id},
                       {"actor": {"user": "welfare_officer-1", "role": "welfare_officer"}, "action": "read",
                        "subject_id": doc_id}]


def test_listing_by_type_pages_newest_first(vault):
    slips = [vault.upload(doc_type="payment_slip").json["document_id"] for _ in range(3)]
    vault.upload(doc_type="visa")
    seen, cursor = [], None
    while True:
        page = vault.call("GET", f"/migrants/{REF}/documents?doc_type=payment_slip&limit=2"
                          + (f"&cursor={cursor}" if cursor else "")).json
        seen += [d["document_id"] for d in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == list(reversed(slips))
    assert len(vault.call("GET", f"/migrants/{REF.lower()}/documents").json["items"]) == 4
    assert vault.call("GET", f"/migrants/{REF}/documents?doc_type=nonsense").status_code == 422
    assert vault.call("GET", "/migrants/PB-ZZZZ-ZZZZ/documents").status_code == 404


def test_tampering_with_bytes_or_records_is_named_by_verify(vault):
    ids = [vault.upload(content=PDF + str(n).encode()).json["document_id"] for n in range(4)]
    clean = vault.call("GET", f"/migrants/{REF}/documents/verify", "legal_aid")
    assert clean.status_code == 200 and clean.json["ok"] is True and clean.json["records"] == 4

    altered_bytes = vault.db.records.find_one({"document_id": ids[0]})["content_id"]
    chunk = vault.db["content.chunks"].find_one({"files_id": altered_bytes, "n": 0})
    vault.db["content.chunks"].update_one({"_id": chunk["_id"]}, {"$set": {"data": b"%PDF-1.7\nforged" +
                                                                           bytes(chunk["data"])[15:]}})
    vault.db.records.update_one({"document_id": ids[1]}, {"$set": {"issuer": "Someone else"}})
    lost_chunk = vault.db.records.find_one({"document_id": ids[2]})["content_id"]
    vault.db["content.chunks"].delete_many({"files_id": lost_chunk})

    report = vault.call("GET", f"/migrants/{REF}/documents/verify", "legal_aid").json
    assert report["ok"] is False
    named = {(p["document_id"], p["kind"]) for p in report["problems"]}
    assert named == {(ids[0], "content_altered"), (ids[1], "record_altered"), (ids[2], "content_altered")}
    assert vault.db.audit.count_documents({"action": "verify_chain", "subject_id": REF}) == 2


def test_removing_the_newest_record_is_noticed_too(vault):
    ids = [vault.upload().json["document_id"] for _ in range(2)]
    vault.db.records.delete_one({"document_id": ids[1]})
    report = vault.call("GET", f"/migrants/{REF}/documents/verify").json
    assert {(p["document_id"], p["kind"]) for p in report["problems"]} == {(None, "chain_truncated"),
                                                                          (ids[1], "head_mismatch")}


def test_a_referenced_document_cannot_be_deleted_until_its_case_closes(vault):
    vault.apply(case_event("opened", "CMP-5", 1))
    linked = vault.upload(case_id="CMP-5").json["document_id"]
    named = vault.upload().json["document_id"]
    vault.apply(case_event("opened", "CMP-9", 1, document_ids=[named]))
    reason = {"reason": "Uploaded against the wrong migrant"}
    for doc_id, case in ((linked, "CMP-5"), (named, "CMP-9")):
        held = vault.call("DELETE", f"/documents/{doc_id}", "admin", reason)
        assert held.status_code == 409 and held.json["type"] == "urn:probashi:problem:legal-hold"
        assert held.json["holds"] == [case] and case in held.json["detail"]
    assert vault.db["content.files"].count_documents({}) == 2
    assert vault.call("DELETE", f"/documents/{named}", "welfare_officer", reason).status_code == 403
    assert vault.call("DELETE", f"/documents/{named}", "admin", {}).status_code == 422

    vault.apply(case_event("closed", "CMP-5", 2))
    assert vault.call("DELETE", f"/documents/{linked}", "admin", reason).status_code == 204
    record = vault.db.records.find_one({"document_id": linked})
    assert record["deleted"] is True and record["deletion"]["reason"] == reason["reason"]
    assert vault.db["content.files"].count_documents({"_id": record["content_id"]}) == 0
    assert vault.db.audit.find_one({"action": "delete"})["subject_id"] == linked
    assert vault.db.outbox.find_one({"type": "documents.document.deleted"})["envelope"]["data"]["by"]["role"] == "admin"
    assert vault.call("GET", f"/documents/{linked}/content").status_code == 410
    assert vault.call("GET", f"/documents/{linked}").json["status"] == "deleted"
    listed = vault.call("GET", f"/migrants/{REF}/documents").json["items"]
    assert [d["document_id"] for d in listed] == [named]
    assert vault.call("GET", f"/migrants/{REF}/documents/verify").json["ok"] is True


def test_a_registration_delivered_twice_is_applied_once(infra, vault):
    worker = Worker(documents_consumer, vault.uow, vault.settings)
    infra.background(worker, worker.run)
    assert worker.ready.wait(15)
    event = registered("PB-QRST-VWXY")
    connection = pika.BlockingConnection(pika.URLParameters(vault.settings.amqp_url))
    channel = connection.channel()
    for _ in range(2):
        channel.basic_publish(f"{vault.settings.amqp_prefix}.events", event.type, event.to_json(),
                              pika.BasicProperties(message_id=event.id, content_type="application/json"))
    connection.close()
    wait_for(lambda: worker.processed == 2)
    assert vault.db.owners.count_documents({"_id": "PB-QRST-VWXY"}) == 1
    assert vault.db.inbox.count_documents({"event_id": event.id}) == 1
    assert vault.upload(owner="PB-QRST-VWXY").status_code == 201


def test_concurrent_uploads_for_one_migrant_keep_one_unbroken_chain(vault):
    results, barrier = [], threading.Barrier(6)

    def upload(n):
        http = vault.http.application.test_client()
        barrier.wait()
        response = http.post("/api/v1/documents", content_type="multipart/form-data",
                             headers=vault.headers("welfare_officer"),
                             data={"owner": REF, "doc_type": "payment_slip",
                                   "file": (io.BytesIO(PDF + bytes([n])), f"slip-{n}.pdf")})
        results.append(response.status_code)

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 6
    assert sorted(r["seq"] for r in vault.db.records.find()) == [1, 2, 3, 4, 5, 6]
    assert vault.call("GET", f"/migrants/{REF}/documents/verify").json["ok"] is True


def test_openapi_documents_the_multipart_upload_and_health_is_public(vault):
    spec = vault.http.get("/openapi.json").json
    upload = spec["paths"]["/api/v1/documents"]["post"]
    assert upload["requestBody"]["content"]["multipart/form-data"]["schema"] == {
        "$ref": "#/components/schemas/UploadForm"}
    assert spec["components"]["schemas"]["UploadForm"]["properties"]["file"]["format"] == "binary"
    assert {"413", "415", "422"} <= set(upload["responses"])
    assert "application/pdf" in spec["paths"]["/api/v1/documents/{document_id}/content"]["get"]["responses"]["200"][
        "content"]
    types = vault.call("GET", "/document-types", "migrant", migrant_ref=REF).json["items"]
    assert {"job_contract", "death_certificate", "power_of_attorney"} <= {t["code"] for t in types}
    public = vault.http.get("/api/v1/document-types")  # no token: the portal's public guide names them
    assert public.status_code == 200 and public.json["items"] == types
    ready = vault.http.get("/health/ready")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "broker": "ok"}


def test_an_upload_that_never_committed_is_swept(vault):
    from services.documents.storage import GridFSContent
    store = GridFSContent(vault.db)
    orphan = store.save([PDF], filename="x.pdf", owner=REF)
    assert store.sweep() == 0  # still young: it may be an upload in progress
    vault.db["content.files"].update_one({"_id": orphan}, {"$set": {"uploadDate": vault.db["content.files"].find_one(
        {"_id": orphan})["uploadDate"].replace(year=2020)}})
    assert store.sweep() == 1 and vault.db["content.chunks"].count_documents({}) == 0


def test_content_is_read_back_in_bounded_pieces(vault):
    from services.documents.storage import READ_SIZE, GridFSContent
    store = GridFSContent(vault.db)
    content = b"%PDF-1.7" + b"\x00" * (3 * READ_SIZE)  # no newline: a GridOut iterated as lines gives one piece
    stored = store.save([content], filename="x.pdf", owner=REF)
    pieces = list(store.open(stored))
    assert b"".join(pieces) == content and max(map(len, pieces)) <= READ_SIZE
    assert store.sha256(stored) == hashlib.sha256(content).hexdigest()


# -- evidence safety: case links, the verify budget, checked downloads, history in the same transaction --

def test_a_case_link_needs_a_case_the_vault_knows(vault):
    made_up = vault.upload(role="migrant", claims={"migrant_ref": REF}, case_id="CMP-404")
    assert made_up.status_code == 422, made_up.json
    assert "case_id" in made_up.json["errors"] and set(vault.stored().values()) == {0}
    vault.apply(case_event("opened", "CMP-404", 1))
    linked = vault.upload(role="migrant", claims={"migrant_ref": REF}, case_id="CMP-404")
    assert linked.status_code == 201 and linked.json["case_ids"] == ["CMP-404"]
    doc_id = linked.json["document_id"]
    again = vault.upload(role="migrant", claims={"migrant_ref": REF}, path=f"/documents/{doc_id}/versions",
                         case_id="CMP-405")
    assert again.status_code == 422 and "case_id" in again.json["errors"]


def test_a_migrant_cannot_rerun_the_full_verify_at_will_staff_can(vault):
    vault.upload()
    own = {"migrant_ref": REF}
    assert vault.call("GET", f"/migrants/{REF}/documents/verify", "migrant", **own).status_code == 200
    again = vault.call("GET", f"/migrants/{REF}/documents/verify", "migrant", **own)
    assert again.status_code == 429, again.json
    assert again.headers["Content-Type"] == "application/problem+json" and int(again.headers["Retry-After"]) > 0
    assert vault.call("GET", f"/migrants/{REF}/documents/verify", "welfare_officer").status_code == 200


def test_a_download_carries_the_recorded_digest(vault):
    import base64
    doc = vault.upload().json
    download = vault.http.get(f"/api/v1/documents/{doc['document_id']}/content", headers=vault.headers("legal_aid"))
    expected = base64.b64encode(hashlib.sha256(PDF).digest()).decode()
    assert download.status_code == 200 and download.headers["Repr-Digest"] == f"sha-256=:{expected}:"


def test_altered_or_missing_bytes_are_not_served_but_refused_logged_and_audited(vault):
    altered, missing = (vault.upload(content=PDF + bytes([n])).json["document_id"] for n in range(2))
    chunk = vault.db["content.chunks"].find_one({"files_id": vault.db.records.find_one(
        {"document_id": altered})["content_id"]})
    vault.db["content.chunks"].update_one({"_id": chunk["_id"]}, {"$set": {"data": bytes(chunk["data"]).replace(
        b"Catalog", b"Forgery")}})
    vault.db["content.chunks"].delete_many({"files_id": vault.db.records.find_one(
        {"document_id": missing})["content_id"]})
    for doc_id, slug in ((altered, "content-altered"), (missing, "content-missing")):
        refused = vault.http.get(f"/api/v1/documents/{doc_id}/content", headers=vault.headers("legal_aid"))
        assert refused.status_code == 500 and refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json["type"] == f"urn:probashi:problem:{slug}" and b"Forgery" not in refused.data
        assert vault.db.audit.find_one({"subject_id": doc_id, "action": "download_refused"}) is not None


def test_history_is_written_with_the_change_itself(vault):
    doc_id = vault.upload().json["document_id"]
    vault.call("POST", f"/documents/{doc_id}/verification", body={"decision": "verified", "version": 1})
    history = vault.call("GET", f"/documents/{doc_id}/history", "migrant", migrant_ref=REF)  # no consumer ran
    assert [e["type"] for e in history.json["items"]] == ["documents.document.verified",
                                                          "documents.document.uploaded"]
    events = [r["_id"] for r in vault.db.outbox.find().sort("created_at", -1)]
    assert [e["event_id"] for e in history.json["items"]] == events
    assert not any(key.startswith("documents.") for key in documents_consumer.binding_keys)


def test_a_lost_race_for_the_chain_is_retried_by_the_unit_of_work_itself(vault):
    from services.documents.repository import ChainContention
    attempts = []

    def loses_twice(tx):
        attempts.append(tx)
        if len(attempts) < 3:
            raise ChainContention(REF)
        return "committed"

    assert vault.uow.run(loses_twice) == "committed" and len(attempts) == 3


def test_the_sweeper_keeps_sweeping_while_the_process_runs(infra, vault):
    from datetime import timedelta

    from services.documents.storage import GridFSContent, Sweeper
    store = GridFSContent(vault.db)
    sweeper = Sweeper(store, interval=timedelta(milliseconds=50), older_than=timedelta(0))
    infra.background(sweeper, sweeper.run)
    for _ in range(2):  # left pending, as by an upload whose commit never landed, each after the start
        orphan = store.save([PDF], filename="x.pdf", owner=REF)
        wait_for(lambda: vault.db["content.files"].count_documents({"_id": orphan}) == 0, 10, "not swept")


def test_chunks_the_database_refuses_leave_no_bytes_behind(vault):
    from services.documents.storage import ContentNotStored, GridFSContent
    store = GridFSContent(vault.db)
    # The database takes no chunk (a validator no chunk passes): the upload's one write is refused.
    vault.db.create_collection("content.chunks", validator={"n": {"$lt": 0}})
    with pytest.raises(ContentNotStored):
        store.save([PDF + b"\0" * (300 * 1024)], filename="x.pdf", owner=REF)
    assert vault.db["content.chunks"].count_documents({}) == 0
    assert vault.db["content.files"].count_documents({}) == 0


def test_the_binding_that_read_own_events_back_is_retired_at_start(infra, vault):
    from services.documents.consumer import retire_bindings
    queue, exchange = f"{vault.settings.amqp_prefix}.documents", f"{vault.settings.amqp_prefix}.events"
    retire_bindings(vault.settings)  # a first start: no queue yet, nothing to do
    connection = pika.BlockingConnection(pika.URLParameters(vault.settings.amqp_url))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True)  # as an earlier version left it
    channel.queue_bind(queue, exchange, routing_key="documents.document.*")
    retire_bindings(vault.settings)
    channel.queue_bind(queue, exchange, routing_key="registration.migrant.registered")
    for routing_key in ("documents.document.uploaded", "registration.migrant.registered"):
        channel.basic_publish(exchange, routing_key, b"{}")
    wait_for(lambda: channel.queue_declare(queue, passive=True).method.message_count >= 1)
    method, _, _ = channel.basic_get(queue, auto_ack=True)  # published first, so first if wrongly routed
    assert method.routing_key == "registration.migrant.registered"
    assert channel.queue_declare(queue, passive=True).method.message_count == 0
    connection.close()
