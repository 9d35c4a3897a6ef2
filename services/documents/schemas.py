"""What the documents API accepts and returns, as marshmallow schemas.

Uploads are multipart/form-data (`shared.http.api.Upload` marks the file part); every
other input is JSON. Input schemas refuse unknown fields. The document type is checked
by the service against the configured list (DOCUMENT_TYPES), not here.
"""
from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validates, validates_schema
from marshmallow.validate import Length, OneOf, Range

from shared.fields import CalendarDate, FullMatch, StrictSchema, Text, text_pattern, today_in_bangladesh
from shared.history import TimelineEntrySchema
from shared.http.api import Upload
from shared.pagination import PageQuerySchema

EARLIEST_ISSUE_DATE = date(1950, 1, 1)

CASE_ID = FullMatch(r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$", error="Use letters, digits and - _ . / only.")

# A form field left blank (whitespace only, as str.strip() sees it) counts as absent.
_BLANK = "[\\t-\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*"


def _or_blank(pattern: str) -> str:
    return f"^(?:{_BLANK}|{pattern.removeprefix('^').removesuffix('$')})$"


# A migrant's reference, PB-XXXX-XXXX in any case, hyphens and whitespace anywhere.
_GAP = "[\\t-\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000-]*"
OWNER = f"^{_GAP}[Pp]{_GAP}[Bb]{_GAP}(?:[A-Za-z0-9]{_GAP}){{8}}$"
# The files the vault takes; anything else is 415 (the content decides, not the name).
FILE_TYPES = "application/pdf, image/jpeg, image/png, image/webp"


class VersionFormSchema(StrictSchema):
    """A new version of a document: the file, and what changed about it (whatever is
    left out is carried over from the version it replaces)."""

    file = Upload(required=True, metadata={"description": "PDF, JPEG, PNG or WebP; the content decides the type",
                                           "content_types": FILE_TYPES})
    issuer = Text(max_length=120, metadata={"example": "Al-Noor Recruiting Agency (RL-1234)"})
    issue_date = CalendarDate(earliest=EARLIEST_ISSUE_DATE.isoformat(), latest="today",
                              metadata={"description": "on the document, YYYY-MM-DD, from 1950 to today (Asia/Dhaka)"})
    case_id = fields.String(validate=[Length(max=40), CASE_ID],
                            metadata={"description": "the claim or complaint this document backs (legal hold); "
                                                     "only a case the vault already knows (else 422)",
                                      "example": "CLM-2026-000123"})
    udc_centre = Text(min_length=2, max_length=80,
                      metadata={"description": "the Union Digital Centre uploading on the migrant's behalf; only a "
                                               "udc_operator sends it, from any other role it is 422",
                                "pattern": _or_blank(text_pattern(2))})

    @validates("issue_date")
    def _plausible(self, value: date, **_):
        if value > today_in_bangladesh():
            raise ValidationError("Must not be in the future.")
        if value < EARLIEST_ISSUE_DATE:
            raise ValidationError(f"Must be after {EARLIEST_ISSUE_DATE.isoformat()}.")


class UploadFormSchema(VersionFormSchema):
    """A new document for a migrant."""

    owner = fields.String(required=True, validate=Length(min=8, max=20),
                          metadata={"description": "the migrant's reference; 422 while the vault does not know it",
                                    "example": "PB-7KQ3-M9XC", "pattern": OWNER})
    doc_type = fields.String(required=True, validate=Length(max=64),
                             metadata={"description": "a code from GET /document-types", "example": "job_contract"})


def _with_types(schema: type[Schema], doc_types: tuple[str, ...]) -> type[Schema]:
    """`schema` whose doc_type is one of this deployment's types (DOCUMENT_TYPES), as an enum
    in the OpenAPI document. The service checks the type itself (its 422 names the list)."""
    field = fields.String(required=schema._declared_fields["doc_type"].required,
                          validate=OneOf(doc_types), metadata={"description": "a code from GET /document-types"})
    return type(schema.__name__, (schema,), {"doc_type": field})


def upload_form(doc_types: tuple[str, ...]) -> type[Schema]:
    return _with_types(UploadFormSchema, doc_types)


def list_query(doc_types: tuple[str, ...]) -> type[Schema]:
    return _with_types(ListQuerySchema, doc_types)


class DecisionSchema(StrictSchema):
    decision = fields.String(required=True, validate=OneOf(("verified", "rejected")))
    version = fields.Integer(required=True, strict=True, validate=Range(min=1),
                             metadata={"description": "the version looked at; it must still be the current one"})
    reason = Text(min_length=3, max_length=500, multiline=True, metadata={"description": "required when rejecting"})

    OPENAPI_EXTRA = {"anyOf": [{"properties": {"decision": {"enum": ["verified"]}}},
                               {"required": ["reason"], "properties": {"reason": {"type": "string"}}}],
                     "description": "A rejection needs a reason."}

    @validates_schema
    def _reason_for_rejection(self, data, **_):
        if data.get("decision") == "rejected" and not data.get("reason"):
            raise ValidationError("Say why the document is rejected.", field_name="reason")


class DeletionSchema(StrictSchema):
    reason = Text(required=True, min_length=5, max_length=500, multiline=True)


class ListQuerySchema(PageQuerySchema):
    doc_type = fields.String(validate=Length(max=64))


class DownloadQuerySchema(Schema):
    version = fields.Integer(validate=Range(min=1), metadata={"description": "default: the current version"})


# Responses

class StoredDate(fields.Date):
    """A calendar date kept as an ISO string (it is part of the hash chain)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return super()._serialize(value, attr, obj, **kwargs)


class ActorSchema(Schema):
    user = fields.String(required=True)
    role = fields.String(required=True)
    udc_centre = fields.String(allow_none=True)


class VerificationSchema(Schema):
    status = fields.String(required=True, validate=OneOf(("verified", "rejected")))
    reason = fields.String(allow_none=True)
    by = fields.Nested(ActorSchema, required=True)
    at = fields.DateTime(required=True)


class DeletionRecordSchema(Schema):
    reason = fields.String(required=True)
    by = fields.Nested(ActorSchema, required=True)
    at = fields.DateTime(required=True)


class VersionSchema(Schema):
    version = fields.Integer(required=True)
    content_sha256 = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    content_type = fields.String(required=True, metadata={"description": "as detected from the content"})
    filename = fields.String(allow_none=True, metadata={"description": "as uploaded"})
    issuer = fields.String(allow_none=True)
    issue_date = StoredDate(allow_none=True)
    case_id = fields.String(allow_none=True)
    uploaded_by = fields.Nested(ActorSchema, required=True)
    uploaded_at = fields.DateTime(required=True)
    seq = fields.Integer(required=True, metadata={"description": "place in the migrant's hash chain"})
    record_hash = fields.String(required=True)
    verification = fields.Nested(VerificationSchema, allow_none=True)
    deleted = fields.Boolean(required=True)


class DocumentSchema(Schema):
    document_id = fields.String(required=True, metadata={"example": "DOC-7KQ3M9XCA2B4"})
    owner = fields.String(required=True)
    doc_type = fields.String(required=True)
    current_version = fields.Integer(required=True)
    status = fields.String(required=True, validate=OneOf(("pending", "verified", "rejected", "deleted")),
                           metadata={"description": "the officers' decision on the current version"})
    case_ids = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    deleted = fields.Nested(DeletionRecordSchema, allow_none=True)
    current = fields.Nested(VersionSchema, allow_none=True)


class DocumentDetailSchema(DocumentSchema):
    versions = fields.List(fields.Nested(VersionSchema), required=True, metadata={"description": "oldest first"})


class HistoryEntrySchema(TimelineEntrySchema):
    """A line of a document's history."""


class ChainProblemSchema(Schema):
    document_id = fields.String(allow_none=True)
    version = fields.Raw(allow_none=True)
    seq = fields.Raw(allow_none=True)
    kind = fields.String(required=True, metadata={"description": "record_altered, chain_broken, content_altered, "
                                                                 "content_missing, chain_truncated, head_mismatch"})
    detail = fields.String(required=True)


class ChainReportSchema(Schema):
    owner = fields.String(required=True)
    checked_at = fields.DateTime(required=True)
    ok = fields.Boolean(required=True)
    records = fields.Integer(required=True)
    documents = fields.Integer(required=True)
    last_seq = fields.Integer(allow_none=True)
    last_record_hash = fields.String(allow_none=True)
    problems = fields.List(fields.Nested(ChainProblemSchema), required=True)


class DocumentTypeSchema(Schema):
    code = fields.String(required=True)
    label_en = fields.String(required=True)
    label_bn = fields.String(required=True)


class DocumentTypeListSchema(Schema):
    items = fields.List(fields.Nested(DocumentTypeSchema), required=True)
