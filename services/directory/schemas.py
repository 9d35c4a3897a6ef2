"""What the directory API accepts and answers, as marshmallow schemas (and so its OpenAPI
document). A PUT body is the whole entry but its id (the path names it) and its version
(If-Match names it); optional fields left out are null. Every schema refuses unknown fields.
The domain's rules (services/directory/domain.py check) are judged again by the service."""
from __future__ import annotations

from marshmallow import Schema, fields
from marshmallow.validate import Length, OneOf, Range

from shared.fields import _CONTROL as CONTROL_CHARACTERS
from shared.fields import CalendarDate, FullMatch, StrictSchema, Text
from shared.pagination import PageQuerySchema, page_schema

from . import domain

ETAG = {"ETag": "the entry's version, for If-Match when replacing it"}


def _one_letter_of(letters: str) -> str:
    """Text (no control characters) with at least one letter of `letters`."""
    return f"^[^{CONTROL_CHARACTERS}]*[{letters}][^{CONTROL_CHARACTERS}]*$"


def _bilingual(name: str, max_length: int, multiline: bool) -> type[Schema]:
    return StrictSchema.from_dict({
        "bn": Text(required=True, max_length=max_length, multiline=multiline,
                   pattern=_one_letter_of(domain.BENGALI_LETTERS),
                   metadata={"description": "Bangla (shown first): written in Bangla"}),
        "en": Text(required=True, max_length=max_length, multiline=multiline,
                   pattern=_one_letter_of(domain.LATIN_LETTERS),
                   metadata={"description": "English: written in English"})}, name=name)


# A name or title, and a paragraph, each in both languages.
LabelSchema = _bilingual("LabelSchema", 200, False)
ParagraphSchema = _bilingual("ParagraphSchema", 2000, True)

URL = FullMatch(r"^https://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?:/[!-~]*)?$",
                error="An https:// address (e.g. https://bideshjatra.gov.bd).")
EMAIL = FullMatch(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$",
                  error="An email address (e.g. labour.wing@example.org).")
PHONE = FullMatch(r"^\+[0-9][0-9 -]{5,18}[0-9]$", error="A phone number with its country code (e.g. +966 11 ...).")


def _label(**kwargs):
    return fields.Nested(LabelSchema, **kwargs)


def _paragraph(**kwargs):
    return fields.Nested(ParagraphSchema, **kwargs)


def _optional_paragraph(description: str):
    return _paragraph(allow_none=True, load_default=None, metadata={"description": description})


def _url(**kwargs):
    return fields.String(validate=[Length(max=300), URL], **kwargs)


def _nullable(field_class=fields.String, **kwargs):
    return field_class(allow_none=True, load_default=None, **kwargs)


class SourceSchema(StrictSchema):
    title = Text(required=True, min_length=1, max_length=200,
                 metadata={"description": "the source's own title, as published"})
    url = _url(allow_none=True, load_default=None)


class _Entry(StrictSchema):
    note = _optional_paragraph("what a reader should know, e.g. whom to ask where a value is unknown")
    last_checked = CalendarDate(required=True, latest="today",
                                metadata={"description": "the day an admin last checked the entry (not later than "
                                                         "today, Asia/Dhaka)"})
    sources = fields.List(fields.Nested(SourceSchema), validate=Length(max=10), load_default=list,
                          metadata={"description": "where the facts come from, where known"})


class AgencyBodySchema(_Entry):
    name = _label(required=True)
    status = fields.String(required=True, validate=OneOf(domain.AGENCY_STATUSES))
    valid_until = CalendarDate(allow_none=True, load_default=None,
                               metadata={"description": "the licence's last day, where known"})
    address = _optional_paragraph("the agency's office, where known")
    phone = _nullable(validate=PHONE, metadata={"description": "where known"})


class LabourWingSchema(StrictSchema):
    phone = _nullable(validate=PHONE, metadata={"description": "null: not known here (the note says whom to ask)"})
    email = _nullable(validate=[Length(max=200), EMAIL])
    address = _optional_paragraph("where the labour wing is")
    url = _url(allow_none=True, load_default=None)


def _unknown_labour_wing() -> dict:
    return {"phone": None, "email": None, "address": None, "url": None}


class MissionSchema(StrictSchema):
    name = _label(required=True, metadata={"description": "the mission's official name"})
    labour_wing = fields.Nested(LabourWingSchema, load_default=_unknown_labour_wing,
                                metadata={"description": "its contacts, each null where not known here"})


class CountryBodySchema(_Entry):
    name = _label(required=True)
    mission = fields.Nested(MissionSchema, required=True, metadata={"description": "Bangladesh's mission there"})


class LinkBodySchema(_Entry):
    title = _label(required=True)
    url = _url(allow_none=True, load_default=None,
               metadata={"description": "null: the address is not confirmed here (the note says whom to ask)"})
    purpose = _paragraph(required=True, metadata={"description": "what the platform is for"})


class FormSchema(StrictSchema):
    title = _label(required=True)
    url = _url(allow_none=True, load_default=None)


class TopicBodySchema(_Entry):
    kind = fields.String(required=True, validate=OneOf(domain.TOPIC_KINDS))
    title = _label(required=True)
    summary = _paragraph(required=True)
    who_may_apply = _paragraph(required=True)
    documents = fields.List(_paragraph(), validate=Length(max=40), load_default=list)
    forms = fields.List(fields.Nested(FormSchema), validate=Length(max=20), load_default=list)
    amounts = _optional_paragraph("what it costs or pays (null: nothing known here)")
    time_limits = _optional_paragraph("deadlines and how long it takes (null: nothing known here)")
    where_to_go = fields.List(_paragraph(), validate=Length(max=20), load_default=list)
    position = fields.Integer(strict=True, validate=Range(0, 10000), load_default=0,
                              metadata={"description": "order in the guide's list (then by id)"})


# -- answers ------------------------------------------------------------------------------

class _Versioned(StrictSchema):
    version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)


class AgencySchema(AgencyBodySchema, _Versioned):
    licence_number = fields.String(required=True, metadata={"example": "RL-1234"})


class AgencyItemSchema(StrictSchema):
    licence_number = fields.String(required=True)
    name = _label(required=True)
    status = fields.String(required=True, validate=OneOf(domain.AGENCY_STATUSES))
    valid_until = fields.Date(required=True, allow_none=True)
    last_checked = fields.Date(required=True)


class CountrySchema(CountryBodySchema, _Versioned):
    code = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2", "example": "SA"})


class LinkSchema(LinkBodySchema, _Versioned):
    id = fields.String(required=True)


class TopicSchema(TopicBodySchema, _Versioned):
    id = fields.String(required=True)


class TopicItemSchema(StrictSchema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=OneOf(domain.TOPIC_KINDS))
    title = _label(required=True)
    summary = _paragraph(required=True)
    last_checked = fields.Date(required=True)


def _items(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item), required=True)}, name=name)


AgencyPageSchema = page_schema(AgencyItemSchema)
CountryListSchema = _items(CountrySchema, "CountryListSchema")
LinkListSchema = _items(LinkSchema, "LinkListSchema")
TopicListSchema = _items(TopicItemSchema, "TopicListSchema")

BODIES = {domain.AGENCY: AgencyBodySchema, domain.COUNTRY: CountryBodySchema, domain.LINK: LinkBodySchema,
          domain.TOPIC: TopicBodySchema}


# -- queries ------------------------------------------------------------------------------

class AgencyQuerySchema(PageQuerySchema):
    q = Text(min_length=1, max_length=100, metadata={
        "description": "a licence (RL-1234, as registration takes it) or words the name begins with, in Bangla "
                       "or English"})
    status = fields.String(validate=OneOf(domain.AGENCY_STATUSES))


class TopicQuerySchema(Schema):
    kind = fields.String(validate=OneOf(domain.TOPIC_KINDS))
