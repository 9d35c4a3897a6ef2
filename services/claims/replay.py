"""Replays (shared/replay/) in the claims service: what it learns of the migrants and
documents that existed before its queue did. Each snapshot folds into the same rows the
live events build (projections.py), then the migrant's open claims are judged again, so
a passport verified long before filing still ticks its item.

    python -m shared.replay --to claims --from registration
    python -m shared.replay --to claims --from documents
"""
from __future__ import annotations

from shared.errors import PermanentError

from . import domain, projections

MIGRANT_SNAPSHOT = "registration.migrant.snapshot"
DOCUMENT_SNAPSHOT = "documents.document.snapshot"
DOCUMENT_STATE = {"pending": domain.UPLOADED, "verified": domain.VERIFIED, "rejected": domain.DOC_REJECTED}


def learn_migrant(event, tx) -> None:
    data, reference = event.data, projections._reference(event)
    by = data.get("registered_by") or {}
    state = {"registered": True, "name_en": data.get("name_en"), "name_bn": data.get("name_bn"),
             "phone": data.get("phone"), "registered_at_centre": by.get("udc_centre"),
             "destination_country": data.get("destination_country")}
    membership = data.get("membership")
    if membership:
        state["membership"] = {"number": membership["number"], "valid_until": membership["valid_until"],
                               "activated_on": membership.get("activated_on")}
    state.update({f"steps.{step['step']}": step["date"] for step in data.get("steps") or []})
    tx.migrants.update(reference, state)
    projections.reassess_claims(tx, reference, projections._occurred(event))


def learn_document(event, tx) -> None:
    data = event.data
    document_id, owner, doc_type = data.get("document_id") or event.subject.id, data.get("owner"), data.get("doc_type")
    if not owner or not doc_type or data.get("status") not in DOCUMENT_STATE:
        raise PermanentError(f"{event.type} without owner, doc_type or a known status")
    if data.get("deleted"):
        tx.documents.remove(document_id)
    else:
        tx.documents.save({"_id": document_id, "owner": owner, "doc_type": doc_type,
                           "status": DOCUMENT_STATE[data["status"]], "reason": data.get("reason"),
                           "version": data.get("version"), "updated_at": projections._occurred(event)})
    tx.migrants.update(owner, {"documents_changed_at": projections._occurred(event)})
    projections.refresh_claims(tx, owner, doc_type, projections._occurred(event))
