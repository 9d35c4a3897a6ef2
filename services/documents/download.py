"""Use case: serve a version's bytes, only as they were recorded.

The bytes are read once into a spooled copy and hashed before the first byte is sent:
content that no longer matches the recorded SHA-256, or is missing, is refused with a
problem (logged, and written to the audit trail) instead of being served as if sound.
The recorded digest goes with every download (Repr-Digest), so a client can check too.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator

from shared.auth import Principal
from shared.errors import NotFound

from . import domain
from .content import SpooledCopy, content_disposition, safe_filename
from .domain import SUBJECT, record_id
from .ports import Ports
from .storage import ContentUnreadable

log = logging.getLogger("probashi.documents")


@dataclass(frozen=True)
class Download:
    chunks: Iterator[bytes]
    content_type: str
    size: int
    sha256: str
    disposition: str


def download_version(ports: Ports, principal: Principal, document_id: str, version: int | None) -> Download:
    head = domain.visible(principal, ports.reads.documents.get(document_id))
    version = version or head["current_version"]
    record = ports.reads.records.get(record_id(document_id, version))
    if record is None:
        raise NotFound(f"This document has no version {version}; the current one is {head['current_version']}.")
    copy = _checked_copy(ports, principal, record)
    # Every download is on record, the owner's own included: this is evidence leaving the vault.
    ports.audit.record(principal, "download", SUBJECT, document_id, version=version)
    name = safe_filename(record.get("filename"), record["content_type"],
                         f"{record['doc_type']}-{document_id}-v{version}")
    return Download(copy.chunks(), record["content_type"], copy.size, record["content_sha256"],
                    content_disposition(record.get("filename"), name))


def _checked_copy(ports: Ports, principal: Principal, record: dict) -> SpooledCopy:
    where = f"The integrity check (/migrants/{record['owner']}/documents/verify) reports it."
    chunks = ports.content.open(record["content_id"])
    try:
        copy = SpooledCopy(chunks) if chunks is not None else None
    except ContentUnreadable:
        copy = None
    if copy is None:
        fault = domain.ContentMissing(f"The stored content of this version is missing, so it is not served. {where}")
    elif copy.sha256 != record["content_sha256"]:
        copy.close()
        fault = domain.ContentAltered("The stored content of this version no longer matches the hash recorded "
                                      f"when it was uploaded, so it is not served. {where}")
    else:
        return copy
    log.error("download refused: %s", fault.slug, extra={"document_id": record["document_id"],
                                                          "version": record["version"]})
    ports.audit.record(principal, "download_refused", SUBJECT, record["document_id"], version=record["version"],
                       problem=fault.slug)
    raise fault
