"""The documents use cases against in-memory ports."""
from __future__ import annotations

import hashlib
import io
import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from pymongo.errors import PyMongoError

from services.documents import chain, chain_report, deletion, domain, queries, review, transaction, upload
from services.documents.config import DocumentsConfig
from services.documents.consumer import consumer as documents_consumer
from services.documents.download import download_version as download
from services.documents.ports import Ports
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import Envelope
from tests.unit.documents_fakes import FakeAudit, FakeContent, FakeRepositories, FakeUnitOfWork

REF, OTHER = "PB-2345-6789", "PB-ABCD-EFGH"
OPERATOR = Principal("op-1", "udc_operator", udc_centre="UDC Daudkandi")
OFFICER = Principal("wo-1", "welfare_officer")
LAWYER = Principal("la-1", "legal_aid")
ADMIN = Principal("ad-1", "admin")
MIGRANT = Principal("m-1", "migrant", migrant_ref=REF)
PDF = b"%PDF-1.7\n" + b"contract text " * 100


@dataclass
class File:
    stream: io.BytesIO
    filename: str | None


def form(content=PDF, filename="contract.pdf", **fields):
    return {"owner": REF, "doc_type": "job_contract", "file": File(io.BytesIO(content), filename), **fields}


def registered(reference: str, version: int = 1) -> Envelope:
    return Envelope.new(type=domain.MIGRANT_REGISTERED, source="registration", subject_type="migrant",
                        subject_id=reference, aggregate_version=version, data={"reference": reference})


def case_event(action: str, case_id: str, version: int, **data) -> Envelope:
    return Envelope.new(type=f"claims.claim.{action}", source="claims", subject_type="claim", subject_id=case_id,
                        aggregate_version=version, data={"case_id": case_id, **data})


@pytest.fixture
def uow():
    uow = FakeUnitOfWork()
    for reference in (REF, OTHER):
        documents_consumer.process(uow, registered(reference))
    return uow


@pytest.fixture
def content():
    return FakeContent()


@pytest.fixture
def audit():
    return FakeAudit()


@pytest.fixture
def ports(uow, content, audit):
    ticks = itertools.count()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return Ports(uow, FakeRepositories(uow.state), content, audit, config=DocumentsConfig(max_bytes=64 * 1024),
                 clock=lambda: start + timedelta(seconds=next(ticks)))


def stored_nothing(uow, content, events_before=0):
    return not uow.state["records"] and not uow.state["documents"] and not content.files \
        and len(uow.outbox) == events_before


def test_upload_stores_checked_content_and_links_the_chain(ports, uow, content):
    documents_consumer.process(uow, case_event("opened", "CLM-1", 1))
    doc = upload.upload_document(ports, OPERATOR, form(issuer="Al-Noor Agency", issue_date=date(2025, 11, 2), case_id="CLM-1"))
    assert doc["owner"] == REF and doc["current_version"] == 1 and doc["status"] == "pending"
    version = doc["versions"][0]
    assert version["content_sha256"] == hashlib.sha256(PDF).hexdigest() and version["size"] == len(PDF)
    assert version["content_type"] == "application/pdf" and version["filename"] == "contract.pdf"
    assert version["uploaded_by"] == {"user": "op-1", "role": "udc_operator", "udc_centre": "UDC Daudkandi"}
    record = uow.state["records"][f"{doc['document_id']}:1"]
    assert record["seq"] == 1 and record["prev_hash"] == chain.GENESIS and record["issue_date"] == "2025-11-02"
    assert record["uploaded_at"] == "2026-01-01T00:00:00.000Z"
    assert uow.state["content_states"][record["content_id"]] == "stored"
    assert [e.type for e in uow.outbox] == [domain.UPLOADED]
    event = uow.outbox[-1]
    assert event.subject.id == doc["document_id"] and event.aggregate_version == 1
    assert {k: event.data[k] for k in ("owner", "doc_type", "content_sha256", "size", "case_id")} == {
        "owner": REF, "doc_type": "job_contract", "content_sha256": version["content_sha256"], "size": len(PDF),
        "case_id": "CLM-1"}


def test_bytes_the_database_refused_part_way_are_a_plain_try_again_and_nothing_is_recorded(ports, uow, content):
    from services.documents.storage import ContentNotStored

    def refused(chunks, *, filename, owner):
        raise ContentNotStored("E11000 duplicate key error collection: content.chunks")

    content.save = refused
    with pytest.raises(domain.NotStored) as refusal:
        upload.upload_document(ports, OPERATOR, form())
    assert refusal.value.status == 503 and "nothing was kept" in refusal.value.detail
    assert stored_nothing(uow, content)


def test_each_upload_of_a_migrant_links_to_the_previous_record(ports, uow):
    first = upload.upload_document(ports, MIGRANT, form())
    second = upload.upload_document(ports, OFFICER, form(doc_type="payment_slip", content=b"\x89PNG\r\n\x1a\n" + b"x" * 50))
    records = sorted(uow.state["records"].values(), key=lambda r: r["seq"])
    assert [r["document_id"] for r in records] == [first["document_id"], second["document_id"]]
    assert records[1]["prev_hash"] == records[0]["record_hash"]
    assert uow.state["chain_heads"][REF]["seq"] == 2
    assert chain.verify_chain(records, {chain.record_key(r): r["content_sha256"] for r in records}) == []


def test_unknown_owner_is_refused_with_a_hint_and_nothing_stored(ports, uow, content):
    with pytest.raises(Invalid) as err:
        upload.upload_document(ports, OFFICER, form(owner="PB-ZZZZ-ZZZZ"))
    assert "may take a moment" in err.value.detail and "owner" in err.value.errors
    assert stored_nothing(uow, content)


@pytest.mark.parametrize("data,error,status", [
    (b"", Invalid, 422),
    (b"MZ\x90\x00" + b"\x00" * 200, domain.UnsupportedMedia, 415),  # an executable named contract.pdf
    (b"%PDF-1.4\n" + b"x" * (64 * 1024), domain.TooLarge, 413),
], ids=["empty", "disguised executable", "oversize"])
def test_refused_content_leaves_nothing_behind(ports, uow, content, data, error, status):
    with pytest.raises(error) as err:
        upload.upload_document(ports, OFFICER, form(content=data, filename="contract.pdf"))
    assert err.value.status == status
    assert stored_nothing(uow, content)


def test_disguised_type_names_what_it_really_is(ports):
    with pytest.raises(domain.UnsupportedMedia) as err:
        upload.upload_document(ports, OFFICER, form(content=b"MZ" + b"\x00" * 100))
    assert err.value.extra["detected"] == "Windows executable"


def test_a_migrant_uploads_only_for_themself(ports, uow, content):
    assert upload.upload_document(ports, MIGRANT, form())["owner"] == REF
    with pytest.raises(Forbidden):
        upload.upload_document(ports, MIGRANT, form(owner=OTHER))
    assert len(content.files) == 1


def test_a_family_member_uploads_only_to_a_case_their_sign_in_names_for_its_migrant(ports, uow, content):
    documents_consumer.process(uow, case_event("submitted", "CLM-2026-AAAAAAAA", 1, migrant_reference=REF))
    documents_consumer.process(uow, case_event("submitted", "CLM-2026-BBBBBBBB", 1, migrant_reference=OTHER))
    heir = Principal("family:+8801711000001", "family", cases=("CLM-2026-AAAAAAAA",))
    doc = upload.upload_document(ports, heir, form(doc_type="death_certificate", case_id="CLM-2026-AAAAAAAA"))
    assert doc["owner"] == REF and doc["versions"][0]["uploaded_by"]["role"] == "family"
    refused = [form(),  # no case named
               form(case_id="CLM-2026-BBBBBBBB", owner=OTHER),  # a case their sign-in does not name
               form(case_id="CLM-2026-AAAAAAAA", owner=OTHER),  # their case, another migrant's records
               form(case_id="CLM-2026-CCCCCCCC")]  # a case the vault has not heard of
    for attempt in refused:
        with pytest.raises(Forbidden):
            upload.upload_document(ports, heir, attempt)
    assert len(content.files) == 1
    with pytest.raises(Forbidden):  # reading stays as it was: a family member reads no migrant's documents
        queries.list_documents(ports, heir, REF, None, 10, None)


def test_a_case_keeps_its_migrant_when_a_later_event_does_not_name_them(uow):
    documents_consumer.process(uow, case_event("submitted", "CLM-2026-AAAAAAAA", 1, migrant_reference=REF))
    documents_consumer.process(uow, case_event("approved", "CLM-2026-AAAAAAAA", 2))
    assert FakeRepositories(uow.state).cases.get("CLM-2026-AAAAAAAA")["owner"] == REF


def test_udc_operator_must_name_a_centre_and_only_they_may(ports):
    with pytest.raises(Invalid) as err:
        upload.upload_document(ports, Principal("op-2", "udc_operator"), form())
    assert "udc_centre" in err.value.errors
    with pytest.raises(Invalid):
        upload.upload_document(ports, OFFICER, form(udc_centre="UDC X"))
    doc = upload.upload_document(ports, Principal("op-2", "udc_operator"), form(udc_centre="UDC Beanibazar"))
    assert doc["versions"][0]["uploaded_by"]["udc_centre"] == "UDC Beanibazar"


def test_document_type_comes_from_the_configured_list(uow, content, audit):
    ports = Ports(uow, FakeRepositories(uow.state), content, audit,
                  config=DocumentsConfig(doc_types=("job_contract", "visa")))
    with pytest.raises(Invalid) as err:
        upload.upload_document(ports, OFFICER, form(doc_type="payment_slip"))
    assert "doc_type" in err.value.errors
    assert [t["code"] for t in queries.document_types(ports)] == ["job_contract", "visa"]


def test_a_new_version_keeps_the_old_one(ports, uow, content):
    documents_consumer.process(uow, case_event("opened", "CLM-1", 1))
    doc = upload.upload_document(ports, OPERATOR, form(issuer="Agency", case_id="CLM-1"))
    review.decide(ports, OFFICER, doc["document_id"], {"decision": "verified", "version": 1})
    newer = upload.add_version(ports, MIGRANT, doc["document_id"], form(content=PDF + b" signed"))
    assert newer["current_version"] == 2 and newer["status"] == "pending"  # the new bytes are not verified yet
    assert [v["version"] for v in newer["versions"]] == [1, 2]
    assert newer["versions"][0]["verification"]["status"] == "verified"
    assert newer["versions"][1]["issuer"] == "Agency" and newer["versions"][1]["case_id"] == "CLM-1"
    assert len(content.files) == 2
    event = uow.outbox[-1]
    assert event.type == domain.VERSION_ADDED and event.data["version"] == 2 and event.aggregate_version == 3


def test_officers_verify_or_reject_the_current_version(ports, uow):
    doc_id = upload.upload_document(ports, MIGRANT, form())["document_id"]
    with pytest.raises(Forbidden):
        review.decide(ports, OPERATOR, doc_id, {"decision": "verified", "version": 1})
    rejected = review.decide(ports, LAWYER, doc_id, {"decision": "rejected", "version": 1, "reason": "Unsigned copy"})
    assert rejected["status"] == "rejected" and rejected["current"]["verification"]["reason"] == "Unsigned copy"
    assert uow.outbox[-1].type == domain.REJECTED and uow.outbox[-1].data["reason"] == "Unsigned copy"
    upload.add_version(ports, MIGRANT, doc_id, form(content=PDF + b" signed"))
    with pytest.raises(Conflict) as err:
        review.decide(ports, OFFICER, doc_id, {"decision": "verified", "version": 1})
    assert err.value.extra["current_version"] == 2
    assert review.decide(ports, OFFICER, doc_id, {"decision": "verified", "version": 2})["status"] == "verified"
    assert uow.outbox[-1].type == domain.VERIFIED


def test_a_document_linked_to_an_open_case_cannot_be_deleted(ports, uow, content):
    documents_consumer.process(uow, case_event("opened", "CLM-9", 1))
    doc_id = upload.upload_document(ports, OFFICER, form(case_id="CLM-9"))["document_id"]
    with pytest.raises(domain.LegalHold) as err:
        deletion.delete_document(ports, ADMIN, doc_id, "uploaded twice")
    assert err.value.status == 409 and err.value.extra["holds"] == ["CLM-9"]
    assert len(content.files) == 1 and not any(r["deleted"] for r in uow.state["records"].values())


def test_a_made_up_case_id_cannot_hold_a_document(ports, uow, content):
    with pytest.raises(Invalid) as err:
        upload.upload_document(ports, MIGRANT, form(case_id="CLM-MADE-UP"))
    assert "case_id" in err.value.errors and stored_nothing(uow, content)
    doc_id = upload.upload_document(ports, MIGRANT, form())["document_id"]
    with pytest.raises(Invalid):
        upload.add_version(ports, MIGRANT, doc_id, form(case_id="CLM-MADE-UP"))
    deletion.delete_document(ports, ADMIN, doc_id, "uploaded by mistake")
    assert content.files == {}


def test_an_open_case_naming_a_document_holds_it(ports, uow):
    doc_id = upload.upload_document(ports, OFFICER, form())["document_id"]
    documents_consumer.process(uow, case_event("opened", "CLM-2", 1, document_ids=[doc_id]))
    with pytest.raises(domain.LegalHold):
        deletion.delete_document(ports, ADMIN, doc_id, "not needed")
    documents_consumer.process(uow, case_event("closed", "CLM-2", 2))
    deletion.delete_document(ports, ADMIN, doc_id, "not needed")


def test_a_withdrawn_case_lifts_the_hold_as_a_closed_one_does(ports, uow):
    """Claims and complaints can end withdrawn without being closed: their evidence is free then too."""
    for case_id in ("CLM-5", "CMP-2026-AAAAAAAA"):
        doc_id = upload.upload_document(ports, OFFICER, form())["document_id"]
        documents_consumer.process(uow, case_event("opened", case_id, 1, document_ids=[doc_id]))
        with pytest.raises(domain.LegalHold):
            deletion.delete_document(ports, ADMIN, doc_id, "not needed")
        documents_consumer.process(uow, case_event("withdrawn", case_id, 2, status="withdrawn",
                                                   document_ids=[doc_id]))
        deletion.delete_document(ports, ADMIN, doc_id, "not needed")


def test_case_events_out_of_order_do_not_reopen_a_closed_case(uow):
    documents_consumer.process(uow, case_event("closed", "CLM-3", 4))
    documents_consumer.process(uow, case_event("opened", "CLM-3", 1))
    assert uow.state["cases"]["CLM-3"]["status"] == "closed"


def test_deletion_by_an_admin_is_recorded_and_the_chain_still_verifies(ports, uow, content, audit):
    kept = upload.upload_document(ports, OFFICER, form())["document_id"]
    documents_consumer.process(uow, case_event("opened", "CLM-4", 1))
    doc_id = upload.upload_document(ports, OFFICER, form(case_id="CLM-4"))["document_id"]
    documents_consumer.process(uow, case_event("closed", "CLM-4", 2))
    with pytest.raises(Forbidden):
        deletion.delete_document(ports, OFFICER, doc_id, "duplicate")
    deletion.delete_document(ports, ADMIN, doc_id, "duplicate of " + kept)
    assert len(content.files) == 1
    assert all(r["deleted"] and r["deletion"]["by"]["user"] == "ad-1"
               for r in uow.state["records"].values() if r["document_id"] == doc_id)
    assert uow.outbox[-1].type == domain.DELETED and uow.outbox[-1].data["reason"] == "duplicate of " + kept
    assert ("ad-1", "admin", "delete", doc_id) in audit.entries
    with pytest.raises(domain.Gone):
        download(ports, OFFICER, doc_id, None)
    assert queries.get_document(ports, OFFICER, doc_id)["status"] == "deleted"
    assert [d["document_id"] for d in queries.list_documents(ports, OFFICER, REF, None, 10, None)["items"]] == [kept]
    assert chain_report.verify_chain(ports, OFFICER, REF)["ok"] is True


def test_downloads_are_audited_and_a_migrant_gets_only_their_own(ports, audit):
    mine = upload.upload_document(ports, MIGRANT, form(filename="চুক্তি.pdf"))["document_id"]
    theirs = upload.upload_document(ports, OFFICER, form(owner=OTHER))["document_id"]
    served = download(ports, MIGRANT, mine, None)
    assert b"".join(served.chunks) == PDF and served.content_type == "application/pdf"
    assert 'filename="job_contract-' in served.disposition and "filename*=UTF-8''" in served.disposition
    with pytest.raises(Forbidden):
        download(ports, MIGRANT, theirs, None)
    with pytest.raises(Forbidden):
        queries.get_document(ports, MIGRANT, theirs)
    download(ports, LAWYER, theirs, 1)
    with pytest.raises(NotFound):
        download(ports, LAWYER, theirs, 7)
    assert [e[2:] for e in audit.entries] == [("download", mine), ("download", theirs)]


def test_staff_metadata_reads_are_audited_a_migrants_own_are_not(ports, audit):
    doc_id = upload.upload_document(ports, MIGRANT, form())["document_id"]
    queries.get_document(ports, MIGRANT, doc_id)
    queries.list_documents(ports, MIGRANT, REF, None, 10, None)
    assert audit.entries == []
    queries.get_document(ports, LAWYER, doc_id)
    queries.list_documents(ports, OFFICER, REF, "job_contract", 10, None)
    assert audit.entries == [("la-1", "legal_aid", "read", doc_id), ("wo-1", "welfare_officer", "read", doc_id)]


def test_listing_pages_by_type_newest_first(ports):
    contracts = [upload.upload_document(ports, OFFICER, form())["document_id"] for _ in range(3)]
    upload.upload_document(ports, OFFICER, form(doc_type="visa"))
    first = queries.list_documents(ports, OFFICER, REF, "job_contract", 2, None)
    second = queries.list_documents(ports, OFFICER, REF, "job_contract", 2, first["next_cursor"])
    assert [d["document_id"] for d in first["items"] + second["items"]] == list(reversed(contracts))
    assert second["next_cursor"] is None and "versions" not in first["items"][0]
    assert len(queries.list_documents(ports, OFFICER, REF, None, 10, None)["items"]) == 4
    with pytest.raises(Invalid):
        queries.list_documents(ports, OFFICER, REF, "love_letter", 10, None)
    with pytest.raises(NotFound):
        queries.list_documents(ports, OFFICER, "PB-ZZZZ-ZZZZ", None, 10, None)


def test_verify_names_the_document_whose_bytes_or_record_changed(ports, uow, content):
    ids = [upload.upload_document(ports, OFFICER, form(content=PDF + bytes([n]))) ["document_id"] for n in range(3)]
    assert chain_report.verify_chain(ports, OFFICER, REF)["ok"] is True
    content.files[uow.state["records"][f"{ids[0]}:1"]["content_id"]] += b"tampered"
    uow.state["records"][f"{ids[1]}:1"]["doc_type"] = "visa"
    report = chain_report.verify_chain(ports, OFFICER, REF)
    found = {(p["document_id"], p["kind"]) for p in report["problems"]}
    assert report["ok"] is False
    assert (ids[0], chain.CONTENT_ALTERED) in found and (ids[1], chain.RECORD_ALTERED) in found
    assert ids[2] not in {p["document_id"] for p in report["problems"]}


def test_verify_notices_records_cut_from_the_end_of_the_chain(ports, uow):
    ids = [upload.upload_document(ports, OFFICER, form())["document_id"] for _ in range(2)]
    del uow.state["records"][f"{ids[1]}:1"]
    report = chain_report.verify_chain(ports, OFFICER, REF)
    assert {(p["document_id"], p["kind"]) for p in report["problems"]} == {
        (None, "chain_truncated"), (ids[1], "head_mismatch")}


def test_losing_a_race_for_the_chain_retries_on_fresh_reads(ports, uow, content):
    uow.lose_races, uow.attempts = 3, 0
    doc = upload.upload_document(ports, OFFICER, form())
    assert doc["current_version"] == 1 and len(content.files) == 1 and uow.attempts == 4


def test_giving_up_after_too_many_races_discards_the_stored_bytes(ports, uow, content):
    uow.lose_races = 100
    with pytest.raises(Conflict):
        upload.upload_document(ports, OFFICER, form())
    assert content.files == {} and uow.state["records"] == {}


def test_a_commit_whose_outcome_is_unknown_keeps_the_bytes_and_says_so(ports, uow, content):
    uow.lose_commit_answer = True
    with pytest.raises(domain.OutcomeUnknown) as err:
        upload.upload_document(ports, OFFICER, form())
    document_id = err.value.extra["document_id"]
    assert err.value.status == 503 and "may have been stored" in err.value.detail and document_id in err.value.detail
    assert len(content.files) == 1  # it did commit here: the record's bytes are still there
    assert chain_report.verify_chain(ports, OFFICER, REF)["ok"] is True
    assert queries.get_document(ports, OFFICER, document_id)["current_version"] == 1


@pytest.mark.parametrize("error,work_done,maybe", [
    (PyMongoError("reply lost", error_labels=["UnknownTransactionCommitResult"]), True, True),
    (PyMongoError("aborted", error_labels=["TransientTransactionError"]), True, False),
    (PyMongoError("server down before the commit"), False, False),
    (SystemExit(1), True, True),  # a worker stopped between its work and the commit's answer
    (Conflict("stale version"), False, False),
])
def test_only_a_lost_commit_answer_leaves_the_outcome_open(error, work_done, maybe):
    assert transaction.may_have_committed(error, work_done) is maybe


def test_a_commit_that_certainly_failed_discards_the_bytes(ports, uow, content):
    doc_id = upload.upload_document(ports, OFFICER, form())["document_id"]
    deletion.delete_document(ports, ADMIN, doc_id, "uploaded by mistake")
    with pytest.raises(domain.Gone):
        upload.add_version(ports, OFFICER, doc_id, form())  # refused inside the transaction
    assert content.files == {}


def test_a_migrant_runs_the_full_verify_once_per_interval_staff_any_time(uow, content, audit):
    now = {"t": datetime(2026, 1, 1, tzinfo=timezone.utc)}
    ports = Ports(uow, FakeRepositories(uow.state), content, audit, clock=lambda: now["t"],
                  config=DocumentsConfig(verify_interval=timedelta(minutes=10)))
    upload.upload_document(ports, MIGRANT, form())
    assert chain_report.verify_chain(ports, MIGRANT, REF)["ok"] is True
    now["t"] += timedelta(minutes=4)
    with pytest.raises(domain.VerifyTooSoon) as err:
        chain_report.verify_chain(ports, MIGRANT, REF)
    assert err.value.status == 429 and err.value.retry_after == 360
    assert chain_report.verify_chain(ports, OFFICER, REF)["ok"] is True
    with pytest.raises(Forbidden):  # another migrant's chain: refused before any budget is spent
        chain_report.verify_chain(ports, MIGRANT, OTHER)
    now["t"] += timedelta(minutes=6)
    assert chain_report.verify_chain(ports, MIGRANT, REF)["ok"] is True


@pytest.mark.parametrize("harm,error", [
    (lambda files, key: files.__setitem__(key, files[key] + b"forged"), domain.ContentAltered),
    (lambda files, key: files.pop(key), domain.ContentMissing),
], ids=["altered", "missing"])
def test_bytes_that_do_not_match_the_record_are_refused_and_audited(ports, uow, content, audit, harm, error):
    doc_id = upload.upload_document(ports, MIGRANT, form())["document_id"]
    harm(content.files, uow.state["records"][f"{doc_id}:1"]["content_id"])
    with pytest.raises(error) as err:
        download(ports, MIGRANT, doc_id, None)
    assert err.value.status == 500
    assert audit.entries == [("m-1", "migrant", "download_refused", doc_id)]


def test_registration_event_is_applied_once(uow):
    event = registered("PB-QRST-VWXY")
    assert documents_consumer.process(uow, event) is True
    assert documents_consumer.process(uow, event) is False
    assert "PB-QRST-VWXY" in uow.state["owners"]


def test_each_change_writes_its_history_in_its_own_transaction(ports, uow):
    doc_id = upload.upload_document(ports, MIGRANT, form())["document_id"]
    review.decide(ports, OFFICER, doc_id, {"decision": "verified", "version": 1})
    page = queries.history(ports, MIGRANT, doc_id, 10, None)  # no consumer ran
    assert [e["type"] for e in page["items"]] == [domain.VERIFIED, domain.UPLOADED]
    assert [e["event_id"] for e in page["items"]] == [e.id for e in reversed(uow.outbox)]
    assert page["items"][0]["summary_bn"] and page["items"][0]["owner"] == REF
    with pytest.raises(Conflict):  # a change that fails leaves no history line either
        review.decide(ports, OFFICER, doc_id, {"decision": "verified", "version": 7})
    assert len(uow.state["history"]) == 2


def test_the_consumer_no_longer_reads_the_services_own_events_back():
    assert documents_consumer.binding_keys == sorted(["registration.migrant.registered", "claims.claim.*",
                                                      "complaints.complaint.*"])


def test_owner_references_are_normalised():
    assert domain.normalise_owner(" pb 2345-6789 ") == "PB-2345-6789"
    assert domain.normalise_owner("PB23456789") == "PB-2345-6789"


def test_config_from_env():
    config = DocumentsConfig.from_env({"DOCUMENT_MAX_BYTES": "1048576", "DOCUMENT_TYPES": "visa, other"})
    assert config.max_bytes == 1048576 and config.doc_types == ("visa", "other")
    assert DocumentsConfig.from_env({}).max_bytes == 20 * 1024 * 1024
    for bad in ("0", "lots"):
        with pytest.raises(ValueError):
            DocumentsConfig.from_env({"DOCUMENT_MAX_BYTES": bad})
        with pytest.raises(ValueError):
            DocumentsConfig.from_env({"DOCUMENT_VERIFY_INTERVAL_SECONDS": bad})
    timed = DocumentsConfig.from_env({"DOCUMENT_VERIFY_INTERVAL_SECONDS": "60", "DOCUMENT_SWEEP_INTERVAL_SECONDS": "30"})
    assert timed.verify_interval == timedelta(minutes=1) and timed.sweep_interval == timedelta(seconds=30)
