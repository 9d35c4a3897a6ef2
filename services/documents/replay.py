"""Replays (shared/replay/) in the documents service: what it serves (each document as
it stands now, one `documents.document.snapshot` at its head's revision) and what it
learns (migrants registered before its queue existed)."""
from __future__ import annotations

from datetime import datetime

from shared.errors import PermanentError
from shared.replay import Snapshot, Source

from . import domain
from .repository import DOCUMENTS, Reads

SNAPSHOT = "documents.document.snapshot"
MIGRANT_SNAPSHOT = "registration.migrant.snapshot"


def snapshot_data(head: dict, record: dict) -> dict:
    """The document's current version and the officer's decision on it, if any."""
    verification = record.get("verification") or {}
    return {"document_id": head["_id"], "owner": head["owner"], "doc_type": head["doc_type"],
            "version": head["current_version"], "status": verification.get("status", "pending"),
            "reason": verification.get("reason"), "case_ids": list(head.get("case_ids") or []),
            "content_sha256": record["content_sha256"], "deleted": head.get("deleted") is not None}


def snapshots(db, heads: list[dict]) -> list[Snapshot]:
    """One more read per page: the chain records of the heads' current versions."""
    current = {h["_id"]: domain.record_id(h["_id"], h["current_version"]) for h in heads}
    records = Reads(db).records.many(list(current.values()))
    return [Snapshot(h["_id"], h["revision"], snapshot_data(h, records[current[h["_id"]]])) for h in heads]


DOCUMENTS_SOURCE = Source(event_type=SNAPSHOT, subject_type=domain.SUBJECT, collection=DOCUMENTS,
                          snapshots=snapshots)


def learn_owner(event, tx) -> None:
    """registration.migrant.snapshot: a migrant who may have been registered before this
    vault's queue existed; from now on, documents may be uploaded for them."""
    reference = event.data.get("reference") or event.subject.id
    if not isinstance(reference, str) or not reference.strip():
        raise PermanentError("registration snapshot without a migrant reference")
    registered_at = event.data.get("registered_at")
    when = datetime.fromisoformat(registered_at.replace("Z", "+00:00")) if registered_at else domain.occurred(event)
    tx.owners.add(domain.normalise_owner(reference), when, event.id)
