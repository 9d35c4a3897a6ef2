"""What claims learns from other services' events (consumer.py wires them): which migrants
exist and what registration published of them (for eligibility), and which documents the
vault holds for them and in what state (the checklist that fills itself).

A membership or step of a migrant judges the eligibility of their open claims again.
A document event re-derives the checklist of that migrant's open claims: a change is
`claims.claim.checklist_updated`; every item verified moves a claim waiting on documents
to review, with `claims.claim.ready_for_review`, and no officer action.
"""
from __future__ import annotations

from datetime import datetime

from shared.errors import PermanentError
# An event's instant and migrant, read as every service reads them (replay.py uses them too).
from shared.projections import migrant_reference as _reference, occurred as _occurred

from . import changes, domain


# What claims keeps of registration's migrant.updated values.
PUBLISHED = ("name_en", "name_bn", "phone", "destination_country")


# -- registration.migrant.* ---------------------------------------------------------------

def migrant_registered(event, tx) -> None:
    by = event.data.get("registered_by") or {}
    tx.migrants.update(_reference(event), {
        "registered": True, "name_en": event.data.get("name_en"), "name_bn": event.data.get("name_bn"),
        "phone": event.data.get("phone"), "registered_at_centre": by.get("udc_centre"),
        "destination_country": event.data.get("destination_country")})


def migrant_updated(event, tx) -> None:
    values = {k: v for k, v in (event.data.get("values") or {}).items() if k in PUBLISHED}
    if values:
        tx.migrants.update(_reference(event), values)


def membership_activated(event, tx) -> None:
    reference = _reference(event)
    tx.migrants.update(reference, {"membership": {
        "number": event.data.get("number"), "valid_until": event.data.get("valid_until"),
        "activated_on": _occurred(event).date().isoformat()}})
    reassess_claims(tx, reference, _occurred(event))


def step_recorded(event, tx) -> None:
    step = event.data.get("step")
    if not isinstance(step, str) or not step:
        raise PermanentError("step_recorded without a step")
    reference = _reference(event)
    tx.migrants.update(reference, {f"steps.{step}": event.data.get("date")})
    reassess_claims(tx, reference, _occurred(event))


def reassess_claims(tx, reference: str, now: datetime) -> None:
    """Open claims judge their eligibility again, by the rules they were filed under."""
    migrant = tx.migrants.get(reference) or {}
    for claim in tx.claims.open_of(reference):
        updated = {**claim}
        if domain.reassess(updated, migrant):
            changes.save(tx, domain.touched(updated, now), claim["version"], domain.ELIGIBILITY_UPDATED)


# -- documents.document.* -------------------------------------------------------------------

STATE_AFTER = {"documents.document.uploaded": domain.UPLOADED, "documents.document.version_added": domain.UPLOADED,
               "documents.document.verified": domain.VERIFIED, "documents.document.rejected": domain.DOC_REJECTED}
DOCUMENT_EVENTS = (*STATE_AFTER, "documents.document.deleted")


def document_changed(event, tx) -> None:
    data = event.data
    document_id, owner, doc_type = data.get("document_id") or event.subject.id, data.get("owner"), data.get("doc_type")
    if not owner or not doc_type:
        raise PermanentError(f"{event.type} without owner or doc_type")
    if event.type == "documents.document.deleted":
        tx.documents.remove(document_id)
    else:
        tx.documents.save({"_id": document_id, "owner": owner, "doc_type": doc_type,
                           "status": STATE_AFTER[event.type], "reason": data.get("reason"),
                           "version": data.get("version"), "updated_at": _occurred(event)})
    # Filing writes this row too: a claim filed while this event is applied conflicts with
    # it and one of them runs again, so neither misses the other's document.
    tx.migrants.update(owner, {"documents_changed_at": _occurred(event)})
    refresh_claims(tx, owner, doc_type, _occurred(event))


def refresh_claims(tx, owner: str, doc_type: str, now: datetime) -> None:
    documents = tx.documents.of_owner(owner)
    for claim in tx.claims.open_for(owner, doc_type):
        updated = {**claim, "checklist": [dict(item) for item in claim["checklist"]]}
        if not domain.refresh_checklist(updated, documents):
            continue
        updated = domain.touched(updated, now)
        changes.save(tx, updated, claim["version"], domain.CHECKLIST_UPDATED)
        if updated["status"] == domain.DOCUMENTS_PENDING and domain.checklist_complete(updated):
            moved = domain.ready_for_review(updated, now)
            changes.save(tx, moved, updated["version"], domain.READY_FOR_REVIEW)
