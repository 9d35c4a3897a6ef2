"""What the complaints API accepts and returns, as marshmallow schemas. Every schema refuses
unknown fields. The lists (categories, channels, referral bodies) are data, loaded at
start: the schemas that name them are made from them (`intake_schema`, `referral_schema`).

What the document admits, the service accepts, as far as JSON Schema can say it; rules that
depend on the complaint (its status, its hearings' parties, today's date in Dhaka) answer
409 or 422 from the domain."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf, Range

from shared import spellings
from shared.fields import CalendarDate, FullMatch, Normalised, StrictBoolean, StrictSchema, Text
from shared.history import TimelineEntrySchema
from shared.pagination import PageQuerySchema, page_schema

from . import awards, domain, hearings, intake, referrals

COUNTRY = FullMatch(r"^[A-Za-z]{2}$", error="The country as a two-letter code, e.g. SA.")
REFERENCE = FullMatch(r"^PB-[0-9A-Z]{4}-[0-9A-Z]{4}$", error="A migrant reference, PB-XXXX-XXXX.")
RECEIPT = FullMatch(r"^CP-[0-9A-Z]{4}-[0-9A-Z]{4}$", error="A receipt number, CP-XXXX-XXXX.")
CLAIM_ID = FullMatch(r"^CLM-[0-9]{4}-[0-9A-Z]{8}$", error="A claim number, CLM-YYYY-XXXXXXXX.")
USER = Length(min=1, max=80)
MAX_TAKA = 100_000_000
ETAG = {"ETag": "the complaint's version, for If-Match on the next step"}


def _pattern(validator: FullMatch, **metadata) -> dict:
    return {"pattern": validator.regex.pattern, **metadata}


def _phone(description: str = "a Bangladesh mobile number", **kwargs) -> Normalised:
    """Spelled as registration takes it (shared.spellings); loads as +8801XXXXXXXXX, as stored."""
    return Normalised(spellings.normalise_phone, max_length=20, pattern=spellings.PHONE, **kwargs,
                      metadata={"description": f"{description}, in any spelling registration takes; read as "
                                                "+8801XXXXXXXXX", "example": "01712345678"})


def _licence(description: str = "a recruiting agency's licence", **kwargs) -> Normalised:
    """Spelled as registration takes it, or the number alone; loads as RL-<number>, as stored."""
    return Normalised(spellings.normalise_licence_or_number, max_length=20, pattern=spellings.LICENCE_OR_NUMBER,
                      **kwargs,
                      metadata={"description": f"{description}, in any spelling registration takes or the number "
                                                "alone; read as RL-<number>", "example": "RL-1234"})


def _taka(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=Range(min=1, max=MAX_TAKA), **kwargs)


# -- intake -----------------------------------------------------------------------------------

class ComplainantSchema(StrictSchema):
    migrant_reference = fields.String(required=True, validate=REFERENCE, metadata=_pattern(
        REFERENCE, description="the registered migrant the complaint is about"))
    name = Text(required=True, min_length=1, max_length=200, metadata={"description": "who complains (the migrant "
                                                                                      "or a family member)"})
    phone = _phone(required=True, description="where the complainant hears about the complaint (SMS)")
    relation = fields.String(load_default="self", validate=OneOf(["self", "family"]))


RESPONDENT_NEEDS = {"recruiting_agency": "licence", "sub_agent": "phone", "employer_abroad": "country"}


class RespondentSchema(StrictSchema):
    """Whom the complaint is against; what identifies each kind is required for it
    (the body's allOf says which)."""
    kind = fields.String(required=True, validate=OneOf(intake.RESPONDENT_KINDS))
    name = Text(required=True, min_length=1, max_length=200)
    licence = _licence()
    phone = _phone(description="a sub-agent's mobile number")
    country = fields.String(validate=COUNTRY, metadata=_pattern(COUNTRY, description="an employer's country"))

    @validates_schema
    def _what_the_kind_needs(self, data, **_):
        needs = RESPONDENT_NEEDS.get(data.get("kind"))
        if needs and not data.get(needs):
            raise ValidationError(f"A {data['kind'].replace('_', ' ')} is named with its {needs}.", field_name=needs)


def intake_schema(lists) -> type[StrictSchema]:
    """The intake body for these lists (categories and channels are data)."""
    respondent_rules = {"anyOf": [{"properties": {"kind": {"enum": [kind]}}, "required": [needs]}
                                  for kind, needs in RESPONDENT_NEEDS.items()]}

    class ComplaintIntakeSchema(StrictSchema):
        complainant = fields.Nested(ComplainantSchema, required=True)
        channel = fields.String(required=True, validate=OneOf(list(lists.channels)),
                                metadata={"description": "how the complaint came in"})
        category = fields.String(required=True, validate=OneOf(list(lists.categories)))
        respondents = fields.List(fields.Nested(RespondentSchema), required=True, validate=Length(min=1, max=20))
        amount_claimed = fields.Integer(strict=True, load_default=0, validate=Range(min=0, max=MAX_TAKA),
                                        metadata={"description": "taka"})
        narrative = Text(required=True, min_length=intake.NARRATIVE_MIN, max_length=intake.NARRATIVE_MAX,
                         multiline=True, metadata={"description": "what happened, in the complainant's words"})
        district = Text(required=True, min_length=2, max_length=40, metadata={"example": "Cumilla"})
        restricted = StrictBoolean(load_default=False, metadata={
            "description": "confidential (e.g. sexual abuse): only the assigned staff member, admins and the "
                           "complainant see it"})
        udc_centre = Text(min_length=2, max_length=80, allow_none=True,
                          metadata={"description": "the Union Digital Centre filing on someone's behalf; only a "
                                                   "udc_operator sends it (their token names the centre); from any "
                                                   "other role it is 422"})
        OPENAPI_EXTRA = {"allOf": [{"properties": {"respondents": {"items": respondent_rules}}}]}
    return ComplaintIntakeSchema


# -- steps --------------------------------------------------------------------------------------

class NoteSchema(StrictSchema):
    note = Text(min_length=1, max_length=1000, multiline=True)


class ReasonSchema(StrictSchema):
    reason = Text(required=True, min_length=2, max_length=1000, multiline=True)


class AcknowledgementSchema(StrictSchema):
    committee = fields.List(Text(min_length=1, max_length=120), required=True, validate=Length(min=1, max=10),
                            metadata={"description": "the members of the investigation committee"})


class AssignmentSchema(StrictSchema):
    assignee = fields.String(required=True, validate=USER,
                             metadata={"description": "the legal aid staff member's user id (their token's subject)"})


class EvidenceSchema(StrictSchema):
    document_id = fields.String(required=True, validate=Length(min=1, max=80),
                                metadata={"description": "a vault document of the complainant migrant"})


class LinkedClaimSchema(StrictSchema):
    claim_id = fields.String(required=True, validate=CLAIM_ID, metadata=_pattern(
        CLAIM_ID, description="a welfare claim of the same migrant", example="CLM-2026-7KQ3M9XC"))


def _over_cap_reason() -> Text:
    return Text(min_length=2, max_length=500, metadata={
        "description": "why another hearing beyond the configured cap (the charter says 3) is needed; "
                       "without it such a hearing is 409"})


class HearingSchema(StrictSchema):
    date = CalendarDate(required=True, earliest="today+1d", metadata={"description": "a later day (Asia/Dhaka)"})
    venue = Text(required=True, min_length=2, max_length=200)
    parties = fields.List(fields.String(validate=OneOf(hearings.PARTIES)), required=True,
                          validate=Length(min=2, max=len(hearings.PARTIES)),
                          metadata={"description": "the complainant and at least one respondent; each is sent "
                                                   "a notice"})
    over_cap_reason = _over_cap_reason()


class AttendanceSchema(StrictSchema):
    """Each party of the hearing, and no other: did they come."""
    complainant = StrictBoolean()
    recruiting_agency = StrictBoolean()
    sub_agent = StrictBoolean()
    employer_abroad = StrictBoolean()
    witness = StrictBoolean()


assert tuple(AttendanceSchema._declared_fields) == hearings.PARTIES


class HearingHeldSchema(StrictSchema):
    attendance = fields.Nested(AttendanceSchema, required=True, metadata={
        "description": "for each party of the hearing (as scheduled, no other): did they come"})
    minutes = Text(required=True, min_length=2, max_length=10_000, multiline=True)


class AdjournmentSchema(StrictSchema):
    next_date = CalendarDate(required=True, earliest="today+1d",
                             metadata={"description": "the next hearing's day, which counts against the cap"})
    reason = Text(required=True, min_length=2, max_length=1000, multiline=True)
    over_cap_reason = _over_cap_reason()


def referral_schema(lists) -> type[StrictSchema]:
    class ReferralSchema(StrictSchema):
        body = fields.String(required=True, validate=OneOf(list(lists.referral_bodies)),
                             metadata={"description": "the body the complaint is referred to"})
        note = Text(required=True, min_length=2, max_length=1000, multiline=True,
                    metadata={"description": "what the body is asked to do"})
    return ReferralSchema


class ReferralUpdateSchema(StrictSchema):
    state = fields.String(required=True, validate=OneOf([referrals.ACCEPTED, referrals.DECLINED,
                                                         referrals.COMPLETED]))
    note = Text(min_length=2, max_length=1000, multiline=True, metadata={"description": "required when declined"})

    OPENAPI_EXTRA = {"anyOf": [{"properties": {"state": {"enum": [referrals.ACCEPTED, referrals.COMPLETED]}}},
                               {"required": ["note"], "properties": {"note": {"type": "string"}}}],
                     "description": "A declined referral needs a note."}

    @validates_schema
    def _why_declined(self, data, **_):
        if data.get("state") == referrals.DECLINED and not data.get("note"):
            raise ValidationError("Say why the body declined.", field_name="note")


class InstalmentSchema(StrictSchema):
    due_on = CalendarDate(required=True, earliest="today+1d")
    amount = _taka(required=True)


class OutcomeSchema(StrictSchema):
    kind = fields.String(required=True, validate=OneOf([domain.SETTLED, domain.AWARD_ISSUED]),
                         metadata={"description": "settled (the parties agreed) or award_issued (the committee "
                                                  "decided)"})
    amount = _taka(required=True, metadata={"description": "taka"})
    payment_deadline = CalendarDate(required=True, earliest="today+1d")
    instalments = fields.List(fields.Nested(InstalmentSchema), validate=Length(min=1, max=60), metadata={
        "description": "on different later days, in order, none after the deadline, adding up to the amount; "
                       "default: the whole amount on the deadline"})
    terms = Text(min_length=2, max_length=2000, multiline=True)


class PaymentSchema(StrictSchema):
    amount = _taka(required=True, metadata={"description": "taka; never more than is still owed (409)"})
    paid_on = CalendarDate(required=True, latest="today", metadata={"description": "not a later day (Asia/Dhaka)"})
    reference = Text(min_length=2, max_length=80, metadata={"description": "the bank or wallet reference"})


class EnforcementSchema(StrictSchema):
    action = fields.String(required=True, validate=OneOf(awards.ENFORCEMENT_ACTIONS))
    note = Text(required=True, min_length=2, max_length=1000, multiline=True,
                metadata={"description": "what is recommended, and to whom"})


# -- queries --------------------------------------------------------------------------------------

class ListQuerySchema(PageQuerySchema):
    status = fields.String(validate=OneOf(domain.STATUSES))
    category = fields.String(validate=Length(min=1, max=40))
    district = fields.String(validate=Length(min=1, max=40))
    assignee = fields.String(validate=USER)
    agency_licence = _licence("complaints naming this recruiting agency")
    sub_agent_phone = _phone("complaints naming this sub-agent")
    migrant_reference = fields.String(validate=REFERENCE, metadata=_pattern(REFERENCE))
    receipt_number = fields.String(validate=RECEIPT, metadata=_pattern(RECEIPT, description="the receipt number "
                                                                                             "given at intake"))


class DueQueueQuerySchema(PageQuerySchema):
    status = fields.String(validate=OneOf(domain.STATUSES))
    category = fields.String(validate=Length(min=1, max=40))
    district = fields.String(validate=Length(min=1, max=40))
    assignee = fields.String(validate=USER)
    agency_licence = _licence("complaints naming this recruiting agency")
    overdue = fields.Boolean(metadata={"description": "true: past a due date now; false: the others"})


# -- what the API returns ---------------------------------------------------------------------------

class _Out(StrictSchema):
    pass


class ComplainantOutSchema(_Out):
    migrant_reference = fields.String(required=True)
    name = fields.String(required=True)
    phone = fields.String(metadata={"description": "to a family member only when it is the phone they signed in "
                                                   "with"})
    relation = fields.String(required=True)


class RespondentOutSchema(_Out):
    kind = fields.String(required=True)
    name = fields.String(required=True)
    licence = fields.String()
    phone = fields.String()
    country = fields.String()


class ComplaintSchema(_Out):
    """A complaint as stored; nested records (hearings, referrals, outcome ...) as they were recorded.
    A family member's token gets less (services/complaints/views.py): no staff notes or minutes,
    no officers' ids; the fields it leaves out are not required here."""
    complaint_id = fields.String(required=True, metadata={"example": "CMP-2026-7KQ3M9XC"})
    receipt_number = fields.String(required=True, metadata={"example": "CP-7KQ3-M9XC"})
    complainant = fields.Nested(ComplainantOutSchema, required=True)
    channel = fields.String(required=True)
    category = fields.String(required=True)
    respondents = fields.List(fields.Nested(RespondentOutSchema), required=True)
    agency_licences = fields.List(fields.String(), required=True)
    amount_claimed = fields.Integer(required=True)
    narrative = fields.String(metadata={"description": "not shown to a family member when the complaint is "
                                                       "restricted (confidential)"})
    district = fields.String(required=True, allow_none=True)
    restricted = fields.Boolean(required=True)
    filed_by = fields.Dict(metadata={"description": "who filed it; a family member sees the role, not the person"})
    status = fields.String(required=True, validate=OneOf(domain.STATUSES))
    stage_since = fields.DateTime(required=True, metadata={"description": "when the complaint entered its status"})
    assignee = fields.String(allow_none=True, metadata={"description": "the staff member (not shown to a family "
                                                                       "member)"})
    assigned_by = fields.String()
    evidence = fields.List(fields.Dict(), required=True)
    hearings = fields.List(fields.Dict(), required=True)
    referrals = fields.List(fields.Dict(), required=True)
    outcome = fields.Dict(required=True, allow_none=True)
    payments = fields.List(fields.Dict(), required=True)
    paid_total = fields.Integer(required=True)
    enforcement = fields.Dict(required=True, allow_none=True)
    closure = fields.Dict(required=True, allow_none=True)
    reopenings = fields.List(fields.Dict(), required=True)
    withdrawal = fields.Dict(required=True, allow_none=True)
    scrutiny = fields.Dict()
    acknowledgement = fields.Dict()
    notice = fields.Dict()
    monitoring = fields.Dict()
    non_compliance = fields.Dict()
    target_days = fields.Dict(required=True, metadata={"description": "scrutiny, acknowledgement and disposal "
                                                                      "targets in days, as configured at intake"})
    linked_claims = fields.List(fields.Dict(), required=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    # the clocks (services/complaints/clocks.py)
    clocks = fields.Raw(metadata={"description": "the stage clocks"})
    due_order = fields.DateTime(metadata={"description": "the earliest due date of a running clock "
                                                         "(9999-12-31: nothing due)"})
    alarm_at = fields.DateTime()
    overdue = fields.Raw(allow_none=True, metadata={"description": "the latest overdue mark"})
    overdue_stages = fields.List(fields.String(), metadata={"description": "stages marked overdue (once each)"})


class HistoryEntrySchema(TimelineEntrySchema):
    """A line of a complaint's history, with the status the complaint reached."""
    status = fields.String(required=True, allow_none=True)


ComplaintPageSchema = page_schema(ComplaintSchema)
HistoryPageSchema = page_schema(HistoryEntrySchema)


class CategorySchema(_Out):
    code = fields.String(required=True, metadata={"example": "unpaid_wages"})
    name_en = fields.String(required=True)
    name_bn = fields.String(required=True)


class CategoryListSchema(_Out):
    items = fields.List(fields.Nested(CategorySchema), required=True)
