"""What the registration API accepts and returns, as marshmallow schemas.

Input schemas normalise as they load (phone to +880..., passport upper case, district
to its official name), so callers only ever see one spelling of each value; each bad
field gets its own message. Every schema refuses unknown fields.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from marshmallow import ValidationError, fields, validates, validates_schema
from marshmallow.validate import Length, OneOf, Regexp

from shared.fields import StrictSchema, Text, today_in_bangladesh
from shared.pagination import page_schema

from .reference_data import PRE_DEPARTURE_STEPS, SEXES
from .validation import (
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


class Normalised(fields.String):
    """A string put through one of the `validation.normalise_*` functions."""

    def __init__(self, normalise, *, max_length: int, **kwargs):
        self._length = Length(max=max_length)
        super().__init__(validate=self._length, **kwargs)
        self._normalise = normalise

    def _deserialize(self, value, attr, data, **kwargs):
        # Bound the raw input before any pattern looks at it.
        text = self._length(super()._deserialize(value, attr, data, **kwargs))
        try:
            return self._normalise(text)
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
    name_bn = Text(required=True, min_length=2, max_length=100, validate=_bangla_script)
    date_of_birth = fields.Date(required=True)
    sex = fields.String(required=True, validate=OneOf(SEXES))
    # Optional values may be null: absent on registration, cleared on update.
    nid = Normalised(normalise_nid, max_length=30, allow_none=True)
    birth_registration_number = Normalised(normalise_birth_registration, max_length=30, allow_none=True)
    passport_number = Normalised(normalise_passport, max_length=20, allow_none=True,
                                 metadata={"example": "BX0123456"})
    phone = Normalised(normalise_phone, max_length=20, required=True,
                       metadata={"example": "+8801712345678"})
    district = Normalised(normalise_district, max_length=40, required=True)
    upazila = Text(required=True, min_length=2, max_length=60)
    destination_country = Normalised(normalise_country, max_length=10, required=True,
                                     metadata={"description": "ISO 3166-1 alpha-2", "example": "SA"})
    occupation = Text(required=True, min_length=2, max_length=80)
    recruiting_agency_licence = Normalised(normalise_licence, max_length=20, allow_none=True,
                                           metadata={"example": "RL-1234"})

    @validates("date_of_birth")
    def _plausible_birth_date(self, value: date, **_):
        _as_field_error(check_date_of_birth, value, self.today())


_IDENTITY_FIELDS = ("nid", "birth_registration_number")


def _person_present() -> fields.Boolean:
    """The UDC rule's explicit exception (shared/access.py): recorded in audit and event."""
    return fields.Boolean(metadata={"description": "For a UDC operator changing the record of someone their centre "
                                                   "did not register or assist: the person is present at the centre "
                                                   "now. Recorded in the audit trail and the event."})


class MigrantCreateSchema(_MigrantFields):
    """A new registration; `udc_centre` names the Union Digital Centre registering
    someone on their behalf."""

    udc_centre = Text(min_length=2, max_length=80, allow_none=True)

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

    def __init__(self, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)

    @validates_schema
    def _changes_something(self, data, **_):
        if not set(data) - {"person_present"}:
            raise ValidationError("Give at least one field to change.")


class StepSchema(_DatedInput):
    """A pre-departure step completed, with the document reference that proves it."""

    step = fields.String(required=True, validate=OneOf(PRE_DEPARTURE_STEPS))
    date = fields.Date(required=True)
    reference = Text(required=True, min_length=1, max_length=60)
    note = Text(max_length=500, multiline=True, allow_none=True)
    person_present = _person_present()

    @validates("date")
    def _not_future(self, value: date, **_):
        _as_field_error(check_not_future, value, self.today())


class MembershipSchema(_DatedInput):
    """A Wage Earners' Welfare Board membership being activated."""

    number = Text(required=True, min_length=3, max_length=40,
                  validate=Regexp(r"^[A-Za-z0-9/-]+$", error="Use letters, digits, hyphens and slashes only."))
    valid_until = fields.Date(required=True)

    @validates("valid_until")
    def _future(self, value: date, **_):
        _as_field_error(check_future, value, self.today())


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
    district = fields.String(required=True)
    upazila = fields.String(required=True)
    destination_country = fields.String(required=True)
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


class HistoryEntrySchema(StrictSchema):
    event_id = fields.String(required=True)
    type = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    summary = fields.String(required=True)
    summary_bn = fields.String(required=True, metadata={"description": "the same in Bangla"})


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
