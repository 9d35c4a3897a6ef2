"""The documents service layer: one method per use case, over small ports.

Ports: `uow.run(fn)` runs `fn(tx)` in one transaction where the repositories of
`repository.Repositories` and `tx.emit` are bound to it; `reads` has the same
repositories outside any transaction; `content` keeps the bytes (storage.GridFSContent,
not transactional: bytes are written before the transaction and discarded if it fails);
`audit.record` keeps who read what.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

from shared.auth import Principal
from shared.access import acting_for, check_owner
from shared.errors import Conflict, Forbidden, Invalid, NotFound, PermanentError
from shared.pagination import keyset_page, position_after

from . import domain, integrity
from .config import DocumentsConfig
from .content import (CheckedUpload, EmptyContent, StreamLimitExceeded, UnsupportedType, content_disposition,
                      safe_filename)
from .doctypes import document_type
from .domain import SUBJECT, record_id
from .repository import ChainContention
from .storage import DISCARDED, STORED
from .views import document_view

log = logging.getLogger("probashi.documents")

VERIFIERS = frozenset({"welfare_officer", "legal_aid"})
COMMIT_ATTEMPTS = 10


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _pause(attempt: int) -> None:
    # Jitter, so uploads that collided do not collide again in lockstep.
    time.sleep(random.uniform(0, 0.01 * (attempt + 1)))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def _occurred(event) -> datetime:
    return datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Download:
    chunks: Iterator[bytes]
    content_type: str
    size: int
    sha256: str
    disposition: str


class DocumentsService:
    def __init__(self, uow, reads, content, audit, *, config: DocumentsConfig = DocumentsConfig(),
                 clock: Callable[[], datetime] = _utcnow, make_id: Callable[[], str] = domain.new_document_id,
                 pause: Callable[[int], None] = _pause):
        self.uow = uow
        self.reads = reads
        self.content = content
        self.audit = audit
        self.config = config
        self.clock = clock
        self.make_id = make_id
        self.pause = pause

    # -- commands --------------------------------------------------------------
    def upload(self, principal: Principal, form: dict) -> dict:
        owner = self._check_access(principal, form["owner"])
        self._check_type(form["doc_type"], "doc_type")
        if not self.reads.owners.exists(owner):
            raise Invalid({"owner": [domain.UNKNOWN_OWNER]}, domain.UNKNOWN_OWNER)
        actor = self._uploader(principal, form.get("udc_centre"))
        stored, filename = self._store(form["file"], owner)

        def upload_in(tx):
            previous, now = tx.records.last_for_owner(owner), self.clock()
            record = domain.new_record(document_id=self.make_id(), version=1, owner=owner, doc_type=form["doc_type"],
                                       stored=stored, details=form, filename=filename, actor=actor, now=now,
                                       previous=previous)
            head = domain.new_head(record, now)
            self._append(tx, record, previous)
            tx.documents.add(head)
            tx.emit(domain.UPLOADED, subject_type=SUBJECT, subject_id=head["_id"], aggregate_version=head["revision"],
                    data=domain.upload_event_data(record))
            return head, [record]

        head, records = self._commit(upload_in, stored)
        log.info("document uploaded", extra={"document_id": head["_id"], "owner": owner, "size": stored.size})
        return document_view(head, records)

    def add_version(self, principal: Principal, document_id: str, form: dict) -> dict:
        head = self._visible(principal, self.reads.documents, document_id)
        actor = self._uploader(principal, form.get("udc_centre"))
        stored, filename = self._store(form["file"], head["owner"])

        def add_in(tx):
            head = self._live(tx.documents, document_id)
            current = tx.records.get(record_id(document_id, head["current_version"])) or {}
            previous, now = tx.records.last_for_owner(head["owner"]), self.clock()
            # What the new upload does not say is carried over from the version it replaces.
            details = {k: form.get(k, current.get(k)) for k in ("issuer", "issue_date", "case_id")}
            record = domain.new_record(document_id=document_id, version=head["current_version"] + 1,
                                       owner=head["owner"], doc_type=head["doc_type"], stored=stored, details=details,
                                       filename=filename, actor=actor, now=now, previous=previous)
            updated = domain.advance_head(head, record, now)
            self._append(tx, record, previous)
            tx.documents.replace(updated, head["revision"])
            tx.emit(domain.VERSION_ADDED, subject_type=SUBJECT, subject_id=document_id,
                    aggregate_version=updated["revision"], data=domain.upload_event_data(record))
            return updated, tx.records.for_document(document_id)

        head, records = self._commit(add_in, stored)
        return document_view(head, records)

    def decide(self, principal: Principal, document_id: str, decision: dict) -> dict:
        """An officer marks the current version verified or rejected."""
        if principal.role not in VERIFIERS:
            raise Forbidden("Only a welfare officer or legal aid staff verifies documents.")

        def decide_in(tx):
            head, now = self._live(tx.documents, document_id), self.clock()
            if decision["version"] != head["current_version"]:
                raise Conflict(f"Version {decision['version']} is not the current one: version "
                               f"{head['current_version']} was uploaded since. Look at it before deciding.",
                               current_version=head["current_version"])
            outcome = {"status": decision["decision"], "reason": decision.get("reason"),
                       "by": principal.as_actor(), "at": now}
            tx.records.set_verification(record_id(document_id, head["current_version"]), outcome)
            updated = domain.touch_head(head, now)
            tx.documents.replace(updated, head["revision"])
            tx.emit(domain.DECISIONS[decision["decision"]], subject_type=SUBJECT, subject_id=document_id,
                    aggregate_version=updated["revision"],
                    data={"document_id": document_id, "owner": head["owner"], "doc_type": head["doc_type"],
                          "version": head["current_version"], "reason": outcome["reason"], "by": outcome["by"]})
            return updated, tx.records.for_document(document_id)

        head, records = self._commit(decide_in)
        return document_view(head, records)

    def delete(self, principal: Principal, document_id: str, reason: str) -> None:
        """An administrator removes a document's content; the records stay, marked, so
        the chain still verifies and the deletion is on record."""
        if principal.role != "admin":
            raise Forbidden("Only an administrator deletes documents.")

        def delete_in(tx):
            head, now = self._live(tx.documents, document_id), self.clock()
            records = tx.records.for_document(document_id)
            case_ids = sorted(set(head["case_ids"]) | {r["case_id"] for r in records if r.get("case_id")})
            held = domain.holds(document_id, case_ids, tx.cases.many(case_ids), tx.cases.naming(document_id))
            if held:
                raise domain.LegalHold(f"This document is under legal hold for {', '.join(held)}: it backs a claim "
                                       "or complaint that is open (or not yet known to be closed). It can be "
                                       "deleted once that case is closed.", holds=held)
            deletion = {"by": principal.as_actor(), "at": now, "reason": reason}
            tx.records.mark_deleted(document_id, deletion)
            tx.content_index.mark([r["content_id"] for r in records], DISCARDED)
            updated = domain.touch_head(head, now, deleted=deletion)
            tx.documents.replace(updated, head["revision"])
            tx.emit(domain.DELETED, subject_type=SUBJECT, subject_id=document_id, aggregate_version=updated["revision"],
                    data={"document_id": document_id, "owner": head["owner"], "doc_type": head["doc_type"],
                          "versions": [r["version"] for r in records], "reason": reason, "by": deletion["by"]})
            return records

        records = self._commit(delete_in)
        self.audit.record(principal, "delete", SUBJECT, document_id, reason=reason)
        for record in records:  # after the commit; storage.sweep finishes what this misses
            self.content.discard(record["content_id"])

    # -- queries ---------------------------------------------------------------
    def get(self, principal: Principal, document_id: str) -> dict:
        head = self._visible(principal, self.reads.documents, document_id, allow_deleted=True)
        if principal.is_staff:
            self.audit.record(principal, "read", SUBJECT, document_id)
        return document_view(head, self.reads.records.for_document(document_id))

    def list_for_owner(self, principal: Principal, owner: str, doc_type: str | None, limit: int,
                       cursor: str | None) -> dict:
        owner = self._check_access(principal, owner)
        if doc_type:
            self._check_type(doc_type, "doc_type")
        if not self.reads.owners.exists(owner):
            raise NotFound(domain.UNKNOWN_OWNER)
        page, next_cursor = keyset_page(self.reads.documents.page(owner, doc_type, limit + 1, position_after(cursor)),
                                        limit, "created_at")
        current = self.reads.records.many([record_id(h["_id"], h["current_version"]) for h in page])
        if principal.is_staff:
            for head in page:
                self.audit.record(principal, "read", SUBJECT, head["_id"], via="list", doc_type=doc_type)
        items = [document_view(h, [current[k]] if (k := record_id(h["_id"], h["current_version"])) in current else [],
                               versions=False) for h in page]
        return {"items": items, "next_cursor": next_cursor}

    def download(self, principal: Principal, document_id: str, version: int | None) -> Download:
        head = self._visible(principal, self.reads.documents, document_id)
        version = version or head["current_version"]
        record = self.reads.records.get(record_id(document_id, version))
        if record is None:
            raise NotFound(f"This document has no version {version}; the current one is {head['current_version']}.")
        chunks = self.content.open(record["content_id"])
        if chunks is None:
            log.error("stored content missing", extra={"document_id": document_id, "version": version})
            raise domain.ContentMissing("The stored content of this version is missing. The integrity check "
                                        f"(/migrants/{head['owner']}/documents/verify) reports it.")
        # Every download is on record, the owner's own included: this is evidence leaving the vault.
        self.audit.record(principal, "download", SUBJECT, document_id, version=version)
        name = safe_filename(record.get("filename"), record["content_type"],
                             f"{record['doc_type']}-{document_id}-v{version}")
        return Download(chunks, record["content_type"], record["size"], record["content_sha256"],
                        content_disposition(record.get("filename"), name))

    def history(self, principal: Principal, document_id: str, limit: int, cursor: str | None) -> dict:
        self._visible(principal, self.reads.documents, document_id, allow_deleted=True)
        if principal.is_staff:
            self.audit.record(principal, "read_history", SUBJECT, document_id)
        page, next_cursor = keyset_page(self.reads.history.for_document(document_id, limit + 1, position_after(cursor)),
                                        limit, "occurred_at")
        return {"items": [{**entry, "event_id": entry["_id"]} for entry in page], "next_cursor": next_cursor}

    def verify_chain(self, principal: Principal, owner: str) -> dict:
        """Re-read every record and every stored byte of one migrant's documents and
        report each mismatch, naming the document."""
        owner = self._check_access(principal, owner)
        records = self.reads.records.for_owner(owner)
        if not records and not self.reads.owners.exists(owner):
            raise NotFound(domain.UNKNOWN_OWNER)
        heads = self.reads.documents.for_owner(owner)
        problems = integrity.check(records, heads, self.reads.chain_heads.get(owner), self.content)
        if principal.is_staff:
            self.audit.record(principal, "verify_chain", "migrant", owner, problems=len(problems))
        if problems:
            log.error("document chain does not verify", extra={"owner": owner, "problems": len(problems)})
        last = records[-1] if records else {}
        return {"owner": owner, "checked_at": self.clock(), "ok": not problems, "records": len(records),
                "documents": len(heads), "last_seq": last.get("seq"), "last_record_hash": last.get("record_hash"),
                "problems": [p.as_dict() for p in problems]}

    def document_types(self) -> list[dict]:
        return [document_type(code)._asdict() for code in self.config.doc_types]

    # -- consumed events -------------------------------------------------------
    @staticmethod
    def add_owner(event, tx) -> None:
        """registration.migrant.registered: from now on, documents may be uploaded for them."""
        reference = event.data.get("reference") or event.subject.id
        if not isinstance(reference, str) or not reference.strip():
            raise PermanentError("registration event without a migrant reference")
        tx.owners.add(domain.normalise_owner(reference), _occurred(event), event.id)

    @staticmethod
    def track_case(event, tx) -> None:
        """claims.claim.* / complaints.complaint.*: which cases are open, for the legal hold."""
        case_id = event.data.get("case_id") or event.subject.id
        previous = tx.cases.get(case_id)
        if previous and previous["version"] >= event.aggregate_version:
            return  # older news than what is recorded (events of one case may arrive out of order)
        named = event.data.get("document_ids")
        tx.cases.save({"_id": case_id, "kind": event.type.split(".")[1],
                       "status": domain.case_state(event.type, event.data, previous),
                       "document_ids": list(named) if named is not None else (previous or {}).get("document_ids", []),
                       "version": event.aggregate_version, "updated_at": _occurred(event), "event_id": event.id})

    @staticmethod
    def project_history(event, tx) -> None:
        """documents.document.*: each document's own timeline."""
        english, bangla = domain.summary(event.type, event.data)
        tx.history.add({"_id": event.id, "document_id": event.subject.id, "owner": event.data.get("owner"),
                        "type": event.type, "occurred_at": _occurred(event), "summary": english, "summary_bn": bangla})

    # -- helpers -----------------------------------------------------------------
    def _store(self, file, owner: str) -> tuple[domain.StoredContent, str | None]:
        """Check and store the bytes; the type comes from the content, never from the client."""
        upload = CheckedUpload(file.stream, self.config.max_bytes)
        filename = domain.original_name(file.filename)
        try:
            content_id = self.content.save(upload, filename=filename, owner=owner)
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
        return domain.StoredContent(content_id, upload.sha256, upload.size, upload.content_type), filename

    def _commit(self, fn, stored: domain.StoredContent | None = None):
        """Run `fn` in a transaction, again on fresh reads when another write to the same
        chain or document won; stored content is discarded if nothing commits."""
        try:
            for attempt in range(COMMIT_ATTEMPTS):
                try:
                    return self.uow.run(fn)
                except ChainContention:
                    self.pause(attempt)
            raise Conflict("Too many changes to these documents at once; nothing was stored. Try again.")
        except BaseException:
            if stored is not None:
                self.content.discard(stored.content_id)
            raise

    @staticmethod
    def _append(tx, record: dict, previous: dict | None) -> None:
        tx.records.add(record)
        tx.chain_heads.advance(record["owner"], previous["seq"] if previous else None, record["seq"],
                               record["record_hash"])
        tx.content_index.mark([record["content_id"]], STORED)

    def _check_type(self, code: str, field: str) -> None:
        if code not in self.config.doc_types:
            raise Invalid({field: [f"Not a document type here; one of: {', '.join(self.config.doc_types)}."]})

    @staticmethod
    def _check_access(principal: Principal, owner: str) -> str:
        owner = domain.normalise_owner(owner)
        check_owner(principal, owner, "A migrant may see and add only their own documents.")
        return owner

    @staticmethod
    def _uploader(principal: Principal, centre: str | None) -> dict:
        return acting_for(principal, centre, "uploading this document")

    @staticmethod
    def _visible(principal: Principal, documents, document_id: str, allow_deleted: bool = False) -> dict:
        head = documents.get(document_id)
        if head is None:
            raise NotFound("No document with that id.")
        check_owner(principal, head["owner"], "A migrant may see only their own documents.")
        if head.get("deleted") and not allow_deleted:
            raise domain.Gone(f"This document was deleted by an administrator: {head['deleted']['reason']}",
                              deleted_at=head["deleted"]["at"].isoformat())
        return head

    @staticmethod
    def _live(documents, document_id: str) -> dict:
        head = documents.get(document_id)
        if head is None:
            raise NotFound("No document with that id.")
        if head.get("deleted"):
            raise domain.Gone(f"This document was deleted by an administrator: {head['deleted']['reason']}")
        return head
