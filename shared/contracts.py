"""Integration event contracts: the `data` of every event type, per schema version, in one place.

`Tx.emit` checks each event against its contract before it reaches the outbox, so an
event without a contract, with a field its contract does not declare, or carrying a
personal identifier is refused inside the transaction that raised it: it is never
stored, published or dead-lettered. Consumers learn here what they may rely on.

What goes into an event is what subscribers need and no more. NID, passport and birth
registration numbers and the date of birth stay in registration (PERSONAL_IDENTIFIERS
are refused anywhere in an event, whatever a contract says); sign-in and notifications
get a phone number and a name to greet.

Adding an event type: add its schema to CONTRACTS below (a new shape of an existing
type is a new schema_version, next to the old one). Tests: tests/unit/test_contracts.py.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf, Range, Regexp

from shared.auth import ROLES, STAFF
from shared.events import Envelope, topic_matches

PERSONAL_IDENTIFIERS = frozenset({"nid", "passport_number", "birth_registration_number", "date_of_birth"})


class ContractViolation(ValueError):
    """An event that does not match its contract: a bug in the code that raised it."""


class Contract(Schema):
    """Undeclared fields are refused, so nothing leaves a service unnoticed."""

    class Meta:
        unknown = RAISE


# A recruiting agency's licence as BMET prints it, normalised (RL-1234).
LICENCE = Regexp(r"^RL-[1-9][0-9]{0,4}$", error="A recruiting licence as RL-<number>.")


def _text(**kwargs) -> fields.String:
    return fields.String(validate=Length(min=1), **kwargs)


class Actor(Contract):
    """Who did it (shared.auth.Principal.as_actor), and for a UDC operator where, and
    whether the person was present when that is what let them act (shared.access)."""
    user = _text(required=True)
    role = fields.String(required=True, validate=OneOf(ROLES))
    udc_centre = fields.String(allow_none=True)
    person_present = fields.Boolean()


# -- registration ------------------------------------------------------------------

class MigrantRegistered(Contract):
    """A migrant is registered: their reference, a name to greet and a phone to reach them."""
    reference = _text(required=True)
    name_en = _text(required=True)
    name_bn = _text(required=True)
    phone = _text(required=True)
    registered_by = fields.Nested(Actor, required=True)
    # Where they go to work (ISO 3166-1 alpha-2): claims reports by it. Absent from events
    # raised before it was published.
    destination_country = fields.String(validate=Length(equal=2))
    # The recruiting agency that sent them: the complaints scorecard counts workers per agency.
    # Absent when they have none, and from events raised before it was published.
    recruiting_agency_licence = fields.String(validate=LICENCE)


class ContactValues(Contract):
    name_en = _text()
    name_bn = _text()
    phone = _text()
    destination_country = fields.String(validate=Length(equal=2))
    recruiting_agency_licence = fields.String(validate=LICENCE, allow_none=True,
                                              metadata={"description": "null: the licence was cleared"})


class MigrantUpdated(Contract):
    """Which fields changed; the new values only of the contact fields subscribers keep."""
    reference = _text(required=True)
    changed = fields.List(_text(), required=True, validate=Length(min=1))
    values = fields.Nested(ContactValues, required=True)
    by = fields.Nested(Actor, required=True)


class StepRecorded(Contract):
    """A pre-departure step is done; the document number that proves it stays in registration."""
    reference = _text(required=True)
    step = _text(required=True)
    date = fields.Date(required=True)
    by = fields.Nested(Actor, required=True)


class MembershipActivated(Contract):
    reference = _text(required=True)
    number = _text(required=True)
    valid_until = fields.Date(required=True)
    by = fields.Nested(Actor, required=True)


# -- documents ---------------------------------------------------------------------

class DocumentStored(Contract):
    """A stored version (services/documents/domain.py upload_event_data): enough to cite it."""
    document_id = _text(required=True)
    version = fields.Integer(required=True, strict=True, validate=Range(min=1))
    owner = _text(required=True)
    doc_type = _text(required=True)
    content_sha256 = fields.String(required=True, validate=Length(equal=64))
    size = fields.Integer(required=True, strict=True, validate=Range(min=1))
    content_type = _text(required=True)
    issuer = fields.String(required=True, allow_none=True)
    issue_date = fields.Date(required=True, allow_none=True)
    case_id = fields.String(required=True, allow_none=True)
    uploaded_by = fields.Nested(Actor, required=True)
    uploaded_at = fields.DateTime(required=True)
    seq = fields.Integer(required=True, strict=True, validate=Range(min=1))
    record_hash = fields.String(required=True, validate=Length(equal=64))


class DocumentDecided(Contract):
    document_id = _text(required=True)
    owner = _text(required=True)
    doc_type = _text(required=True)
    version = fields.Integer(required=True, strict=True, validate=Range(min=1))
    reason = fields.String(required=True, allow_none=True)
    by = fields.Nested(Actor, required=True)


class DocumentDeleted(Contract):
    document_id = _text(required=True)
    owner = _text(required=True)
    doc_type = _text(required=True)
    versions = fields.List(fields.Integer(strict=True), required=True)
    reason = _text(required=True)
    by = fields.Nested(Actor, required=True)


# -- claims and complaints (consumed by documents for the legal hold) ----------------

class CaseChanged(Contract):
    """What services/documents reads of a claim or complaint: `status` ("closed" lifts the
    hold) and, when given, the documents the case relies on."""
    case_id = _text(required=True)
    status = _text(required=True)
    document_ids = fields.List(_text())


class ClaimChanged(CaseChanged):
    """Every claims.claim.* event (services/claims/domain.py event_data): the case shape
    documents reads for legal hold, plus what notifications need: the claim type, the
    migrant's reference and the claimant's phone. Heirs' NIDs and accounts stay in claims."""
    document_ids = fields.List(_text(), required=True)
    claim_type = _text(required=True)
    migrant_reference = _text(required=True)
    claimant_phone = fields.String(required=True, allow_none=True)
    # Whole taka approved (null: no decision yet), for a timeline's "what happens next";
    # absent from events raised before it was published.
    approved_amount = fields.Integer(strict=True, allow_none=True, validate=Range(min=0))


class ClaimPayment(ClaimChanged):
    """payment_recorded, and paid for the payment that completes it (services/claims/domain.py
    payment_data): the taka of this payment and the total paid so far; absent from events
    raised before they were published. The account paid into stays in claims."""
    payment_amount = fields.Integer(strict=True, validate=Range(min=1))
    paid_total = fields.Integer(strict=True, validate=Range(min=0))


# services/claims/domain.py EVENT_TYPES, kept in step by tests/unit/test_claims_events.py.
CLAIM_ACTIONS = ("submitted", "checklist_updated", "eligibility_updated", "ready_for_review", "info_requested", "info_received",
                 "recommended", "approved", "rejected", "review_requested", "payment_ordered", "payment_recorded",
                 "paid", "closed", "withdrawn", "assigned")

CONTRACTS: dict[tuple[str, int], type[Contract]] = {
    ("registration.migrant.registered", 1): MigrantRegistered,
    ("registration.migrant.updated", 1): MigrantUpdated,
    ("registration.migrant.step_recorded", 1): StepRecorded,
    ("registration.migrant.membership_activated", 1): MembershipActivated,
    ("documents.document.uploaded", 1): DocumentStored,
    ("documents.document.version_added", 1): DocumentStored,
    ("documents.document.verified", 1): DocumentDecided,
    ("documents.document.rejected", 1): DocumentDecided,
    ("documents.document.deleted", 1): DocumentDeleted,
    **{(f"claims.claim.{action}", 1): ClaimChanged for action in CLAIM_ACTIONS},
    ("claims.claim.payment_recorded", 1): ClaimPayment,
    ("claims.claim.paid", 1): ClaimPayment,
}


# -- claims: stage clocks and notes (services/claims/clocks.py, timers.py) ------------

class ClaimOverdue(ClaimChanged):
    """A claim's running clock passed its due date: published once per claim and stage."""
    stage = fields.String(required=True, validate=OneOf(("documents_pending", "under_review", "payment_ordered",
                                                         "awaiting_mission")))
    due_at = fields.DateTime(required=True)


CONTRACTS.update({("claims.claim.overdue", 1): ClaimOverdue, ("claims.claim.note_added", 1): ClaimChanged})

# -- complaints (services/complaints/domain.py EVENT_TYPES, event_data) ----------------

class ComplaintChanged(CaseChanged):
    """Every complaints.complaint.* event: the case shape documents reads for legal hold
    ("closed" or "withdrawn" lifts it), the receipt number and the complainant's phone
    (notifications, like claims' claimant_phone: a phone is contact, not an identity
    number), the category and the agency licences (the scorecard), and whether it is
    restricted (subscribers keep a confidential complaint's details to themselves)."""
    document_ids = fields.List(_text(), required=True)
    receipt_number = _text(required=True)
    migrant_reference = _text(required=True)
    complainant_phone = fields.String(required=True, allow_none=True)
    category = _text(required=True)
    agency_licences = fields.List(_text(), required=True)
    restricted = fields.Boolean(required=True)
    # Taka the complainant claims (the scorecard sums it per agency); absent from events
    # raised before it was published.
    amount_claimed = fields.Integer(strict=True, validate=Range(min=0))
    # The legal aid staff member's user id (null: not assigned), so a subscriber shows a
    # restricted complaint to its assignee; a staff id, not a migrant's identifier. Absent
    # from events raised before it was published.
    assignee = fields.String(allow_none=True, validate=Length(min=1))


class HearingChanged(ComplaintChanged):
    """hearing_scheduled / hearing_held / hearing_adjourned (services/complaints/hearings.py)."""
    hearing_no = fields.Integer(required=True, strict=True, validate=Range(min=1))
    date = fields.Date(required=True)
    venue = _text(required=True)
    parties = fields.List(_text(), required=True)
    respondent_attended = fields.Boolean()  # held
    next_date = fields.Date()                # adjourned


class ReferralChanged(ComplaintChanged):
    """referred / referral_updated (services/complaints/referrals.py): each referral has its own due date."""
    referral_no = fields.Integer(required=True, strict=True, validate=Range(min=1))
    body = _text(required=True)
    referral_state = fields.String(required=True, validate=OneOf(("pending", "accepted", "declined", "completed")))
    due_at = fields.DateTime(required=True)


class AwardChanged(ComplaintChanged):
    """A settlement or award and its compliance (services/complaints/awards.py): taka decided,
    paid so far and the deadline, and for a payment received what was paid."""
    amount = fields.Integer(required=True, strict=True, allow_none=True)
    paid_total = fields.Integer(required=True, strict=True)
    payment_deadline = fields.Date(required=True, allow_none=True)
    payment_amount = fields.Integer(strict=True, validate=Range(min=1))
    enforcement_action = fields.String(validate=OneOf(("recommend_licence_suspension", "draw_security_deposit")))


class ComplaintOverdue(ComplaintChanged):
    """A complaint's clock passed its due date (services/complaints/clocks.py): once per complaint and stage."""
    stage = _text(required=True)
    due_at = fields.DateTime(required=True)


COMPLAINT_ACTIONS = ("received", "scrutiny_started", "acknowledged", "notice_sent", "assigned", "evidence_attached",
                     "dismissed", "closed", "reopened", "withdrawn", "claim_linked")
CONTRACTS.update({
    **{(f"complaints.complaint.{action}", 1): ComplaintChanged for action in COMPLAINT_ACTIONS},
    **{(f"complaints.complaint.{action}", 1): HearingChanged
       for action in ("hearing_scheduled", "hearing_held", "hearing_adjourned")},
    **{(f"complaints.complaint.{action}", 1): ReferralChanged for action in ("referred", "referral_updated")},
    **{(f"complaints.complaint.{action}", 1): AwardChanged
       for action in ("settled", "award_issued", "compliance_monitoring", "payment_received", "complied",
                      "not_complied", "enforcement")},
    ("complaints.complaint.overdue", 1): ComplaintOverdue,
})

# -- replays (shared/replay/): current state, sent only to the service that asked ------

class StepDone(Contract):
    step = _text(required=True)
    date = fields.Date(required=True)


class Membership(Contract):
    number = _text(required=True)
    valid_until = fields.Date(required=True)
    activated_on = fields.Date()  # when it began (live subscribers take the event's date)


class MigrantSnapshot(Contract):
    """A migrant as registration holds them now (aggregate_version = the record's version):
    what registered/updated/step_recorded/membership_activated told live subscribers."""
    reference = _text(required=True)
    name_en = _text(required=True)
    name_bn = _text(required=True)
    phone = _text(required=True)
    registered_by = fields.Nested(Actor, required=True)
    registered_at = fields.DateTime(required=True)
    destination_country = fields.String(validate=Length(equal=2))
    recruiting_agency_licence = fields.String(validate=LICENCE)  # absent: none
    steps = fields.List(fields.Nested(StepDone), required=True)
    membership = fields.Nested(Membership, required=True, allow_none=True)


class DocumentSnapshot(Contract):
    """A document as the vault holds it now (aggregate_version = the head's revision)."""
    document_id = _text(required=True)
    owner = _text(required=True)
    doc_type = _text(required=True)
    version = fields.Integer(required=True, strict=True, validate=Range(min=1))
    status = fields.String(required=True, validate=OneOf(("pending", "verified", "rejected")))
    reason = fields.String(required=True, allow_none=True)
    case_ids = fields.List(_text(), required=True)
    content_sha256 = fields.String(required=True, validate=Length(equal=64))
    deleted = fields.Boolean(required=True)


class ClaimSnapshot(ClaimChanged):
    """A claim as claims holds it now (aggregate_version = the claim's version): what every
    claims.claim.* event carries (the taka approved, null: not yet, always present here),
    and for a late learner's timeline when it was filed and last changed and the taka paid so far."""
    filed_at = fields.DateTime(required=True)
    filed_on = fields.Date(required=True, allow_none=True)  # Dhaka's date of filing
    updated_at = fields.DateTime(required=True)
    approved_amount = fields.Integer(required=True, strict=True, allow_none=True, validate=Range(min=0))
    paid_total = fields.Integer(required=True, strict=True, validate=Range(min=0))


class NextHearing(Contract):
    date = fields.Date(required=True)
    venue = _text(required=True)


class Outcome(Contract):
    """How a complaint was decided: dismissed, or settled/awarded with the taka and deadline."""
    kind = _text(required=True)
    amount = fields.Integer(strict=True, allow_none=True)
    payment_deadline = fields.Date(allow_none=True)


class ComplaintSnapshot(ComplaintChanged):
    """A complaint as complaints holds it now (aggregate_version = the complaint's version):
    what every complaints.complaint.* event carries (`restricted` and `assignee`, always
    present here; never the narrative), and for a late learner's timeline when it was filed
    and last changed, the hearing still to be held (null: none), the outcome (null: none
    yet) and the taka paid so far."""
    assignee = fields.String(required=True, allow_none=True, validate=Length(min=1))
    filed_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    next_hearing = fields.Nested(NextHearing, required=True, allow_none=True)
    outcome = fields.Nested(Outcome, required=True, allow_none=True)
    paid_total = fields.Integer(required=True, strict=True, validate=Range(min=0))


class ReplayCompleted(Contract):
    """The last message of a replay: the requester reports to `reply_to` what it applied."""
    request_id = _text(required=True)
    source = _text(required=True)
    served = fields.Integer(required=True, strict=True, validate=Range(min=0))
    reply_to = fields.String(required=True)


CONTRACTS.update({
    ("registration.migrant.snapshot", 1): MigrantSnapshot,
    ("documents.document.snapshot", 1): DocumentSnapshot,
    ("claims.claim.snapshot", 1): ClaimSnapshot,
    ("complaints.complaint.snapshot", 1): ComplaintSnapshot,
    ("replay.completed", 1): ReplayCompleted,
})


# -- claims' catalogue (services/claims/catalogue_store.py) ---------------------------

class CataloguePublished(Contract):
    """An admin published a version of the claim-type catalogue; it is in force from
    `effective_from` (GET /claim-types). Version 1, seeded from the shipped file, has no event."""
    number = fields.Integer(required=True, strict=True, validate=Range(min=1))
    version = _text(required=True)
    effective_from = fields.Date(required=True)
    codes = fields.List(_text(), required=True)
    published_by = fields.Nested(Actor, required=True)


CONTRACTS[("claims.catalogue.published", 1)] = CataloguePublished


# -- identity: staff accounts (services/identity) ------------------------------------
# No password, hash, token or code is ever in these: who, what and when only.

class StaffAccountEvent(Contract):
    """A staff account changed or someone signed in with it (identity.staff.*)."""
    username = _text(required=True)
    role = fields.String(required=True, validate=OneOf(sorted(STAFF)))
    district = _text(required=True)
    udc_centre = fields.String(allow_none=True)
    status = fields.String(required=True, validate=OneOf(["active", "deactivated"]))
    by = fields.Nested(Actor)  # the admin (or the create-admin command) who made the change
    lock_count = fields.Integer(strict=True, validate=Range(min=1))  # locked: locks in a row
    locked_until = fields.DateTime()  # locked; sign_in_failed when the account was locked


# Why a sign-in failed. `unknown_account`: the username names no account; the event's
# subject is then `unknown_account` (an id per attempt) and it names nobody, never the
# name typed (people type passwords into the username field).
SIGN_IN_FAILURES = ("wrong_password", "temporary_password_expired", "locked", "deactivated", "unknown_account")
_ACCOUNT_FIELDS = ("username", "role", "district", "udc_centre", "status")


class StaffSignInFailed(StaffAccountEvent):
    """A sign-in was refused (identity.staff.sign_in_failed): the account's fields as every
    staff event has them, except for an unknown username, which carries `reason` alone."""
    username = _text()
    role = fields.String(validate=OneOf(sorted(STAFF)))
    district = _text()
    status = fields.String(validate=OneOf(["active", "deactivated"]))
    reason = fields.String(required=True, validate=OneOf(SIGN_IN_FAILURES))
    failed_attempts = fields.Integer(strict=True, validate=Range(min=1))  # wrong_password: in a row

    @validates_schema
    def _names_an_account_unless_unknown(self, data, **_):
        if data.get("reason") == "unknown_account":
            named = [name for name in _ACCOUNT_FIELDS if name in data]
            if named:
                raise ValidationError("An unknown username names no account.", field_name=named[0])
            return
        missing = [name for name in ("username", "role", "district", "status") if name not in data]
        if missing:
            raise ValidationError("A known account's failure names the account.", field_name=missing[0])


CONTRACTS.update({(f"identity.staff.{action}", 1): StaffAccountEvent for action in (
    "created", "deactivated", "password_changed", "password_reset", "signed_in", "locked", "unlocked")})
CONTRACTS[("identity.staff.sign_in_failed", 1)] = StaffSignInFailed

# -- identity: sign-in by SMS code (services/identity/otp_service.py) -----------------
# Never the code, and the phone only masked (shared.sms.masked): enough to follow one
# phone's attempts in an audit, not enough to learn whose numbers are known.

MASKED_PHONE = Regexp(r"^\+8801\*+[0-9]{2}$", error="A masked phone (+8801*******78).")


class OtpRequested(Contract):
    """A code was asked for; `sent`: the phone is known, so the code was sent to it."""
    request_id = _text(required=True)
    phone = fields.String(required=True, validate=MASKED_PHONE)
    sent = fields.Boolean(required=True)
    expires_at = fields.DateTime(required=True)


class OtpVerified(Contract):
    """A right code signed its phone in, as the migrant whose phone it is or as family of `cases`."""
    request_id = _text(required=True)
    phone = fields.String(required=True, validate=MASKED_PHONE)
    role = fields.String(required=True, validate=OneOf(("migrant", "family")))
    migrant_ref = fields.String(required=True, allow_none=True)
    cases = fields.List(_text(), required=True)


class OtpFailed(Contract):
    """A code was refused: why (the answer does not say), and the tries of its code so far."""
    request_id = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, validate=MASKED_PHONE)
    reason = fields.String(required=True, validate=OneOf(("wrong", "expired", "spent", "no_code", "unknown_phone")))
    tries = fields.Integer(required=True, strict=True, allow_none=True)


CONTRACTS.update({("identity.otp.requested", 1): OtpRequested, ("identity.otp.verified", 1): OtpVerified,
                  ("identity.otp.failed", 1): OtpFailed})


# -- directory: the public guide's data (services/directory/domain.py event_data) -----
# Which entry changed, how, when it was last checked and by whom, and what a subscriber
# shows without asking; the whole entry is the directory's public API.

class Bilingual(Contract):
    bn = _text(required=True)
    en = _text(required=True)


class DirectoryEntryChanged(Contract):
    change = fields.String(required=True, validate=OneOf(("created", "replaced")))
    last_checked = fields.Date(required=True)
    by = fields.Nested(Actor, required=True)


class AgencyChanged(DirectoryEntryChanged):
    """A recruiting agency's entry: its licence status (the scorecard may show it)."""
    licence_number = fields.String(required=True, validate=LICENCE)
    name = fields.Nested(Bilingual, required=True)
    status = fields.String(required=True, validate=OneOf(("valid", "suspended", "cancelled", "expired")))
    valid_until = fields.Date(required=True, allow_none=True)


class CountryChanged(DirectoryEntryChanged):
    code = fields.String(required=True, validate=Regexp(r"^[A-Z]{2}$", error="ISO 3166-1 alpha-2, upper-case."))
    name = fields.Nested(Bilingual, required=True)


class LinkChanged(DirectoryEntryChanged):
    id = _text(required=True)
    title = fields.Nested(Bilingual, required=True)
    url = fields.String(required=True, allow_none=True)


class TopicChanged(DirectoryEntryChanged):
    id = _text(required=True)
    kind = _text(required=True)
    title = fields.Nested(Bilingual, required=True)


CONTRACTS.update({("directory.agency.changed", 1): AgencyChanged, ("directory.country.changed", 1): CountryChanged,
                  ("directory.link.changed", 1): LinkChanged, ("directory.topic.changed", 1): TopicChanged})


def event_types() -> list[str]:
    return sorted({event_type for event_type, _ in CONTRACTS})


def types_matching(pattern: str) -> list[str]:
    """The contracted event types a binding key ('claims.claim.*') receives."""
    return [event_type for event_type in event_types() if topic_matches(pattern, event_type)]


def live_types_matching(pattern: str) -> list[str]:
    """types_matching without the replays' snapshots: those are sent straight to a learner's
    queue (shared.replay), never bound, so a consumer names each live type instead."""
    return [event_type for event_type in types_matching(pattern) if not event_type.endswith(".snapshot")]


def personal_identifiers_in(data, path: str = "") -> list[str]:
    """Where PERSONAL_IDENTIFIERS occur as keys in `data`, at any depth."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if key in PERSONAL_IDENTIFIERS:
                found.append(where)
            found += personal_identifiers_in(value, where)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += personal_identifiers_in(value, f"{path}[{i}]")
    return found


def check(event: Envelope) -> None:
    """Raise ContractViolation unless `event` matches the contract of its type and version."""
    contract = CONTRACTS.get((event.type, event.schema_version))
    if contract is None:
        raise ContractViolation(f"{event.type} v{event.schema_version} has no contract: "
                                "define its data in shared/contracts.py before publishing it")
    leaked = personal_identifiers_in(event.data)
    if leaked:
        raise ContractViolation(f"{event.type} carries personal identifiers ({', '.join(leaked)}); "
                                "they stay in the registration service")
    errors = contract().validate(event.data)
    if errors:
        raise ContractViolation(f"{event.type} v{event.schema_version} does not match its contract: {errors}")


@contextmanager
def defined(extra: dict[tuple[str, int], type[Contract]]) -> Iterator[None]:
    """Contracts that exist only inside the block: for tests of the event plumbing itself."""
    clashes = set(extra) & set(CONTRACTS)
    if clashes:
        raise ValueError(f"already defined: {sorted(clashes)}")
    CONTRACTS.update(extra)
    try:
        yield
    finally:
        for key in extra:
            CONTRACTS.pop(key, None)
