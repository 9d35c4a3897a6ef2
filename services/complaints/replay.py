"""Replays (shared/replay/) in the complaints service: the migrants and documents that
existed before its queue did, folded into the same rows the live events build
(projections.py).

    python -m shared.replay --to complaints --from registration
    python -m shared.replay --to complaints --from documents
"""
from __future__ import annotations

from shared.errors import PermanentError

from . import projections

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
