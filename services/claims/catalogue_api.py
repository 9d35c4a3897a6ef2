"""The catalogue's routes: the version in force for anyone, versions for staff, publishing
for admins.

Who reads: the catalogue in force is public (no token). It holds no personal data, only
what the board publishes anyway (amounts, who may claim, which papers to bring), and the
people who need it most - a family before it has any account, the web portal's guide -
have no token. Versions (past and scheduled) and who published them are for staff: a
scheduled version is not announced until it takes effect, and an admin's user id is not
for the public. Publishing is admin-only, with If-Match on the latest version.
"""
from __future__ import annotations

from flask import request
from marshmallow import INCLUDE, Schema, fields
from marshmallow.validate import OneOf

from shared.auth import STAFF
from shared.fields import CalendarDate, StrictSchema
from shared.http.api import PUBLIC, Api, Reply
from shared.pagination import PageQuerySchema, page_schema

from .catalogue_store import IN_FORCE, SCHEDULED, SUPERSEDED, CatalogueStore, etag
from .schemas import ClaimTypeSchema

ADMINS = frozenset({"admin"})


class CatalogueDocumentSchema(Schema):
    """The catalogue as published: the format of the shipped catalogue.json. Only its outline
    is checked here; the whole is checked by the same code that checks the file at start
    (422 naming the type and field). Other keys (`source` ...) are kept as sent."""

    class Meta:
        unknown = INCLUDE

    version = fields.String(required=True, metadata={"description": "this version's own label, e.g. 2027-01-1"})
    effective_from = CalendarDate(required=True, earliest="today",
                                  metadata={"description": "the day it takes effect (today or later, Asia/Dhaka)"})
    types = fields.List(fields.Dict(), required=True,
                        metadata={"description": "the claim types, as in GET /claim-types/versions/{number}"})


class CatalogueInForceSchema(StrictSchema):
    number = fields.Integer(required=True, metadata={"description": "the version's number"})
    version = fields.String(required=True)
    effective_from = fields.Date(required=True)
    types = fields.List(fields.Nested(ClaimTypeSchema), required=True)


class CatalogueVersionSchema(StrictSchema):
    number = fields.Integer(required=True)
    version = fields.String(required=True)
    effective_from = fields.Date(required=True)
    state = fields.String(required=True, validate=OneOf([IN_FORCE, SCHEDULED, SUPERSEDED]))
    codes = fields.List(fields.String(), required=True, metadata={"description": "its claim types"})
    published_by = fields.Dict(required=True, allow_none=True, metadata={"description": "null: the shipped file"})
    published_at = fields.DateTime(required=True)
    types = fields.List(fields.Nested(ClaimTypeSchema))


CatalogueVersionPageSchema = page_schema(CatalogueVersionSchema)
LATEST_ETAG = {"ETag": "the latest version's number, for If-Match when publishing the next"}
IF_MATCH = {"If-Match": "the ETag of the latest version (GET /claim-types/versions answers it), e.g. \"1\""}


def add_routes(api: Api, store: CatalogueStore) -> None:
    @api.route("/claim-types", "GET", roles=PUBLIC, response=CatalogueInForceSchema,
               summary="The claim-type catalogue in force: amounts, documents, who may claim (public)")
    def claim_types(principal):  # None: no token needed
        version = store.in_force()
        catalogue = version.catalogue
        return {"number": version.number, "version": catalogue.version, "effective_from": catalogue.effective_from,
                "types": [t.as_dict() for t in catalogue.types.values()]}

    @api.route("/claim-types/versions", "GET", roles=STAFF, query=PageQuerySchema,
               response=CatalogueVersionPageSchema, response_headers=LATEST_ETAG,
               summary="Every version of the catalogue, newest first, with the one in force")
    def catalogue_versions(principal, query):
        items, next_cursor, latest = store.list(query["limit"], query["cursor"])
        return Reply({"items": items, "next_cursor": next_cursor}, 200, {"ETag": etag(latest or 0)})

    @api.route("/claim-types/versions/<number>", "GET", roles=STAFF, response=CatalogueVersionSchema,
               summary="One version of the catalogue, with its types (the rules claims filed under it keep)")
    def catalogue_version(principal, number):
        return store.get(number)

    @api.route("/claim-types/versions", "POST", roles=ADMINS, body=CatalogueDocumentSchema,
               response=CatalogueVersionSchema, status=201, headers=IF_MATCH,
               response_headers={"ETag": "the new version's number", "Location": "the new version's URL"},
               summary="Publish a new version of the catalogue (admin); it takes effect on its date",
               problems={412: "If-Match is not the latest version: another admin published since you read",
                         428: "If-Match is missing"})
    def publish_catalogue(principal, body):
        document = {**body, "effective_from": body["effective_from"].isoformat()}  # as sent: YYYY-MM-DD
        version = store.publish(principal, document, request.headers.get("If-Match"))
        return Reply(version, 201, {"ETag": etag(version["number"]),
                                    "Location": f"{api.url_prefix}/claim-types/versions/{version['number']}"})
