"""What the vault learns from other services' events (consumer.py wires them):
which migrants exist (uploads need a known owner) and which cases are open (legal hold)."""
from __future__ import annotations

from shared.errors import PermanentError

from . import domain


def add_owner(event, tx) -> None:
    """registration.migrant.registered: from now on, documents may be uploaded for them."""
    reference = event.data.get("reference") or event.subject.id
    if not isinstance(reference, str) or not reference.strip():
        raise PermanentError("registration event without a migrant reference")
    tx.owners.add(domain.normalise_owner(reference), domain.occurred(event), event.id)


def track_case(event, tx) -> None:
    """claims.claim.* / complaints.complaint.*: which cases are open, for the legal hold."""
    case_id = event.data.get("case_id") or event.subject.id
    previous = tx.cases.get(case_id)
    if previous and previous["version"] >= event.aggregate_version:
        return  # older news than what is recorded (events of one case may arrive out of order)
    named = event.data.get("document_ids")
    # Whose case it is: a family member may add documents to it for this migrant only.
    reference = event.data.get("migrant_reference")
    owner = domain.normalise_owner(reference) if isinstance(reference, str) and reference.strip() \
        else (previous or {}).get("owner")
    tx.cases.save({"_id": case_id, "kind": event.type.split(".")[1], "owner": owner,
                   "status": domain.case_state(event.type, event.data, previous),
                   "document_ids": list(named) if named is not None else (previous or {}).get("document_ids", []),
                   "version": event.aggregate_version, "updated_at": domain.occurred(event), "event_id": event.id})
