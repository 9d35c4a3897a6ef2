"""Use case: an administrator deletes a document's content, unless a case holds it.

The records stay in the chain, marked with who, when and why, so the chain still
verifies and the deletion is on record. The bytes are marked `discarded` in the same
transaction and removed after the commit; storage.sweep finishes what that misses.
"""
from __future__ import annotations

from shared.auth import Principal
from shared.errors import Forbidden

from . import domain, transaction
from .domain import SUBJECT
from .ports import Ports
from .storage import DISCARDED


def delete_document(ports: Ports, principal: Principal, document_id: str, reason: str) -> None:
    if principal.role != "admin":
        raise Forbidden("Only an administrator deletes documents.")

    def delete_in(tx):
        head, now = domain.live(tx.documents.get(document_id)), ports.clock()
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

    records = transaction.run(ports, delete_in, what="This deletion may have been carried out", document_id=document_id)
    ports.audit.record(principal, "delete", SUBJECT, document_id, reason=reason)
    for record in records:
        transaction.discard_quietly(ports.content, record["content_id"])
