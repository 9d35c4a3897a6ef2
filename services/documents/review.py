"""Use case: an officer marks the current version of a document verified or rejected."""
from __future__ import annotations

from shared.auth import Principal
from shared.errors import Conflict, Forbidden

from . import domain, transaction
from .domain import SUBJECT, record_id
from .ports import Ports
from .views import document_view

VERIFIERS = frozenset({"welfare_officer", "legal_aid"})


def decide(ports: Ports, principal: Principal, document_id: str, decision: dict) -> dict:
    if principal.role not in VERIFIERS:
        raise Forbidden("Only a welfare officer or legal aid staff verifies documents.")

    def decide_in(tx):
        head, now = domain.live(tx.documents.get(document_id)), ports.clock()
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

    head, records = transaction.run(ports, decide_in, what="This decision may have been recorded", document_id=document_id)
    return document_view(head, records)
