"""Notifications over HTTP, registered on the case-status API by `register(api, service)`
(core's api.py calls it, as identity's api.py adds otp_api's routes):

    GET /notifications?state=&phone=&migrant=&event_id=&limit=&cursor=   staff, audited
    GET /notification-preferences?phone=                                 own phone, or staff's choice
    PUT /notification-preferences   {"opted_out": bool, "language": "bn"|"en", "phone"?}
"""
from __future__ import annotations

import functools
from typing import Callable

from marshmallow import ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf

from shared import spellings
from shared.auth import STAFF
from shared.fields import Normalised, StrictBoolean, StrictSchema
from shared.http.api import Api
from shared.pagination import PageQuerySchema, page_schema

from .notification_repository import STATES
from .notification_service import NotificationService

PEOPLE = STAFF | {"migrant", "family"}
LANGUAGES = ("bn", "en")


def _phone(description: str) -> Normalised:
    return Normalised(spellings.normalise_phone, max_length=20, pattern=spellings.PHONE,
                      metadata={"description": description, "example": "01712345678"})


class NotificationQuerySchema(PageQuerySchema):
    state = fields.String(validate=OneOf(STATES))
    phone = _phone("the phone it went (or goes) to")
    migrant = fields.String(validate=Length(min=1, max=40), metadata={"description": "the migrant's reference"})
    event_id = fields.String(validate=Length(min=1, max=100))


class NotificationSchema(StrictSchema):
    id = fields.String(attribute="_id", required=True, metadata={"description": "one per event and phone"})
    event_id = fields.String(required=True)
    migrant = fields.String(allow_none=True)
    to = fields.String(required=True, metadata={"description": "the phone, in full (staff only)"})
    language = fields.String(required=True, validate=OneOf(LANGUAGES))
    text = fields.String(required=True)
    urgent = fields.Boolean(required=True, metadata={"description": "sent in quiet hours too"})
    state = fields.String(required=True, validate=OneOf(STATES))
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True, required=True,
                               metadata={"description": "the gateway's reason for the last failure"})
    created_at = fields.DateTime(required=True)
    send_at = fields.DateTime(required=True, metadata={"description": "when it may leave (next try if queued)"})
    sent_at = fields.DateTime(allow_none=True, required=True)
    gateway_id = fields.String(metadata={"description": "the gateway's message id, once sent"})
    segments = fields.Integer(metadata={"description": "segments billed, once sent"})


class PreferenceQuerySchema(StrictSchema):
    phone = _phone("staff: whose preferences (required); others: their own phone, or leave it out")


class PreferenceChangeSchema(StrictSchema):
    opted_out = StrictBoolean(metadata={"description": "true: no more SMS to this phone"})
    language = fields.String(validate=OneOf(LANGUAGES), metadata={"description": "the SMS language"})
    phone = _phone("staff: whose preferences (required); others: their own phone, or leave it out")
    OPENAPI_EXTRA = {"anyOf": [{"required": ["opted_out"]}, {"required": ["language"]}]}

    @validates_schema
    def _something(self, data, **kwargs):
        if "opted_out" not in data and "language" not in data:
            raise ValidationError("Send opted_out, language or both.", "_schema")


class PreferencesSchema(StrictSchema):
    phone = fields.String(required=True)
    language = fields.String(required=True, validate=OneOf(LANGUAGES))
    opted_out = fields.Boolean(required=True)


def register(api: Api, service: NotificationService | Callable[[], NotificationService], prefix: str = "") -> None:
    """The routes on `api`. `service`, or a function making it on the first request (declaring
    routes uses no service: the OpenAPI document is built without one)."""
    current = (lambda: service) if isinstance(service, NotificationService) else functools.cache(service)

    @api.route(f"{prefix}/notifications", "GET", roles=STAFF, query=NotificationQuerySchema,
               response=page_schema(NotificationSchema), tag="notifications",
               summary="Notifications newest first, with their state, attempts and the gateway's last error "
                       "(every read audited)")
    def list_notifications(principal, query):
        filters = {k: query.get(k) for k in ("state", "phone", "migrant", "event_id")}
        return current().search(principal, filters, query["limit"], query["cursor"])

    @api.route(f"{prefix}/notification-preferences", "GET", roles=PEOPLE, query=PreferenceQuerySchema,
               response=PreferencesSchema, tag="notifications",
               summary="A phone's SMS language and whether it stopped notifications")
    def get_preferences(principal, query):
        return current().preferences_of(principal, query.get("phone"))

    @api.route(f"{prefix}/notification-preferences", "PUT", roles=PEOPLE, body=PreferenceChangeSchema,
               response=PreferencesSchema, tag="notifications",
               summary="Stop or resume notifications, or choose their language, for your own phone "
                       "(staff: for the phone named, on the person's behalf; audited)")
    def set_preferences(principal, body):
        return current().set_preferences(principal, body)


def build_service(uow, db, migrant_phone=None) -> NotificationService:
    """The service over `db` (outside transactions) and `uow` (whose Tx has `preferences`,
    e.g. a notification_repository.NotificationTx)."""
    from shared.audit import AuditTrail

    from .notification_repository import stores
    return NotificationService(uow, *stores(db), AuditTrail(db), migrant_phone=migrant_phone)


def for_case_status(service) -> NotificationService:
    """Over a CaseStatusService's unit of work and reads: a migrant's own phone is the one
    its facts learned from registration's events (service._learn_phone)."""
    def migrant_phone(reference: str) -> str | None:
        return ((service.reads.facts.get(reference) or {}).get("phone") or {}).get("value")
    return build_service(service.uow, service.reads.db, migrant_phone)
