"""HTTP entry point of the case-status service: thin, everything else is the service layer."""
from __future__ import annotations

from flask import Flask

from shared import mongo
from shared.auth import STAFF
from shared.config import Settings
from shared.http.api import Api
from shared.http.app import broker_check, create_app

from . import bootstrap, notifications_api
from .schemas import CaseTimelineSchema, MigrantTimelineSchema, TimelineQuerySchema
from .service import CaseStatusService

# A migrant reads their own timeline, staff any (audited); a family member their case's.
MIGRANT_READERS = frozenset({"migrant", *STAFF})
CASE_READERS = frozenset({"migrant", "family", *STAFF})
NEWEST_FIRST = ("newest first: the first page is where the case stands now; a late event takes its place in the "
                "past instead of the top")


def make_api(service: CaseStatusService) -> Api:
    api = Api("casestatus")

    @api.route("/migrants/<reference>/timeline", "GET", roles=MIGRANT_READERS, query=TimelineQuerySchema,
               response=MigrantTimelineSchema,
               summary=f"A migrant's timeline across registration, documents, claims and complaints ({NEWEST_FIRST}), "
                       "with what happens next in each open case (a migrant their own; staff any, audited; "
                       "restricted complaints only their assignee and admins)")
    def migrant_timeline(principal, reference, query):
        return service.migrant_timeline(principal, reference, query["lang"], query["limit"], query["cursor"])

    @api.route("/cases/<case_id>/timeline", "GET", roles=CASE_READERS, query=TimelineQuerySchema,
               response=CaseTimelineSchema,
               summary=f"A claim's or complaint's timeline ({NEWEST_FIRST}) and what happens next (the migrant; "
                       "family signed in for the case; staff, audited)")
    def case_timeline(principal, case_id, query):
        return service.case_timeline(principal, case_id, query["lang"], query["limit"], query["cursor"])

    notifications_api.register(api, lambda: notifications_api.for_case_status(service))
    return api


def create(settings: Settings | None = None, configure_logging: bool = True,
           service: CaseStatusService | None = None) -> Flask:
    """`service`: one built already (tests set its clock); by default bootstrap builds it."""
    settings = settings or Settings.from_env(bootstrap.SERVICE)
    service = service or bootstrap.build(settings)
    db = service.reads.db
    app = create_app(settings, make_api(service), title="Probashi case status",
                     description="One timeline per migrant and per case across registration, documents, claims and "
                                 "complaints, in Bangla and English, with what happens next; fed only by the other "
                                 "services' events.",
                     readiness={"database": lambda: mongo.ping(db), "broker": broker_check(settings)},
                     configure_logging=configure_logging)
    app.config["CASESTATUS_SERVICE"] = service
    return app
