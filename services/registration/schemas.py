"""What the registration API accepts and returns, as marshmallow schemas.

Input schemas normalise as they load (phone to +880..., passport upper case, district
to its official name), so callers only ever see one spelling of each value; each bad
field gets its own message. Every schema refuses unknown fields.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from marshmallow import ValidationError, fields, validates, validates_schema
from marshmallow.validate import OneOf, Regexp

from shared.fields import (TEXT_WHITESPACE, CalendarDate, Normalised, StrictBoolean, StrictSchema, Text,
                           today_in_bangladesh)
from shared.history import TimelineEntrySchema
from shared.pagination import page_schema

from . import spellings
from .reference_data import COUNTRIES, DISTRICTS, PRE_DEPARTURE_STEPS, SEXES
from .validation import (
    EARLIEST_BIRTH_DATE,
    MINIMUM_AGE_YEARS,
    check_date_of_birth,
    check_future,
    check_not_future,
    is_bangla_name,
    normalise_birth_registration,
    normalise_country,
    normalise_district,
    normalise_licence,
    normalise_nid,
    normalise_passport,
    normalise_phone,
)

def _as_field_error(check, *args) -> None:
    try:
        check(*args)
    except ValueError as error:
        raise ValidationError(str(error)) from error


def _bangla_script(text: str) -> None:
    if not is_bangla_name(text):
        raise ValidationError("Must be written in Bangla (Bengali script).")


class _DatedInput(StrictSchema):
    """An input schema whose date rules are judged against `today` (Dhaka's by default);
    tests pass a fixed day."""

    def __init__(self, *, today: date | None = None, **kwargs):
        super().__init__(**kwargs)
        self._today = today

    def today(self) -> date:
        return self._today or today_in_bangladesh()


class _MigrantFields(_DatedInput):
    name_en = Text(required=True, min_length=2, max_length=100)
    name_bn = Text(required=True, min_length=2, max_length=100, validate=_bangla_script,
                   pattern=spellings.BANGLA_NAME)
    date_of_birth = CalendarDate(required=True, earliest=(EARLIEST_BIRTH_DATE + timedelta(days=1)).isoformat(),
                                 latest=f"today-{MINIMUM_AGE_YEARS}y",
                                 metadata={"description": f"after {EARLIEST_BIRTH_DATE} and at least "
                                                          f"{MINIMUM_AGE_YEARS} years before today (Asia/Dhaka)"})
    sex = fields.String(required=True, validate=OneOf(SEXES))
    # Optional values may be null: absent on registration, cleared on update.
    nid = Normalised(normalise_nid, max_length=30, allow_none=True, pattern=spellings.NID,
                     metadata={"description": "10, 13 or 17 digits (Bengali digits too), spaces and hyphens "
                                              "ignored", "example": "1994123456789"})
    birth_registration_number = Normalised(normalise_birth_registration, max_length=30, allow_none=True,
                                           pattern=spellings.BIRTH_REGISTRATION,
                                           metadata={"description": "17 digits, spaces and hyphens ignored"})
    passport_number = Normalised(normalise_passport, max_length=20, allow_none=True, pattern=spellings.PASSPORT,
                                 metadata={"example": "BX0123456", "description": "1-2 letters then 7-8 digits"})
    phone = Normalised(normalise_phone, max_length=20, required=True, pattern=spellings.PHONE,
                       metadata={"example": "+8801712345678",
                                 "description": "a Bangladesh mobile number, with or without +88; stored as +8801..."})
    district = Normalised(normalise_district, max_length=40, required=True, pattern=spellings.DISTRICT,
                          metadata={"example": "Cumilla", "description": "one of the 64 districts, any case, older "
                                    "spellings too (Comilla); stored as the official name (see Migrant.district)"})
    upazila = Text(required=True, min_length=2, max_length=60)
    destination_country = Normalised(normalise_country, max_length=10, required=True, pattern=spellings.COUNTRY,
                                     metadata={"description": "ISO 3166-1 alpha-2, any case (UK for GB)",
                                               "example": "SA"})
    occupation = Text(required=True, min_length=2, max_length=80)
    recruiting_agency_licence = Normalised(normalise_licence, max_length=20, allow_none=True,
                                           pattern=spellings.LICENCE, metadata={"example": "RL-1234"})

    @validates("date_of_birth")
    def _plausible_birth_date(self, value: date, **_):
        _as_field_error(check_date_of_birth, value, self.today())


_IDENTITY_FIELDS = ("nid", "birth_registration_number")


def _person_present() -> StrictBoolean:
    """The UDC rule's explicit exception (shared/access.py): recorded in audit and event."""
    return StrictBoolean(metadata={"description": "For a UDC operator changing the record of someone their centre "
                                                   "did not register or assist: the person is present at the centre "
                                                   "now. Recorded in the audit trail and the event."})


class MigrantCreateSchema(_MigrantFields):
    """A new registration; `udc_centre` names the Union Digital Centre registering
    someone on their behalf."""

    udc_centre = Text(min_length=2, max_length=80, allow_none=True,
                      metadata={"description": "only a udc_operator sends it (their token names the centre); "
                                               "from any other role it is 422"})

    OPENAPI_EXTRA = {"anyOf": [{"required": [name], "properties": {name: {"type": "string"}}}
                               for name in _IDENTITY_FIELDS],
                     "description": "An NID or a birth registration number is required (not null)."}

    # Runs despite other field errors so every problem is shown at once; looks at the
    # raw input so an NID that was given but invalid reports only its own error.
    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _has_identity_number(self, data, original_data, **_):
        given = original_data if isinstance(original_data, Mapping) else None
        if given is not None and all(given.get(name) is None for name in _IDENTITY_FIELDS):
            raise ValidationError("Give an NID or a birth registration number.", field_name="nid")


class MigrantUpdateSchema(_MigrantFields):
    """A change to any of the registration fields, at least one. Loads partially unless
    told otherwise. The service must check that the merged record still has an NID or a
    birth registration number. `udc_centre` is fixed at registration."""

    person_present = _person_present()
    OPENAPI_EXTRA = {  # "anyOf" (one field besides person_present) is added below the class
        "not": {"required": list(_IDENTITY_FIELDS),
                "properties": {name: {"enum": [None]} for name in _IDENTITY_FIELDS}},
        "description": "At least one field besides person_present. Clearing both identity numbers at once is refused, and so is clearing "
                       "the only one the record has (422)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)

    @validates_schema
    def _changes_something(self, data, **_):
        if not set(data) - {"person_present"}:
            raise ValidationError("Give at least one field to change.")

    @validates_schema
    def _keeps_an_identity_number(self, data, **_):
        if all(name in data and data[name] is None for name in _IDENTITY_FIELDS):
            raise ValidationError("Give an NID or a birth registration number.", field_name="nid")


MigrantUpdateSchema.OPENAPI_EXTRA["anyOf"] = [{"required": [name]} for name in MigrantUpdateSchema._declared_fields
                                              if name != "person_present"]


class StepSchema(_DatedInput):
    """A pre-departure step completed, with the document reference that proves it."""

    step = fields.String(required=True, validate=OneOf(PRE_DEPARTURE_STEPS))
    date = CalendarDate(required=True, latest="today", metadata={"description": "not in the future (Asia/Dhaka)"})
    reference = Text(required=True, min_length=1, max_length=60)
    note = Text(max_length=500, multiline=True, allow_none=True)
    person_present = _person_present()

    @validates("date")
    def _not_future(self, value: date, **_):
        _as_field_error(check_not_future, value, self.today())


# Letters, digits, hyphens and slashes, with whitespace only around them (it is trimmed).
MEMBERSHIP_NUMBER = f"^[{TEXT_WHITESPACE}]*[A-Za-z0-9/-]{{3,}}[{TEXT_WHITESPACE}]*$"


class MembershipSchema(_DatedInput):
    """A Wage Earners' Welfare Board membership being activated."""

    number = Text(required=True, min_length=3, max_length=40, pattern=MEMBERSHIP_NUMBER,
                  validate=Regexp(r"^[A-Za-z0-9/-]+$", error="Use letters, digits, hyphens and slashes only."))
    valid_until = CalendarDate(required=True, earliest="today+1d",
                               metadata={"description": "in the future (after today, Asia/Dhaka)"})

    @validates("valid_until")
    def _future(self, value: date, **_):
        _as_field_error(check_future, value, self.today())


# The reference's last character checks the other seven, which no regular expression can
# say: the document names this format and describes it; the fuzz test generates it.
REFERENCE_FORMAT = "probashi-reference"


# Responses. Optional values may be null, or absent where the store leaves them out.

class StoredDate(fields.Date):
    """A calendar date as the store gives it back: a date, a datetime (BSON has no date
    type) or an ISO string; always written out as YYYY-MM-DD."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return super()._serialize(value, attr, obj, **kwargs)


class StepRecordSchema(StrictSchema):
    date = StoredDate(required=True)
    reference = fields.String(required=True)
    note = fields.String(allow_none=True)
    recorded_by = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)


class MembershipRecordSchema(StrictSchema):
    number = fields.String(required=True)
    valid_until = StoredDate(required=True)
    activated_by = fields.String(required=True)
    activated_at = fields.DateTime(required=True)


class RegistrationStampSchema(StrictSchema):
    """Who registered the migrant, in what role, and from which UDC if any."""

    user = fields.String(required=True)
    role = fields.String(required=True)
    udc_centre = fields.String(allow_none=True)
    at = fields.DateTime(required=True)


class MigrantSchema(StrictSchema):
    reference = fields.String(required=True, metadata={"example": "PB-7KQ3-M9XC"})
    name_en = fields.String(required=True)
    name_bn = fields.String(required=True)
    date_of_birth = StoredDate(required=True)
    sex = fields.String(required=True, validate=OneOf(SEXES))
    nid = fields.String(allow_none=True)
    birth_registration_number = fields.String(allow_none=True)
    passport_number = fields.String(allow_none=True)
    phone = fields.String(required=True)
    district = fields.String(required=True, validate=OneOf(sorted(DISTRICTS)))
    upazila = fields.String(required=True)
    destination_country = fields.String(required=True, validate=OneOf(sorted(COUNTRIES)))
    occupation = fields.String(required=True)
    recruiting_agency_licence = fields.String(allow_none=True)
    pre_departure_steps = fields.Dict(
        keys=fields.String(validate=OneOf(PRE_DEPARTURE_STEPS)),
        values=fields.Nested(StepRecordSchema),
        required=True,
    )
    wewb_membership = fields.Nested(MembershipRecordSchema, required=True, allow_none=True)
    registered_by = fields.Nested(RegistrationStampSchema, required=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class HistoryEntrySchema(TimelineEntrySchema):
    """A line of a migrant's registration history."""


MigrantPageSchema = page_schema(MigrantSchema)
HistoryPageSchema = page_schema(HistoryEntrySchema)

# For OpenAPI registration, in this order: apispec names a nested schema when it first
# meets it, so a schema must be registered before any schema that nests it.
SCHEMAS = {
    "StepRecord": StepRecordSchema,
    "MembershipRecord": MembershipRecordSchema,
    "RegistrationStamp": RegistrationStampSchema,
    "Migrant": MigrantSchema,
    "HistoryEntry": HistoryEntrySchema,
    "MigrantPage": MigrantPageSchema,
    "HistoryPage": HistoryPageSchema,
    "MigrantCreate": MigrantCreateSchema,
    "MigrantUpdate": MigrantUpdateSchema,
    "Step": StepSchema,
    "Membership": MembershipSchema,
}


class DistrictSchema(StrictSchema):
    name = fields.String(required=True, metadata={"description": "the spelling registration stores"})
    name_bn = fields.String(required=True)


class DistrictListSchema(StrictSchema):
    items = fields.List(fields.Nested(DistrictSchema), required=True)
