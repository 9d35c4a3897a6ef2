"""What complaints learns from other services' events (consumer.py wires them): which
migrants are registered (intake needs one), whose each vault document is (evidence is only
the complainant's own), and which welfare claims exist and whose (linking a complaint to
a claim of the same migrant).

Its own events are not among them: a complaint's history is written by the transaction
that changes it (changes.py).
"""
from __future__ import annotations

from shared.errors import PermanentError
# An event's instant and migrant, read as every service reads them (replay.py uses them too).
from shared.projections import migrant_reference as _reference, occurred as _occurred

# What complaints keeps of registration's migrant.updated values.
PUBLISHED = ("name_en", "name_bn", "phone")


# -- registration.migrant.* ---------------------------------------------------------------

def migrant_registered(event, tx) -> None:
    tx.migrants.update(_reference(event), {"registered": True, "name_en": event.data.get("name_en"),
                                           "name_bn": event.data.get("name_bn"), "phone": event.data.get("phone")})


def migrant_updated(event, tx) -> None:
    values = {k: v for k, v in (event.data.get("values") or {}).items() if k in PUBLISHED}
    if values:
        tx.migrants.update(_reference(event), values)


# -- documents.document.* -------------------------------------------------------------------

DOCUMENT_EVENTS = ("documents.document.uploaded", "documents.document.version_added", "documents.document.verified",
                   "documents.document.rejected", "documents.document.deleted")


def document_changed(event, tx) -> None:
    data = event.data
    document_id, owner = data.get("document_id") or event.subject.id, data.get("owner")
    if not owner:
        raise PermanentError(f"{event.type} without owner")
    if event.type == "documents.document.deleted":
        tx.documents.remove(document_id)
    else:
        tx.documents.save({"_id": document_id, "owner": owner, "doc_type": data.get("doc_type"),
                           "updated_at": _occurred(event)})


# -- claims.claim.submitted ------------------------------------------------------------------

def claim_submitted(event, tx) -> None:
    claim_id, reference = event.data.get("case_id") or event.subject.id, event.data.get("migrant_reference")
    if not claim_id or not reference:
        raise PermanentError(f"{event.type} without case_id or migrant_reference")
    tx.claims.save({"_id": claim_id, "migrant_reference": reference, "claim_type": event.data.get("claim_type"),
                    "submitted_at": _occurred(event)})
