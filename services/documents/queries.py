"""Use cases that only read: a document, a migrant's documents, a document's history,
the document types. Staff reads are written to the audit trail; a migrant's own are not."""
from __future__ import annotations

from shared.auth import Principal
from shared.errors import NotFound
from shared.history import history_page
from shared.pagination import keyset_page, position_after

from . import domain
from .doctypes import document_type
from .domain import SUBJECT, record_id
from .ports import Ports
from .views import document_view


def get_document(ports: Ports, principal: Principal, document_id: str) -> dict:
    head = domain.visible(principal, ports.reads.documents.get(document_id), allow_deleted=True)
    if principal.is_staff:
        ports.audit.record(principal, "read", SUBJECT, document_id)
    return document_view(head, ports.reads.records.for_document(document_id))


def list_documents(ports: Ports, principal: Principal, owner: str, doc_type: str | None, limit: int,
                   cursor: str | None) -> dict:
    owner = domain.check_access(principal, owner)
    if doc_type:
        domain.check_type(doc_type, ports.config.doc_types)
    if not ports.reads.owners.exists(owner):
        raise NotFound(domain.UNKNOWN_OWNER)
    page, next_cursor = keyset_page(ports.reads.documents.page(owner, doc_type, limit + 1, position_after(cursor)),
                                    limit, "created_at")
    current = ports.reads.records.many([record_id(h["_id"], h["current_version"]) for h in page])
    if principal.is_staff:
        for head in page:
            ports.audit.record(principal, "read", SUBJECT, head["_id"], via="list", doc_type=doc_type)
    items = [document_view(h, [current[k]] if (k := record_id(h["_id"], h["current_version"])) in current else [],
                           versions=False) for h in page]
    return {"items": items, "next_cursor": next_cursor}


def history(ports: Ports, principal: Principal, document_id: str, limit: int, cursor: str | None) -> dict:
    """Written by the same transactions that changed the document (transaction.run)."""
    domain.visible(principal, ports.reads.documents.get(document_id), allow_deleted=True)
    if principal.is_staff:
        ports.audit.record(principal, "read_history", SUBJECT, document_id)
    return history_page(ports.reads.history, document_id, limit, cursor)


def document_types(ports: Ports) -> list[dict]:
    return [document_type(code)._asdict() for code in ports.config.doc_types]
