"""HTTP entry point of the claims service: thin, everything else is the service layer."""
from __future__ import annotations

from flask import Flask, Response, request

from shared import mongo
from shared.auth import STAFF
from shared.config import Settings
from shared.http.api import Api, Reply
from shared.http.app import broker_check, create_app
from shared.http.steps import StepRoutes, with_etag
from shared.pagination import PageQuerySchema

from . import bootstrap, catalogue_api, report_schemas, reports
from .config import ClaimsConfig
from .schemas import (ETAG, ApprovalSchema, AssignmentSchema, ClaimPageSchema, ClaimSchema,
                      HistoryPageSchema, InfoRequestSchema, NoteSchema, PaymentSchema, QueueQuerySchema,
                      RejectionSchema, RequiredNoteSchema, WithdrawalSchema, filing_schema)
from .schemas import DueQueueQuerySchema, NewNoteSchema
from .service import ClaimsService

FILERS = frozenset({"migrant", "udc_operator", "welfare_officer", "admin"})
# Who reads claims: staff, a migrant their own, a family member the claims their token
# names (the service answers 404 for the rest); a family member does nothing else here.
READERS = frozenset({"migrant", "family", *STAFF})
OFFICERS = frozenset({"welfare_officer", "admin"})


def make_api(service: ClaimsService) -> Api:
    api = Api("claims")

    # The catalogue's versions (catalogue_api); the document states the catalogue in force at start.
    stored = getattr(service, "catalogues", None) is not None
    if stored:
        catalogue_api.add_routes(api, service.catalogues)
    filing = filing_schema(service.catalogue_in_force() if stored else service.catalogue,
                           service.catalogue_in_force if stored else None)

    @api.route("/claims", "POST", roles=FILERS, body=filing, response=ClaimSchema,
               status=201, response_headers={**ETAG, "Location": "the new claim's URL"},
               summary="File a claim (staff; a UDC operator on someone's behalf; a migrant their own medical aid)",
               problems={409: "This claim's type allows one per worker (child, exam ...): names the existing claim"})
    def file_claim(principal, body):
        claim = service.file(principal, body)
        return with_etag(claim, 201, Location=f"{api.url_prefix}/claims/{claim['claim_id']}")

    @api.route("/claims", "GET", roles=READERS, query=QueueQuerySchema, response=ClaimPageSchema,
               summary="Claims, newest first: filter by status, type, district, assignee or migrant (a migrant "
                       "sees their own, a family member the claims their sign-in names; the officers' queue by "
                       "due date is GET /queue)")
    def queue(principal, query):
        filters = {k: query.get(k) for k in ("status", "type", "district", "assignee", "migrant_reference")}
        return service.search(principal, filters, query["limit"], query["cursor"])

    @api.route("/claims/<claim_id>", "GET", roles=READERS, response=ClaimSchema, response_headers=ETAG,
               summary="A claim with its eligibility and checklist (staff reads are audited)")
    def get_claim(principal, claim_id):
        return with_etag(service.get(principal, claim_id))

    @api.route("/claims/<claim_id>/history", "GET", roles=READERS, query=PageQuerySchema,
               response=HistoryPageSchema, summary="What happened to this claim, newest first")
    def claim_history(principal, claim_id, query):
        return service.history(principal, claim_id, query["limit"], query["cursor"])

    # A lifecycle step: officers only, If-Match required, answers the claim and its ETag.
    step = StepRoutes(api, "claims", "claim_id", "claim", roles=OFFICERS, response=ClaimSchema,
                      response_headers=ETAG).step

    @step("information-requests", "request_information", "Ask the family or the mission for information "
          "(the claim waits)", InfoRequestSchema)
    def _info(principal, claim_id, if_match, body):
        return service.request_information(principal, claim_id, body, if_match)

    @step("information-received", "information_received", "The information came: back to where the claim was",
          NoteSchema)
    def _received(principal, claim_id, if_match, body):
        return service.information_received(principal, claim_id, body, if_match)

    @step("approval", "approve", "Approve (above the second-approval amount: recommend; another officer "
          "approves)", ApprovalSchema, {403: "You recommended this amount; another officer approves it"})
    def _approve(principal, claim_id, if_match, body):
        return service.approve(principal, claim_id, body, if_match)

    @step("rejection", "reject", "Reject, with a reason code and the reason in English and Bangla", RejectionSchema)
    def _reject(principal, claim_id, if_match, body):
        return service.reject(principal, claim_id, body, if_match)

    @step("review-requests", "request_review", "Ask for the rejection to be reviewed", RequiredNoteSchema)
    def _review(principal, claim_id, if_match, body):
        return service.request_review(principal, claim_id, body, if_match)

    @step("payment-order", "order_payment", "Order payment of the approved amount")
    def _order(principal, claim_id, if_match):
        return service.order_payment(principal, claim_id, if_match)

    @step("payments", "record_payment", "Record a disbursement (per heir for a death grant); paid when the whole "
          "approved amount is", PaymentSchema)
    def _pay(principal, claim_id, if_match, body):
        return service.record_payment(principal, claim_id, body, if_match)

    @step("closure", "close", "Close the claim (lifts the documents' legal hold)", NoteSchema)
    def _close(principal, claim_id, if_match, body):
        return service.close(principal, claim_id, body, if_match)

    @step("withdrawal", "withdraw", "Withdraw the claim (it can be filed again)", WithdrawalSchema)
    def _withdraw(principal, claim_id, if_match, body):
        return service.withdraw(principal, claim_id, body, if_match)

    @step("assignment", "assign", "Assign the claim to an officer", AssignmentSchema)
    def _assign(principal, claim_id, if_match, body):
        return service.assign(principal, claim_id, body, if_match)

    # -- stage clocks and notes (clocks.py) ---------------------------------------------
    @api.route("/queue", "GET", roles=STAFF, query=DueQueueQuerySchema, response=ClaimPageSchema,
               summary="Officers' queue by due date (then claim number; nothing due last): filter by status, "
                       "type, district, assignee, overdue")
    def due_queue(principal, query):
        filters = {k: query.get(k) for k in ("status", "type", "district", "assignee")}
        return service.due_queue(principal, filters, query.get("overdue"), query["limit"], query["cursor"])

    @api.route("/claims/<claim_id>/notes", "POST", roles=OFFICERS, body=NewNoteSchema, response=ClaimSchema,
               status=201, response_headers=ETAG, summary="Add a note to the claim (no If-Match: notes only add)")
    def add_note(principal, claim_id, body):
        return with_etag(service.add_note(principal, claim_id, body), 201)

    @api.route("/claim-reports", "GET", roles=OFFICERS, query=report_schemas.ReportQuerySchema,
               response=report_schemas.ReportSchema, response_doc=report_schemas.REPORT_DOC,
               response_headers={"Vary": "Accept: the format follows it when `format` is not given"},
               summary="Claims filed, decided and paid, amounts approved and paid, median days to decision and to "
                       "payment, by type, district, destination country and month (every report is audited)")
    def claim_report(principal, query):
        form = query.get("format") or ("csv" if request.accept_mimetypes.best_match(
            ["application/json", "text/csv"], "application/json") == "text/csv" else "json")
        group_by = report_schemas.group_by(query["group_by"])
        report = reports.ClaimReports.of(service).report(principal, query, group_by, form)
        if form == "json":
            return Reply(report, 200, {"Vary": "Accept"})
        name = f"claims-report-{report['since']}-{report['until']}.csv"
        return Reply(Response(reports.to_csv(report, group_by), mimetype="text/csv"), 200,
                     {"Vary": "Accept", "Content-Disposition": f'attachment; filename="{name}"'})

    return api


def create(settings: Settings | None = None, configure_logging: bool = True,
           config: ClaimsConfig | None = None) -> Flask:
    settings = settings or Settings.from_env(bootstrap.SERVICE)
    service = bootstrap.build(settings, config)
    db = service.reads.db
    return create_app(settings, make_api(service), title="Probashi claims",
                      description="Welfare claims to the Wage Earners' Welfare Board, from filing to payment: "
                                  "eligibility, a checklist that fills itself from the documents vault, decisions "
                                  "and payments, never paid twice.",
                      readiness={"database": lambda: mongo.ping(db), "broker": broker_check(settings)},
                      configure_logging=configure_logging)
