"""Replays (shared/replay/) in the claims service: what it serves (each claim as it stands
now, one `claims.claim.snapshot` at the claim's version) and what it learns of the
migrants and documents that existed before its queue did. Each snapshot folds into the same rows the
live events build (projections.py), then the migrant's open claims are judged again, so
a passport verified long before filing still ticks its item.

    python -m shared.replay --to claims --from registration
    python -m shared.replay --to claims --from documents
    python -m shared.replay --to identity --from claims
"""
from __future__ import annotations

from shared.errors import PermanentError
from shared.replay import Snapshot, Source

from . import domain, projections
from .repository import CLAIMS

SNAPSHOT = "claims.claim.snapshot"
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


# -- what it serves ------------------------------------------------------------------------
# Only what a snapshot says: heirs (their NIDs and accounts), payouts and notes are never read.
STORED_FIELDS = {"status": 1, "checklist.document_id": 1, "type": 1, "migrant_reference": 1, "claimant_phone": 1,
                 "version": 1, "filed_on": 1, "filed_by.at": 1, "created_at": 1, "updated_at": 1,
                 "approved_amount": 1, "paid_total": 1}


def snapshot_data(claim: dict) -> dict:
    """What every live event carries (the taka approved too), and what a late learner needs
    for a timeline: when it was filed and last changed, and the taka paid so far."""
    return {**domain.event_data(claim), "filed_at": (claim.get("filed_by") or {}).get("at") or claim["created_at"],
            "filed_on": claim.get("filed_on"), "updated_at": claim["updated_at"],
            "paid_total": claim.get("paid_total", 0)}


def snapshots(db, claims: list[dict]) -> list[Snapshot]:
    return [Snapshot(c["_id"], c["version"], snapshot_data(c)) for c in claims]


CLAIMS_SOURCE = Source(event_type=SNAPSHOT, subject_type=domain.SUBJECT, collection=CLAIMS, snapshots=snapshots,
                       projection=STORED_FIELDS)
