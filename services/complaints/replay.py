"""Replays (shared/replay/) in the complaints service: what it serves (each complaint as it
stands now, one `complaints.complaint.snapshot` at the complaint's version) and what it
learns: the migrants and documents that existed before its queue did, folded into the
same rows the live events build (projections.py).

    python -m shared.replay --to complaints --from registration
    python -m shared.replay --to complaints --from documents
    python -m shared.replay --to identity --from complaints
"""
from __future__ import annotations

from shared.errors import PermanentError
from shared.replay import Snapshot, Source

from . import domain, hearings, projections
from .repository import COMPLAINTS

SNAPSHOT = "complaints.complaint.snapshot"
MIGRANT_SNAPSHOT = "registration.migrant.snapshot"
DOCUMENT_SNAPSHOT = "documents.document.snapshot"


def learn_migrant(event, tx) -> None:
    data = event.data
    tx.migrants.update(projections._reference(event), {"registered": True, "name_en": data.get("name_en"),
                                                       "name_bn": data.get("name_bn"), "phone": data.get("phone")})


def learn_document(event, tx) -> None:
    data = event.data
    document_id, owner = data.get("document_id") or event.subject.id, data.get("owner")
    if not owner:
        raise PermanentError(f"{event.type} without owner")
    if data.get("deleted"):
        tx.documents.remove(document_id)
    else:
        tx.documents.save({"_id": document_id, "owner": owner, "doc_type": data.get("doc_type"),
                           "updated_at": projections._occurred(event)})


# -- what it serves ------------------------------------------------------------------------
# Only what a snapshot says: the narrative, respondents' details, minutes and payments'
# particulars are never read, so a restricted complaint's story cannot leak through one.
STORED_FIELDS = {"receipt_number": 1, "status": 1, "evidence.document_id": 1, "complainant.migrant_reference": 1,
                 "complainant.phone": 1, "category": 1, "agency_licences": 1, "restricted": 1, "amount_claimed": 1, "assignee": 1,
                 "hearings.state": 1, "hearings.date": 1, "hearings.venue": 1, "outcome.kind": 1,
                 "outcome.amount": 1, "outcome.payment_deadline": 1, "paid_total": 1, "version": 1,
                 "filed_by.at": 1, "created_at": 1, "updated_at": 1}


def snapshot_data(complaint: dict) -> dict:
    """What every live event carries, and what a late learner needs for a timeline: when it
    was filed and last changed, the next hearing, the outcome's taka and what was paid."""
    upcoming = next((h for h in complaint.get("hearings") or [] if h.get("state") == hearings.SCHEDULED), None)
    outcome = complaint.get("outcome") or {}
    return {**domain.event_data(complaint),
            "filed_at": (complaint.get("filed_by") or {}).get("at") or complaint["created_at"],
            "updated_at": complaint["updated_at"],
            "next_hearing": {"date": upcoming["date"], "venue": upcoming["venue"]} if upcoming else None,
            "outcome": ({"kind": outcome["kind"], "amount": outcome.get("amount"),
                         "payment_deadline": outcome.get("payment_deadline")} if outcome.get("kind") else None),
            "paid_total": complaint.get("paid_total", 0)}


def snapshots(db, complaints: list[dict]) -> list[Snapshot]:
    return [Snapshot(c["_id"], c["version"], snapshot_data(c)) for c in complaints]


COMPLAINTS_SOURCE = Source(event_type=SNAPSHOT, subject_type=domain.SUBJECT, collection=COMPLAINTS,
                           snapshots=snapshots, projection=STORED_FIELDS)
