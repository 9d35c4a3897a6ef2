"""Use case: store a document, or a new version of one.

The flow of an upload: check who may upload for whom, the type and the case link; store
the bytes while checking and hashing them (content.CheckedUpload into storage, pending);
then one transaction appends the chain record, writes the document head, flips the bytes
to `stored` and emits the event (transaction.run adds the history line). Bytes of an
upload that certainly did not commit are discarded there; see transaction.py for when
the outcome is unknown.
"""
from __future__ import annotations

import logging

from shared.access import acting_for
from shared.auth import Principal
from shared.errors import Invalid

from . import domain, transaction
from .content import CheckedUpload, EmptyContent, StreamLimitExceeded, UnsupportedType
from .domain import SUBJECT, record_id
from .ports import Ports
from .storage import STORED, ContentNotStored
from .views import document_view

log = logging.getLogger("probashi.documents")


def upload_document(ports: Ports, principal: Principal, form: dict) -> dict:
    case = ports.reads.cases.get(form["case_id"]) if form.get("case_id") else None
    owner = domain.check_upload_access(principal, form["owner"], case)
    domain.check_type(form["doc_type"], ports.config.doc_types)
    if not ports.reads.owners.exists(owner):
        raise Invalid({"owner": [domain.UNKNOWN_OWNER]}, domain.UNKNOWN_OWNER)
    _check_case(ports, form.get("case_id"))
    actor = acting_for(principal, form.get("udc_centre"), "uploading this document")
    document_id = ports.make_id()
    stored, filename = _store(ports, form["file"], owner)

    def upload_in(tx):
        previous, now = tx.records.last_for_owner(owner), ports.clock()
        record = domain.new_record(document_id=document_id, version=1, owner=owner, doc_type=form["doc_type"],
                                   stored=stored, details=form, filename=filename, actor=actor, now=now,
                                   previous=previous)
        head = domain.new_head(record, now)
        _append(tx, record, previous)
        tx.documents.add(head)
        tx.emit(domain.UPLOADED, subject_type=SUBJECT, subject_id=document_id, aggregate_version=head["revision"],
                data=domain.upload_event_data(record))
        return head, [record]

    head, records = transaction.run(ports, upload_in, what="This upload may have been stored", document_id=document_id,
                                    stored_content=stored.content_id)
    log.info("document uploaded", extra={"document_id": document_id, "owner": owner, "size": stored.size})
    return document_view(head, records)


def add_version(ports: Ports, principal: Principal, document_id: str, form: dict) -> dict:
    head = domain.visible(principal, ports.reads.documents.get(document_id))
    _check_case(ports, form.get("case_id"))
    actor = acting_for(principal, form.get("udc_centre"), "uploading this document")
    stored, filename = _store(ports, form["file"], head["owner"])

    def add_in(tx):
        head = domain.live(tx.documents.get(document_id))
        current = tx.records.get(record_id(document_id, head["current_version"])) or {}
        previous, now = tx.records.last_for_owner(head["owner"]), ports.clock()
        # What the new upload does not say is carried over from the version it replaces.
        details = {k: form.get(k, current.get(k)) for k in ("issuer", "issue_date", "case_id")}
        record = domain.new_record(document_id=document_id, version=head["current_version"] + 1,
                                   owner=head["owner"], doc_type=head["doc_type"], stored=stored, details=details,
                                   filename=filename, actor=actor, now=now, previous=previous)
        updated = domain.advance_head(head, record, now)
        _append(tx, record, previous)
        tx.documents.replace(updated, head["revision"])
        tx.emit(domain.VERSION_ADDED, subject_type=SUBJECT, subject_id=document_id,
                aggregate_version=updated["revision"], data=domain.upload_event_data(record))
        return updated, tx.records.for_document(document_id)

    head, records = transaction.run(ports, add_in, what="This new version may have been stored", document_id=document_id,
                                    stored_content=stored.content_id)
    return document_view(head, records)


def _check_case(ports: Ports, case_id: str | None) -> None:
    """Only a case the vault has heard of may hold a document (legal hold)."""
    if case_id and ports.reads.cases.get(case_id) is None:
        raise Invalid({"case_id": [domain.UNKNOWN_CASE]}, domain.UNKNOWN_CASE)


def _store(ports: Ports, file, owner: str) -> tuple[domain.StoredContent, str | None]:
    """Check and store the bytes; the type comes from the content, never from the client."""
    upload = CheckedUpload(file.stream, ports.config.max_bytes)
    filename = domain.original_name(file.filename)
    try:
        content_id = ports.content.save(upload, filename=filename, owner=owner)
    except EmptyContent:
        raise Invalid({"file": ["The file is empty."]}, "The file is empty; nothing was stored.") from None
    except UnsupportedType as exc:
        log.warning("upload refused: unsupported content", extra={"owner": owner, "detected": exc.detected})
        raise domain.UnsupportedMedia(
            "Only PDF, JPEG, PNG and WebP files are accepted, judged by their content (not their name or "
            f"declared type); this looks like {exc.detected or 'none of those'}. Nothing was stored.",
            detected=exc.detected) from None
    except StreamLimitExceeded as exc:
        log.warning("upload refused: too large", extra={"owner": owner, "limit": exc.limit})
        raise domain.TooLarge(f"The file is larger than the limit of {_megabytes(exc.limit)}; nothing was stored.",
                              limit_bytes=exc.limit) from None
    except ContentNotStored as exc:
        log.error("upload not stored: the database refused a write of its bytes: %s", exc, extra={"owner": owner})
        raise domain.NotStored("The file could not be stored just now; nothing was kept. Send it again.") from None
    return domain.StoredContent(content_id, upload.sha256, upload.size, upload.content_type), filename


def _append(tx, record: dict, previous: dict | None) -> None:
    tx.records.add(record)
    tx.chain_heads.advance(record["owner"], previous["seq"] if previous else None, record["seq"],
                           record["record_hash"])
    tx.content_index.mark([record["content_id"]], STORED)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"
