"""Documents, their versions and the rules that change them. No I/O: callers pass the
clock, the ids and the actor, and store what comes back.

A document is a head (owner, type, current version, case links, deletion mark) plus one
chain record per stored version (chain.py). Records are never rewritten: a new upload
is a new record, and verification and deletion are bookkeeping fields kept out of the
hash so the chain still verifies after them.

Legal hold: this service cannot read the claims or complaints databases, so it keeps
its own `cases` projection from their events (`claims.claim.*`,
`complaints.complaint.*` with data `{case_id, status?, document_ids?}`). A document may
be linked only to a case the projection knows (else anyone could hold a document
forever with a made-up case id). It is held, and cannot be deleted, while any case it
was uploaded for is not known to be closed (or withdrawn), or while an open case names it in
`document_ids`. A link the projection does not know (recorded before that rule) still
holds: evidence is kept rather than deleted on a guess.
"""
from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone

from shared.access import check_owner
from shared.auth import Principal
from shared.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

from . import chain

SUBJECT = "document"
UPLOADED = "documents.document.uploaded"
VERSION_ADDED = "documents.document.version_added"
VERIFIED = "documents.document.verified"
REJECTED = "documents.document.rejected"
DELETED = "documents.document.deleted"

MIGRANT_REGISTERED = "registration.migrant.registered"
CASE_EVENTS = ("claims.claim.*", "complaints.complaint.*")
OPEN, CLOSED, WITHDRAWN = "open", "closed", "withdrawn"
# A case that ended either way no longer holds its documents (claims and complaints can be withdrawn).
ENDED = (CLOSED, WITHDRAWN)

DECISIONS = {"verified": VERIFIED, "rejected": REJECTED}
UNKNOWN_OWNER = ("No migrant with this reference is known to the documents vault. A migrant who was "
                 "just registered may take a moment to appear here; try again in a few seconds.")
UNKNOWN_CASE = ("No claim or complaint with this id is known to the documents vault, so nothing can be linked "
                "to it. A case opened a moment ago may take a few seconds to appear here; try again then.")


class TooLarge(DomainError):
    status, title, slug = 413, "Content too large", "too-large"


class UnsupportedMedia(DomainError):
    status, title, slug = 415, "Unsupported media type", "unsupported-type"


class Gone(DomainError):
    status, title, slug = 410, "Gone", "deleted"


class LegalHold(Conflict):
    title, slug = "Legal hold", "legal-hold"


class ContentMissing(DomainError):
    """The record exists but its bytes do not: an integrity fault, not a client error."""
    status, title, slug = 500, "Content missing", "content-missing"


class ContentAltered(DomainError):
    """The stored bytes no longer hash to what the record says: never served as if sound."""
    status, title, slug = 500, "Content altered", "content-altered"


class OutcomeUnknown(DomainError):
    """The database stopped answering while a change was committed: it may or may not have
    been applied, and the client must check rather than assume either."""
    status, title, slug = 503, "Outcome unknown", "outcome-unknown"
    retry_after = 5


class NotStored(DomainError):
    """The database refused the bytes part-way; nothing was kept, and sending again is safe."""
    status, title, slug = 503, "Not stored", "not-stored"
    retry_after = 5


class VerifyTooSoon(DomainError):
    status, title, slug = 429, "Too many requests", "verify-too-soon"

    def __init__(self, detail: str, retry_after: int, **extra):
        super().__init__(detail, retry_after_seconds=retry_after, **extra)
        self.retry_after = retry_after


@dataclass(frozen=True)
class StoredContent:
    content_id: object
    sha256: str
    size: int
    content_type: str


# Digits and letters nobody misreads on a phone call (as in migrant references).
_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_document_id() -> str:
    return "DOC-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def iso_instant(moment: datetime) -> str:
    """The one format chained datetimes are written in: UTC, milliseconds (what BSON keeps), 'Z'."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def original_name(name: str | None) -> str | None:
    """The client's file name as shown back: last path part, NFC, no control characters."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cc").strip()
    return name[:200] or None


def normalise_owner(text: str) -> str:
    """A migrant reference as PB-XXXX-XXXX, from any case, with or without hyphens and spaces.
    Only the spelling: whether the migrant exists is the owners projection's answer."""
    compact = "".join(ch for ch in str(text) if not ch.isspace() and ch != "-").upper()
    if len(compact) == 10 and compact.startswith("PB") and compact.isalnum() and compact.isascii():
        return f"PB-{compact[2:6]}-{compact[6:]}"
    return str(text).strip().upper()


def check_access(principal: Principal, owner: str) -> str:
    """The owner's reference as stored, once the principal may act for that migrant."""
    owner = normalise_owner(owner)
    check_owner(principal, owner, "A migrant may see and add only their own documents.")
    return owner


def check_upload_access(principal: Principal, owner: str, case: dict | None) -> str:
    """Who may add a document for `owner`: as check_access, and a family member too, to a case
    their sign-in names and that case's migrant only (the heirs bring the death certificate of
    the claim they are heirs to). `case`: the vault's record of the form's case_id, or None."""
    if principal.role != "family":
        return check_access(principal, owner)
    owner = normalise_owner(owner)
    if case is None or case["_id"] not in principal.cases or case.get("owner") != owner:
        raise Forbidden("A family member adds documents only to a case their sign-in names, for that case's migrant.")
    return owner


def check_type(code: str, allowed: tuple[str, ...]) -> None:
    if code not in allowed:
        raise Invalid({"doc_type": [f"Not a document type here; one of: {', '.join(allowed)}."]})


def visible(principal: Principal, head: dict | None, allow_deleted: bool = False) -> dict:
    """The document head the principal asked for, if they may see it."""
    if head is None:
        raise NotFound("No document with that id.")
    check_owner(principal, head["owner"], "A migrant may see only their own documents.")
    if head.get("deleted") and not allow_deleted:
        raise Gone(f"This document was deleted by an administrator: {head['deleted']['reason']}",
                   deleted_at=head["deleted"]["at"].isoformat())
    return head


def live(head: dict | None) -> dict:
    """A document head that can still change (found and not deleted)."""
    if head is None:
        raise NotFound("No document with that id.")
    if head.get("deleted"):
        raise Gone(f"This document was deleted by an administrator: {head['deleted']['reason']}")
    return head


def record_id(document_id: str, version: int) -> str:
    return f"{document_id}:{version}"


def new_record(*, document_id: str, version: int, owner: str, doc_type: str, stored: StoredContent,
               details: dict, filename: str | None, actor: dict, now: datetime, previous: dict | None) -> dict:
    """The chain record of one stored version, linked after the owner's last record."""
    issue_date = details.get("issue_date")
    record = chain.link({
        "document_id": document_id, "version": version, "owner": owner, "doc_type": doc_type,
        "content_sha256": stored.sha256, "size": stored.size, "content_type": stored.content_type,
        "issuer": details.get("issuer"),
        "issue_date": issue_date.isoformat() if isinstance(issue_date, date) else issue_date,
        "case_id": details.get("case_id"), "uploaded_by": actor, "uploaded_at": iso_instant(now),
    }, previous)
    record.update(_id=record_id(document_id, version), content_id=stored.content_id, filename=filename,
                  verification=None, deleted=False)
    return record


def new_head(record: dict, now: datetime) -> dict:
    return {"_id": record["document_id"], "owner": record["owner"], "doc_type": record["doc_type"],
            "current_version": record["version"], "case_ids": [record["case_id"]] if record["case_id"] else [],
            "revision": 1, "created_at": now, "updated_at": now, "deleted": None}


def advance_head(head: dict, record: dict, now: datetime) -> dict:
    case_ids = list(head["case_ids"])
    if record["case_id"] and record["case_id"] not in case_ids:
        case_ids.append(record["case_id"])
    return {**head, "current_version": record["version"], "case_ids": case_ids,
            "revision": head["revision"] + 1, "updated_at": now}


def touch_head(head: dict, now: datetime, **changes) -> dict:
    return {**head, **changes, "revision": head["revision"] + 1, "updated_at": now}


def upload_event_data(record: dict) -> dict:
    """What other services learn of a stored version: enough to cite it in a claim."""
    keys = ("document_id", "version", "owner", "doc_type", "content_sha256", "size", "content_type",
            "issuer", "issue_date", "case_id", "uploaded_by", "uploaded_at", "seq", "record_hash")
    return {k: record.get(k) for k in keys}


# -- legal hold ------------------------------------------------------------------

def case_state(event_type: str, data: dict, previous: dict | None) -> str:
    """A case's status after an event: the event's own `status`, else what its name says."""
    if data.get("status"):
        return str(data["status"]).lower()
    action = event_type.rsplit(".", 1)[-1]
    if action in ("opened", "reopened"):
        return OPEN
    if action == CLOSED:
        return CLOSED
    return previous["status"] if previous else OPEN


def holds(document_id: str, case_ids: list[str], known: dict[str, dict], naming: list[dict]) -> list[str]:
    """The cases that keep a document from deletion. `known` are the projected cases among
    `case_ids` (its own links); `naming` are projected cases listing it in document_ids."""
    held = [case_id for case_id in case_ids if (known.get(case_id) or {}).get("status") not in ENDED]
    held += [case["_id"] for case in naming if case.get("status") not in ENDED
             and document_id in (case.get("document_ids") or []) and case["_id"] not in held]
    return held


# -- history -----------------------------------------------------------------------

def history_entry(event) -> dict:
    """A document's history line for one of its own events, written with the change."""
    english, bangla = summary(event.type, event.data)
    return {"_id": event.id, "document_id": event.subject.id, "owner": event.data.get("owner"),
            "type": event.type, "occurred_at": occurred(event), "summary": english, "summary_bn": bangla}


def occurred(event) -> datetime:
    return datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))


def summary(event_type: str, data: dict) -> tuple[str, str]:
    """One line for a document's history, in English and Bangla."""
    version = data.get("version")
    if event_type == UPLOADED:
        return f"Uploaded ({str(data.get('doc_type', '')).replace('_', ' ')})", "নথি আপলোড করা হয়েছে"
    if event_type == VERSION_ADDED:
        return f"New version {version} uploaded", f"নথির নতুন সংস্করণ ({version}) আপলোড করা হয়েছে"
    if event_type == VERIFIED:
        return f"Version {version} verified by an officer", "কর্মকর্তা নথিটি যাচাই করে সঠিক পেয়েছেন"
    if event_type == REJECTED:
        return (f"Version {version} rejected: {data.get('reason')}",
                "নথিটি গ্রহণ করা হয়নি; কারণ জানতে অফিসে যোগাযোগ করুন")
    if event_type == DELETED:
        return f"Deleted by an administrator: {data.get('reason')}", "প্রশাসক নথিটি মুছে ফেলেছেন"
    return event_type, event_type
