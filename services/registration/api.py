"""HTTP entry point of the registration service: thin, everything else is the service layer."""
from __future__ import annotations

from flask import Flask, request

from shared import mongo
from shared.auth import STAFF
from shared.config import Settings
from shared.errors import Invalid
from shared.http.api import PUBLIC, Api
from shared.http.app import broker_check, create_app
from shared.http.steps import with_etag
from shared.pagination import PageQuerySchema, page_schema

from . import bootstrap
from . import spellings
from .reference_data import district_list
from .schemas import (REFERENCE_FORMAT, DistrictListSchema, HistoryEntrySchema, MembershipSchema, MigrantCreateSchema, MigrantSchema,
                      MigrantUpdateSchema, Normalised, StepSchema)
from .service import RegistrationService
from .validation import (normalise_birth_registration, normalise_nid, normalise_passport, normalise_phone,
                         normalise_reference)

REGISTRARS = frozenset({"udc_operator", "welfare_officer", "admin"})
EVERYONE = frozenset({"migrant", *STAFF})
OFFICERS = frozenset({"welfare_officer", "admin"})
ETAG = {"ETag": "the record's version, for If-Match on the next change"}


class SearchQuerySchema(PageQuerySchema):
    passport = Normalised(normalise_passport, max_length=20, pattern=spellings.PASSPORT)
    nid = Normalised(normalise_nid, max_length=30, pattern=spellings.NID)
    birth_registration_number = Normalised(normalise_birth_registration, max_length=30,
                                           pattern=spellings.BIRTH_REGISTRATION)
    phone = Normalised(normalise_phone, max_length=20, pattern=spellings.PHONE)
    reference = Normalised(normalise_reference, max_length=20, pattern=spellings.REFERENCE,
                           metadata={"format": REFERENCE_FORMAT, "description": "PB-XXXX-XXXX; the last character "
                                     "checks the other seven (422 when it does not)"})


def _search_filters(query: dict) -> dict:
    """Search values are normalised like stored ones, so '01712-345678' finds '+8801712345678'."""
    rules = {"passport": ("passport_number", normalise_passport), "nid": ("nid", normalise_nid),
             "birth_registration_number": ("birth_registration_number", normalise_birth_registration),
             "phone": ("phone", normalise_phone), "reference": ("reference", normalise_reference)}
    filters, errors = {}, {}
    for param, (field, normalise) in rules.items():
        if query.get(param):
            try:
                filters[field] = normalise(query[param])
            except ValueError as exc:
                errors[param] = [str(exc)]
    if errors:
        raise Invalid(errors, "Some query parameters are not valid; see errors.")
    return filters


def make_api(service: RegistrationService) -> Api:
    api = Api("registration")

    @api.route("/migrants", "POST", roles=REGISTRARS, body=MigrantCreateSchema, response=MigrantSchema,
               status=201, summary="Register a migrant (UDC operators register on someone's behalf)",
               response_headers={**ETAG, "Location": "the new record's URL"},
               problems={409: "Passport, NID or birth registration number already registered; names the existing reference"})
    def register(principal, body):
        migrant = service.register(principal, body)
        return with_etag(migrant, 201, Location=f"{api.url_prefix}/migrants/{migrant['reference']}")

    @api.route("/migrants", "GET", roles=STAFF, query=SearchQuerySchema, response=page_schema(MigrantSchema),
               summary="Search by passport, NID, birth registration, phone or reference; without filters, newest first")
    def search(principal, query):
        return service.search(principal, _search_filters(query), query["limit"], query["cursor"])

    @api.route("/migrants/<reference>", "GET", roles=EVERYONE, response=MigrantSchema, response_headers=ETAG,
               summary="A migrant's record (a migrant sees only their own)")
    def get(principal, reference):
        return with_etag(service.get(principal, reference))

    @api.route("/migrants/<reference>", "PATCH", roles=REGISTRARS, body=MigrantUpdateSchema, response=MigrantSchema,
               response_headers=ETAG,
               summary="Change registration details; needs If-Match with the record's ETag",
               problems={409: "The new passport or NID belongs to another registration",
                         412: "If-Match is stale: the record changed since it was read",
                         428: "If-Match is missing"},
               headers={"If-Match": "the ETag of the record as read (GET answers it), e.g. \"3\""})
    def update(principal, reference, body):
        return with_etag(service.update(principal, reference, body, request.headers.get("If-Match")))

    @api.route("/migrants/<reference>/steps", "POST", roles=REGISTRARS, body=StepSchema, response=MigrantSchema,
               response_headers=ETAG,
               summary="Record a pre-departure step (BMET registration, fingerprint, training, medical, visa, clearance)")
    def record_step(principal, reference, body):
        return with_etag(service.record_step(principal, reference, body))

    @api.route("/migrants/<reference>/membership", "POST", roles=OFFICERS, body=MembershipSchema,
               response=MigrantSchema, response_headers=ETAG, summary="Activate WEWB membership")
    def activate_membership(principal, reference, body):
        return with_etag(service.activate_membership(principal, reference, body))

    @api.route("/migrants/<reference>/history", "GET", roles=EVERYONE, query=PageQuerySchema,
               response=page_schema(HistoryEntrySchema), summary="What happened to this registration, newest first")
    def history(principal, reference, query):
        return service.history(principal, reference, query["limit"], query["cursor"])

    # Public: only names, so pages read in Bangla name a district in Bangla.
    @api.route("/districts", "GET", roles=PUBLIC, response=DistrictListSchema,
               summary="The 64 districts as registration spells them, with their names in Bangla (public)")
    def districts(principal):
        return {"items": district_list()}

    return api


def create(settings: Settings | None = None, configure_logging: bool = True) -> Flask:
    settings = settings or Settings.from_env(bootstrap.SERVICE)
    service = bootstrap.build(settings)
    db = service.reads.collection.database
    return create_app(settings, make_api(service), title="Probashi registration",
                      description="The migrant registry: identity, contact, destination, recruiting agency, "
                                  "pre-departure steps and WEWB membership.",
                      readiness={"database": lambda: mongo.ping(db), "broker": broker_check(settings)},
                      configure_logging=configure_logging)
