"""What identity learns from other services' events (consumer.py wires them): whose phone
a number is, so a one-time code can sign its holder in.

- registration.migrant.registered / .updated / .snapshot: the migrant's own phone
  (phone -> migrant reference: a `migrant` token);
- claims.claim.* (`claimant_phone`) and complaints.complaint.* (`complainant_phone`), and
  their replays' .snapshot of each case as it stands now: the phone recorded on a case
  (phone -> case ids: a `family` token naming those cases). A case whose phone changes
  moves to the new phone; one whose phone is cleared leaves it.

Phones are stored in the one spelling shared.spellings gives them, so "01712-345678" on a
claim and "+8801712345678" at registration are one phone. A number that is not a Bangladesh
mobile (a migrant's number abroad) cannot receive our codes and is kept as none; that is
not the event's fault, so it is not refused. Duplicates and stale deliveries stop at the
consumer's inbox (shared.inbox) before they reach a handler; the writes are idempotent too.
"""
from __future__ import annotations

from shared.errors import PermanentError
from shared.spellings import normalise_phone

CLAIM_SNAPSHOT = "claims.claim.snapshot"
COMPLAINT_SNAPSHOT = "complaints.complaint.snapshot"


def phone_of(text) -> str | None:
    if not text:
        return None
    try:
        return normalise_phone(text)
    except ValueError:
        return None


def _reference(event) -> str:
    reference = event.data.get("reference") or event.subject.id
    if not isinstance(reference, str) or not reference.strip():
        raise PermanentError("registration event without a migrant reference")
    return reference


def _case_id(event) -> str:
    case_id = event.data.get("case_id") or event.subject.id
    if not isinstance(case_id, str) or not case_id.strip():
        raise PermanentError(f"{event.type} without a case id")
    return case_id


# -- registration.migrant.* ---------------------------------------------------------------

def migrant_phone(event, tx) -> None:
    """registered, and the replay's snapshot: the phone as registration holds it."""
    tx.phones.set_migrant(_reference(event), phone_of(event.data.get("phone")))


def migrant_updated(event, tx) -> None:
    values = event.data.get("values") or {}
    if "phone" in values:
        tx.phones.set_migrant(_reference(event), phone_of(values["phone"]))


# -- claims.claim.* and complaints.complaint.* ----------------------------------------------

def claim_changed(event, tx) -> None:
    """Every live claims.claim.* event, and the replay's snapshot: the phone the claim records."""
    tx.phones.set_case(_case_id(event), "claim", phone_of(event.data.get("claimant_phone")))


def complaint_changed(event, tx) -> None:
    tx.phones.set_case(_case_id(event), "complaint", phone_of(event.data.get("complainant_phone")))
