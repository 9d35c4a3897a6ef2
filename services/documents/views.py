"""How stored documents are shown: the dicts the response schemas dump."""
from __future__ import annotations

from datetime import datetime

from . import chain


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def version_view(record: dict) -> dict:
    """One stored version as the API shows it."""
    out = {k: record.get(k) for k in ("version", "content_sha256", "size", "content_type", "filename", "issuer",
                                      "issue_date", "case_id", "uploaded_by", "seq", "record_hash", "verification")}
    out["uploaded_at"] = _instant(record.get("uploaded_at"))
    out["deleted"] = chain.is_deleted(record)
    return out


def document_view(head: dict, records: list[dict], *, versions: bool = True) -> dict:
    current = next((r for r in records if r.get("version") == head["current_version"]), None)
    verification = (current or {}).get("verification") or {}
    out = {"document_id": head["_id"], "owner": head["owner"], "doc_type": head["doc_type"],
           "current_version": head["current_version"], "case_ids": head["case_ids"],
           "status": "deleted" if head.get("deleted") else verification.get("status", "pending"),
           "created_at": head["created_at"], "updated_at": head["updated_at"], "deleted": head.get("deleted"),
           "current": version_view(current) if current else None}
    if versions:
        out["versions"] = [version_view(r) for r in records]
    return out
