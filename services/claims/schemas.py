"""What the claims API accepts and returns, as marshmallow schemas. Every schema refuses
unknown fields. The filing schema is made from the catalogue (`filing_schema`): its
`type` is one of the catalogue's codes, and what each type needs (its event fields, heirs
or a child) is stated in the OpenAPI document as one `anyOf` branch per type."""
from __future__ import annotations

from fractions import Fraction

from marshmallow import ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf, Range

from shared.fields import CalendarDate, FullMatch, StrictSchema, Text
from shared.history import TimelineEntrySchema
from shared.pagination import PageQuerySchema, page_schema

from . import domain

PHONE = FullMatch(r"^\+8801[3-9][0-9]{8}$", error="A Bangladesh mobile number as +8801XXXXXXXXX.")
NID = FullMatch(r"^(?:[0-9]{10}|[0-9]{13}|[0-9]{17})$", error="10, 13 or 17 digits.")
BIRTH_REGISTRATION = FullMatch(r"^[0-9]{17}$", error="17 digits.")
REFERENCE = FullMatch(r"^PB-[0-9A-Z]{4}-[0-9A-Z]{4}$", error="A migrant reference, PB-XXXX-XXXX.")
COUNTRY = FullMatch(r"^[A-Z]{2}$", error="ISO 3166-1 alpha-2, upper case (SA, MY, AE ...).")
CODE = FullMatch(r"^[a-z][a-z0-9_]{1,39}$", error="A snake_case code.")
ACCOUNT = FullMatch(r"^[0-9A-Za-z-]{4,34}$", error="4 to 34 letters, digits or hyphens.")
PAYMENT_REFERENCE = FullMatch(r"^[0-9A-Za-z][0-9A-Za-z/_.-]{2,59}$", error="3 to 60 letters, digits, / _ . -")
MAX_TAKA = 100_000_000
ETAG = {"ETag": "the claim's version, for If-Match on the next step"}


def _taka(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=Range(min=1, max=MAX_TAKA), **kwargs)


class ShareSchema(StrictSchema):
    numerator = fields.Integer(required=True, strict=True, validate=Range(min=1, max=1000))
    denominator = fields.Integer(required=True, strict=True, validate=Range(min=1, max=1000))

    @validates_schema
    def _proper(self, data, **_):
        if data["numerator"] > data["denominator"]:
            raise ValidationError("A share is at most the whole.", field_name="numerator")


class PayoutSchema(StrictSchema):
    """Where an heir is paid: a bank account (BEFTN) or a mobile wallet."""
    method = fields.String(required=True, validate=OneOf(["bank", "mobile_wallet"]))
    provider = Text(required=True, min_length=2, max_length=60,
                    metadata={"description": "the bank (and branch) or the wallet (bKash, Nagad ...)",
                              "example": "Sonali Bank, Cumilla branch"})
    account_number = fields.String(required=True, validate=ACCOUNT, metadata={"pattern": ACCOUNT.regex.pattern})


class HeirSchema(StrictSchema):
    name_en = Text(required=True, min_length=2, max_length=100)
    name_bn = Text(required=True, min_length=2, max_length=100)
    relation = fields.String(required=True, validate=OneOf(["spouse", "son", "daughter", "father", "mother",
                                                            "brother", "sister", "other"]))
    nid = fields.String(required=True, validate=NID, metadata={"pattern": NID.regex.pattern})
    phone = fields.String(required=True, validate=PHONE, metadata={"pattern": PHONE.regex.pattern})
    payout = fields.Nested(PayoutSchema, required=True)
    share = fields.Nested(ShareSchema, required=True)


class ChildSchema(StrictSchema):
    name_en = Text(required=True, min_length=2, max_length=100)
    name_bn = Text(required=True, min_length=2, max_length=100)
    birth_registration_number = fields.String(required=True, validate=BIRTH_REGISTRATION,
                                              metadata={"pattern": BIRTH_REGISTRATION.regex.pattern})
    guardian_phone = fields.String(validate=PHONE, metadata={"pattern": PHONE.regex.pattern})


class EventSchema(StrictSchema):
    """What happened: which fields a type needs is in its catalogue entry (`event_fields`)."""
    date = CalendarDate(earliest="1970-01-01", latest="today",
                        metadata={"description": "of the death, injury or illness, YYYY-MM-DD, up to today (Asia/Dhaka)"})
    country = fields.String(validate=COUNTRY, metadata={"pattern": COUNTRY.regex.pattern, "example": "SA"})
    body_arrival_record = Text(min_length=2, max_length=80,
                               metadata={"description": "the airport welfare desk's record of the body's arrival"})
    requested_amount = _taka()
    recovered_amount = _taka(metadata={"description": "compensation recovered abroad, in taka"})
    exam_level = fields.String(validate=OneOf(["ssc", "hsc"]))
    exam_year = fields.Integer(strict=True, validate=Range(min=2000, max=2100))
    gpa = fields.Float(validate=Range(min=1.0, max=5.0))


class _FilingFields(StrictSchema):
    migrant_reference = fields.String(required=True, validate=REFERENCE,
                                      metadata={"pattern": REFERENCE.regex.pattern, "example": "PB-2345-6789",
                                                "description": "the worker the claim is about (for a death, the "
                                                               "deceased); a migrant the claims service knows"})
    district = Text(required=True, min_length=2, max_length=40,
                    metadata={"description": "the district the claim is handled for (the family's DEMO)",
                              "example": "Cumilla"})
    event = fields.Nested(EventSchema, required=True)
    heirs = fields.List(fields.Nested(HeirSchema), validate=Length(min=1, max=20),
                        metadata={"description": "for a deceased worker: the legal heirs from the family (heirship) "
                                                 "certificate; their shares add up to the whole (x-shares-sum-to-one)",
                                  "x-shares-sum-to-one": True})
    child = fields.Nested(ChildSchema)
    note = Text(min_length=1, max_length=1000, multiline=True)
    udc_centre = Text(min_length=2, max_length=80, allow_none=True,
                      metadata={"description": "the Union Digital Centre filing on someone's behalf; only a "
                                               "udc_operator sends it (their token names the centre); from any "
                                               "other role it is 422"})

    @validates_schema
    def _shares_add_up(self, data, **_):
        heirs = data.get("heirs")
        if heirs:
            total = sum((Fraction(h["share"]["numerator"], h["share"]["denominator"]) for h in heirs), Fraction(0))
            if total != 1:
                raise ValidationError(f"The heirs' shares add up to {total}, not the whole (1).", field_name="heirs")


def filing_schema(catalogue, in_force=None) -> type[StrictSchema]:
    """The filing body for this catalogue: one anyOf branch per type states what it needs.
    `in_force` (a callable) gives the catalogue a filing is checked against when an admin
    may publish another while the process runs; the OpenAPI document states `catalogue`."""
    current = in_force or (lambda: catalogue)
    branches = []
    for claim_type in catalogue.types.values():
        branch: dict = {"properties": {"type": {"enum": [claim_type.code]},
                                       "event": {"required": list(claim_type.event_fields)} if claim_type.event_fields
                                       else {}}}
        needs = {"heirs": "heirs", "child": "child"}.get(claim_type.claimants)
        if needs:
            branch["required"] = [needs]
        others = [name for name in ("heirs", "child") if name != needs]
        branch["not"] = {"anyOf": [{"required": [name]} for name in others]}
        branches.append(branch)

    class ClaimFilingSchema(_FilingFields):
        type = fields.String(required=True,
                             metadata={"enum": list(catalogue.codes),
                                       "description": "a claim type of the catalogue in force (GET /claim-types)"})
        OPENAPI_EXTRA = {"anyOf": branches}

        @validates_schema
        def _what_the_type_needs(self, data, **_):
            in_force_now = current()
            if data.get("type") not in in_force_now.codes:
                raise ValidationError(f"Not a claim type of the catalogue in force; one of "
                                      f"{', '.join(in_force_now.codes)}.", field_name="type")
            claim_type = in_force_now.get(data.get("type"))
            if claim_type is None:
                return
            missing = [name for name in claim_type.event_fields if name not in (data.get("event") or {})]
            if missing:
                raise ValidationError(f"A {claim_type.name_en.lower()} claim needs: {', '.join(missing)}.",
                                      field_name="event")
            needs = {"heirs": "heirs", "child": "child"}.get(claim_type.claimants)
            if needs and not data.get(needs):
                raise ValidationError(f"A {claim_type.name_en.lower()} claim needs {needs}.", field_name=needs)
            for name in ("heirs", "child"):
                if name != needs and data.get(name) is not None:
                    raise ValidationError(f"A {claim_type.name_en.lower()} claim names no {name}.", field_name=name)
    return ClaimFilingSchema


class InfoRequestSchema(StrictSchema):
    source = fields.String(required=True, validate=OneOf(["family", "mission"]),
                           metadata={"description": "who is asked: the family, or the mission abroad"})
    note = Text(required=True, min_length=2, max_length=1000, multiline=True)


class NoteSchema(StrictSchema):
    note = Text(min_length=1, max_length=1000, multiline=True)


class RequiredNoteSchema(StrictSchema):
    note = Text(required=True, min_length=2, max_length=1000, multiline=True)


class ApprovalSchema(StrictSchema):
    amount = fields.Integer(strict=True, validate=Range(min=0, max=MAX_TAKA),
                            metadata={"description": "taka; default: what the type's rule gives. Lower needs a "
                                                     "reason; above the rule's cap is refused"})
    reason = Text(min_length=2, max_length=500, metadata={"description": "why the amount is lower than the rule's"})
    eligibility_override = Text(min_length=2, max_length=500,
                                metadata={"description": "why the claim is approved although an eligibility "
                                                         "condition is not met (recorded)"})


class RejectionSchema(StrictSchema):
    reason_code = fields.String(required=True, validate=CODE, metadata={"pattern": CODE.regex.pattern,
                                                                          "example": "not_member"})
    reason_en = Text(required=True, min_length=2, max_length=500)
    reason_bn = Text(required=True, min_length=2, max_length=500)


class PaymentSchema(StrictSchema):
    amount = _taka(required=True)
    method = fields.String(required=True, validate=OneOf(["bank", "mobile_wallet", "cheque"]))
    account = fields.String(required=True, validate=ACCOUNT, metadata={"pattern": ACCOUNT.regex.pattern})
    reference = fields.String(required=True, validate=PAYMENT_REFERENCE,
                              metadata={"pattern": PAYMENT_REFERENCE.regex.pattern,
                                        "description": "the disbursement's reference (BEFTN trace, cheque number): "
                                                       "unique across all claims"})
    heir_id = fields.Integer(strict=True, validate=Range(min=1, max=20),
                             metadata={"description": "which heir is paid (a death grant is paid per heir)"})


class WithdrawalSchema(StrictSchema):
    reason = Text(required=True, min_length=2, max_length=500)


class AssignmentSchema(StrictSchema):
    officer = fields.String(required=True, validate=Length(min=1, max=80),
                            metadata={"description": "the officer's user id (their token's subject)"})


class QueueQuerySchema(PageQuerySchema):
    status = fields.String(validate=OneOf(domain.STATUSES))
    type = fields.String(validate=CODE, metadata={"pattern": CODE.regex.pattern})
    district = fields.String(validate=Length(min=1, max=40))
    assignee = fields.String(validate=Length(min=1, max=80))
    migrant_reference = fields.String(validate=REFERENCE, metadata={"pattern": REFERENCE.regex.pattern})


# -- what the API returns ------------------------------------------------------------------

class _Out(StrictSchema):
    pass


class EligibilityResultSchema(_Out):
    condition = fields.String(required=True)
    met = fields.Boolean(required=True, allow_none=True, metadata={"description": "null: cannot be told yet"})
    detail = fields.String(required=True, metadata={"description": "why, in English"})
    detail_code = fields.String(metadata={"description": "why, as a code (no_event_date, no_membership, "
                                                         "membership_active, membership_not_active, "
                                                         "clearance_recorded, no_clearance, member_or_clearance, "
                                                         "neither_member_nor_clearance, filed_days_after_event); "
                                                         "absent on claims judged before it was added"})
    detail_args = fields.Dict(metadata={"description": "the code's values: dates (valid_until, since, on), "
                                                       "days and limit"})


class ChecklistItemSchema(_Out):
    doc_types = fields.List(fields.String(), required=True, metadata={"description": "any one of these"})
    status = fields.String(required=True, validate=OneOf([domain.MISSING, domain.UPLOADED, domain.VERIFIED,
                                                           domain.DOC_REJECTED]))
    document_id = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True, metadata={"description": "why it was rejected"})


class MissionClockSchema(_Out):
    since = fields.String(required=True, allow_none=True, metadata={"format": "date-time",
                                                                   "description": "when the current wait began"})
    counted_seconds = fields.Float(required=True, metadata={"description": "waited on missions before `since`"})
    waits = fields.Integer(required=True)


class ClockSchema(_Out):
    """The stage clock (services/claims/clocks.py)."""
    stage = fields.String(required=True, allow_none=True, metadata={"description": "null: no stage clock runs"})
    started_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    running_since = fields.String(required=True, allow_none=True,
                                  metadata={"format": "date-time", "description": "null while it stands still"})
    counted_seconds = fields.Float(required=True, metadata={"description": "counted before running_since"})
    paused_for = fields.String(required=True, allow_none=True, validate=OneOf(["family", "mission"]))
    mission = fields.Nested(MissionClockSchema, required=True)
    due_at = fields.String(required=True, allow_none=True,
                           metadata={"format": "date-time", "description": "null: nothing is due (no target, or "
                                                                            "waiting on the family)"})


class OverdueMarkSchema(_Out):
    stage = fields.String(required=True)
    due_at = fields.String(required=True, metadata={"format": "date-time"})
    marked_at = fields.String(required=True, metadata={"format": "date-time"})


class NoteEntrySchema(_Out):
    note_id = fields.Integer(required=True)
    text = fields.String(required=True)
    by = fields.String(required=True)
    role = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})


class NewNoteSchema(StrictSchema):
    text = Text(required=True, min_length=1, max_length=2000, multiline=True)


class DueQueueQuerySchema(PageQuerySchema):
    status = fields.String(validate=OneOf(domain.STATUSES))
    type = fields.String(validate=CODE, metadata={"pattern": CODE.regex.pattern})
    district = fields.String(validate=Length(min=1, max=40))
    assignee = fields.String(validate=Length(min=1, max=80))
    overdue = fields.Boolean(metadata={"description": "true: past their running clock's due date now; "
                                                      "false: the others"})


class ClaimSchema(_Out):
    """A claim as stored; nested records (heirs, decision, payments ...) as they were recorded.
    A family member's token gets less (services/claims/views.py): the other heirs by name and
    share only, no notes, no officers' ids; the fields it leaves out are not required here."""
    claim_id = fields.String(required=True, metadata={"example": "CLM-2026-7KQ3M9XC"})
    type = fields.String(required=True)
    name_en = fields.String(required=True)
    name_bn = fields.String(required=True)
    catalogue_version = fields.String(required=True)
    catalogue_number = fields.Integer(metadata={"description": "the catalogue version it was filed under "
                                                               "(GET /claim-types/versions/{number})"})
    migrant_reference = fields.String(required=True)
    district = fields.String(required=True)
    destination_country = fields.String(allow_none=True, metadata={
        "description": "where the event happened abroad, else the destination registration published; for reports"})
    status = fields.String(required=True, validate=OneOf(domain.STATUSES))
    stage_since = fields.DateTime(required=True, metadata={"description": "when the claim entered its status"})
    event = fields.Dict(required=True)
    heirs = fields.List(fields.Dict(), required=True, allow_none=True)
    child = fields.Dict(required=True, allow_none=True)
    claimant_phone = fields.String(allow_none=True, metadata={
        "description": "a family member sees it only when it is the phone they signed in with"})
    eligibility = fields.List(fields.Nested(EligibilityResultSchema), required=True)
    eligibility_rules = fields.List(fields.Dict(), required=True,
                                    metadata={"description": "the conditions of the catalogue it was filed under"})
    filed_on = fields.String(required=True, metadata={"format": "date", "description": "the filing date (Asia/Dhaka)"})
    checklist = fields.List(fields.Nested(ChecklistItemSchema), required=True)
    amount_rule = fields.Dict(required=True)
    target_days = fields.Dict(required=True)
    filed_by = fields.Dict(metadata={"description": "who filed it; a family member sees the role, not the person"})
    note = fields.String(allow_none=True, metadata={"description": "the filing note (staff and the migrant)"})
    resume_to = fields.String(required=True, allow_none=True)
    assignee = fields.String(allow_none=True, metadata={"description": "the officer (staff and the migrant)"})
    assigned_by = fields.String()
    recommendation = fields.Dict(required=True, allow_none=True)
    decision = fields.Dict(required=True, allow_none=True)
    rejection = fields.Dict(required=True, allow_none=True)
    approved_amount = fields.Integer(required=True, allow_none=True)
    payments = fields.List(fields.Dict(), required=True)
    paid_total = fields.Integer(required=True)
    information_request = fields.Dict()
    review_request = fields.Dict()
    payment_order = fields.Dict()
    closure = fields.Dict()
    withdrawal = fields.Dict()
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    # stage clocks and notes (clocks.py); claims filed before the clocks have none until their next change
    clock = fields.Nested(ClockSchema)
    overdue = fields.Nested(OverdueMarkSchema, allow_none=True,
                            metadata={"description": "when the timer marked the running clock overdue"})
    overdue_stages = fields.List(fields.String(), metadata={"description": "stages marked overdue (once each)"})
    notes = fields.List(fields.Nested(NoteEntrySchema))


class HistoryEntrySchema(TimelineEntrySchema):
    """A line of a claim's history, with the status the claim reached."""
    status = fields.String(required=True, allow_none=True)


class ClaimTypeSchema(_Out):
    code = fields.String(required=True)
    name_en = fields.String(required=True)
    name_bn = fields.String(required=True)
    amount = fields.Dict(required=True)
    claimants = fields.String(required=True)
    self_service = fields.Boolean(required=True)
    event_fields = fields.List(fields.String(), required=True)
    eligibility = fields.List(fields.Dict(), required=True)
    documents = fields.List(fields.List(fields.String()), required=True)
    unique_per = fields.List(fields.String(), required=True)
    target_days = fields.Dict(required=True)


class CatalogueSchema(_Out):
    version = fields.String(required=True)
    effective_from = fields.Date(required=True)
    types = fields.List(fields.Nested(ClaimTypeSchema), required=True)


ClaimPageSchema = page_schema(ClaimSchema)
HistoryPageSchema = page_schema(HistoryEntrySchema)
