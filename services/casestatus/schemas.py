"""What the case-status API accepts and returns, as marshmallow schemas (its OpenAPI document)."""
from __future__ import annotations

from marshmallow import Schema, fields
from marshmallow.validate import Length, OneOf

from shared.pagination import PageQuerySchema

from .service import LANGUAGES


class TimelineQuerySchema(PageQuerySchema):
    lang = fields.String(load_default="bn", validate=OneOf(LANGUAGES),
                         metadata={"description": "the language of the text and dates: Bangla (bn, the default) "
                                                  "or English (en)"})


class CaseRefSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, allow_none=True, metadata={"description": "claim or complaint (null: a "
                                                                                   "document sent for the case)"})
    title = fields.String(required=True, allow_none=True)


class EntrySchema(Schema):
    id = fields.String(required=True, metadata={"description": "the event's id (a replayed state's: replay:...)"})
    type = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    when = fields.String(required=True, metadata={"description": "when it happened, in Dhaka time, in the language "
                                                                  "asked (Bangla digits in Bangla)"})
    text = fields.String(required=True, metadata={"description": "what happened, written for the person"})
    case = fields.Nested(CaseRefSchema, required=True, allow_none=True)
    replayed = fields.Boolean(required=True, metadata={"description": "true: written from a replay of the state "
                                                                      "when this service started (catch-up)"})


class MissingDocumentSchema(Schema):
    doc_types = fields.List(fields.String(), required=True, metadata={"description": "any one of these will do"})
    state = fields.String(required=True, validate=OneOf(("missing", "rejected")))
    reason = fields.String(required=True, allow_none=True)


class HearingSchema(Schema):
    date = fields.String(required=True, metadata={"format": "date", "description": "the day, YYYY-MM-DD"})
    venue = fields.String(required=True)


class NextStepsSchema(Schema):
    case_id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    steps = fields.List(fields.String(), required=True, metadata={"description": "what happens next, in sentences"})
    office = fields.String(required=True, metadata={"description": "the office to contact"})
    missing_documents = fields.List(fields.Nested(MissingDocumentSchema), required=True)
    next_hearing = fields.Nested(HearingSchema, required=True, allow_none=True)
    amount = fields.Integer(required=True, allow_none=True, metadata={"description": "taka approved or awarded"})


class MigrantTimelineSchema(Schema):
    migrant_reference = fields.String(required=True)
    lang = fields.String(required=True, validate=Length(equal=2))
    items = fields.List(fields.Nested(EntrySchema), required=True, metadata={"description": "newest first"})
    next_cursor = fields.String(required=True, allow_none=True)
    open_cases = fields.List(fields.Nested(NextStepsSchema), required=True)


class CaseTimelineSchema(Schema):
    case_id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    lang = fields.String(required=True, validate=Length(equal=2))
    items = fields.List(fields.Nested(EntrySchema), required=True, metadata={"description": "newest first"})
    next_cursor = fields.String(required=True, allow_none=True)
    next_steps = fields.Nested(NextStepsSchema, required=True, allow_none=True,
                               metadata={"description": "null: the case has ended"})
