"""HTTP entry point of the complaints service: thin, everything else is the service layer."""
from __future__ import annotations

from flask import Flask, request

from shared import mongo
from shared.auth import STAFF
from shared.config import Settings
from shared.http.api import PUBLIC, Api
from shared.http.app import broker_check, create_app
from shared.http.steps import StepRoutes, with_etag
from shared.pagination import PageQuerySchema

from . import bootstrap, intake, scorecard, scorecard_api
from .config import ComplaintsConfig
from .schemas import (ETAG, AcknowledgementSchema, AdjournmentSchema, AssignmentSchema, CategoryListSchema,
                      ComplaintPageSchema, ComplaintSchema, DueQueueQuerySchema, EnforcementSchema, EvidenceSchema, HearingHeldSchema,
                      HearingSchema, HistoryPageSchema, LinkedClaimSchema, ListQuerySchema, NoteSchema, OutcomeSchema,
                      PaymentSchema, ReasonSchema, ReferralUpdateSchema, intake_schema, referral_schema)
from .service import ComplaintsService

FILERS = frozenset(intake.FILING_ROLES)
# Who reads complaints: staff, a migrant their own, a family member the complaints their
# token names (the service answers 404 for the rest); a family member does nothing else here.
READERS = frozenset({"migrant", "family", *STAFF})
LEGAL_AID = frozenset({"legal_aid", "admin"})
COMPLAINANT_OR_LEGAL_AID = frozenset({"migrant", *LEGAL_AID})


def make_api(service: ComplaintsService) -> Api:
    api = Api("complaints")

    @api.route("/complaints", "POST", roles=FILERS, body=intake_schema(service.lists), response=ComplaintSchema,
               status=201, response_headers={**ETAG, "Location": "the new complaint's URL"},
               summary="File a complaint against a recruiting agency, sub-agent or employer (the migrant or "
                       "family, a UDC operator on their behalf, legal aid staff, a welfare officer); the receipt "
                       "number is in the answer")
    def file_complaint(principal, body):
        complaint = service.file(principal, body)
        return with_etag(complaint, 201, Location=f"{api.url_prefix}/complaints/{complaint['complaint_id']}")

    # Public: names only; the web portal's complaint form offers them in Bangla and English.
    @api.route("/complaint-categories", "GET", roles=PUBLIC, response=CategoryListSchema,
               summary="What a complaint may be about, with the names in English and Bangla (public)")
    def complaint_categories(principal):
        return {"items": [{"code": c.code, "name_en": c.name_en, "name_bn": c.name_bn}
                          for c in service.lists.categories.values()]}

    @api.route("/complaints", "GET", roles=READERS, query=ListQuerySchema, response=ComplaintPageSchema,
               summary="Complaints, newest first: filter by status, category, district, assignee, agency licence, "
                       "sub-agent phone, migrant or receipt number (a migrant sees their own, a family member "
                       "those their sign-in names; restricted ones only their assignee and admins; staff's queue "
                       "by due date is GET /queue)")
    def list_complaints(principal, query):
        filters = {k: query.get(k) for k in ("status", "category", "district", "assignee", "agency_licence",
                                             "sub_agent_phone", "migrant_reference", "receipt_number")}
        return service.search(principal, filters, query["limit"], query["cursor"])

    @api.route("/complaints/<complaint_id>", "GET", roles=READERS, response=ComplaintSchema, response_headers=ETAG,
               summary="A complaint (staff reads are audited)")
    def get_complaint(principal, complaint_id):
        return with_etag(service.get(principal, complaint_id))

    @api.route("/complaints/<complaint_id>/history", "GET", roles=READERS, query=PageQuerySchema,
               response=HistoryPageSchema, summary="What happened to this complaint, newest first")
    def complaint_history(principal, complaint_id, query):
        return service.history(principal, complaint_id, query["limit"], query["cursor"])

    @api.route("/complaints/<complaint_id>/related", "GET", roles=READERS, query=PageQuerySchema,
               response=ComplaintPageSchema,
               summary="Other complaints naming any of this one's agency licences or sub-agent phones (one fraud, "
                       "many victims), newest first, as far as you may see them")
    def related_complaints(principal, complaint_id, query):
        return service.related(principal, complaint_id, query["limit"], query["cursor"])

    @api.route("/queue", "GET", roles=STAFF, query=DueQueueQuerySchema, response=ComplaintPageSchema,
               summary="Staff's queue by due date (then complaint number; nothing due last): filter by status, "
                       "category, district, assignee, agency licence, overdue")
    def due_queue(principal, query):
        filters = {"status": query.get("status"), "category": query.get("category"),
                   "district": query.get("district"), "assignee": query.get("assignee"),
                   "agency_licences": query.get("agency_licence")}
        return service.due_queue(principal, filters, query.get("overdue"), query["limit"], query["cursor"])

    # A lifecycle step: legal aid staff and admins, If-Match required, answers the complaint and its ETag.
    steps = StepRoutes(api, "complaints", "complaint_id", "complaint", roles=LEGAL_AID, response=ComplaintSchema,
                       response_headers=ETAG)
    step = steps.step

    @step("scrutiny", "start_scrutiny", "Start scrutiny of a received complaint")
    def _scrutiny(principal, complaint_id, if_match):
        return service.start_scrutiny(principal, complaint_id, if_match)

    @step("acknowledgement", "acknowledge", "Scrutiny passed: acknowledge, naming the investigation committee",
          AcknowledgementSchema)
    def _acknowledge(principal, complaint_id, if_match, body):
        return service.acknowledge(principal, complaint_id, body, if_match)

    @step("notice", "send_notice", "Send the notice to the respondent")
    def _notice(principal, complaint_id, if_match):
        return service.send_notice(principal, complaint_id, if_match)

    @step("assignment", "assign", "Assign the complaint to a legal aid staff member", AssignmentSchema)
    def _assign(principal, complaint_id, if_match, body):
        return service.assign(principal, complaint_id, body, if_match)

    @step("evidence", "attach_evidence", "Attach a vault document of the complainant migrant as evidence (the "
          "vault holds it until the complaint closes)", EvidenceSchema,
          {422: "The document is not the complainant migrant's"})
    def _evidence(principal, complaint_id, if_match, body):
        return service.attach_evidence(principal, complaint_id, body, if_match)

    @step("linked-claims", "link_claim", "Link a welfare claim of the same migrant", LinkedClaimSchema,
          {422: "The claim is unknown or another migrant's"})
    def _link(principal, complaint_id, if_match, body):
        return service.link_claim(principal, complaint_id, body, if_match)

    @step("hearings", "schedule_hearing", "Schedule a hearing (a notice to each party); past the configured cap "
          "it needs over_cap_reason", HearingSchema, {409: "Not a step the status allows, a hearing is still "
                                                           "scheduled, or the cap is reached without a reason"})
    def _hearing(principal, complaint_id, if_match, body):
        return service.schedule_hearing(principal, complaint_id, body, if_match)

    @step("hearings/held", "hold_hearing", "The scheduled hearing was held: attendance and minutes",
          HearingHeldSchema)
    def _held(principal, complaint_id, if_match, body):
        return service.hold_hearing(principal, complaint_id, body, if_match)

    @step("hearings/adjournment", "adjourn_hearing", "Adjourn the scheduled hearing to a next date (the next "
          "hearing, counted against the cap)", AdjournmentSchema)
    def _adjourn(principal, complaint_id, if_match, body):
        return service.adjourn_hearing(principal, complaint_id, body, if_match)

    @step("referrals", "refer", "Refer the complaint to another body (its own due date)",
          referral_schema(service.lists))
    def _refer(principal, complaint_id, if_match, body):
        return service.refer(principal, complaint_id, body, if_match)

    @api.route("/complaints/<complaint_id>/referrals/<referral_no>", "POST", roles=LEGAL_AID,
               body=ReferralUpdateSchema, response=ComplaintSchema, response_headers=ETAG, headers=steps.if_match,
               problems=steps.problems, summary="A referral was accepted, declined or completed by the body; "
                                               "needs If-Match")
    def update_referral(principal, complaint_id, referral_no, body):
        return with_etag(service.update_referral(principal, complaint_id, referral_no, body,
                                                 request.headers.get("If-Match")))

    @step("outcome", "decide", "Settled or award issued, after a hearing: amount, payment deadline, instalments, "
          "terms", OutcomeSchema)
    def _outcome(principal, complaint_id, if_match, body):
        return service.decide(principal, complaint_id, body, if_match)

    @step("dismissal", "dismiss", "Dismiss the complaint after a hearing, with the reason", ReasonSchema)
    def _dismiss(principal, complaint_id, if_match, body):
        return service.dismiss(principal, complaint_id, body, if_match)

    @step("compliance-monitoring", "start_monitoring", "Follow the settlement or award until it is paid")
    def _monitor(principal, complaint_id, if_match):
        return service.start_monitoring(principal, complaint_id, if_match)

    @step("payments", "record_payment", "A payment received against the settlement or award (complied when the "
          "whole is paid)", PaymentSchema, {409: "Not a step the status allows, or more than is still owed"})
    def _pay(principal, complaint_id, if_match, body):
        return service.record_payment(principal, complaint_id, body, if_match)

    @step("non-compliance", "mark_not_complied", "Not complied: the payment deadline passed with money owed",
          problems={409: "Not a step the status allows, or the deadline has not passed"})
    def _not_complied(principal, complaint_id, if_match):
        return service.mark_not_complied(principal, complaint_id, if_match)

    @step("enforcement", "enforce", "Recommend enforcement: suspend the agency's licence or draw on its security "
          "deposit", EnforcementSchema)
    def _enforce(principal, complaint_id, if_match, body):
        return service.enforce(principal, complaint_id, body, if_match)

    @step("closure", "close", "Close the complaint (lifts the legal hold on its evidence)", NoteSchema)
    def _close(principal, complaint_id, if_match, body):
        return service.close(principal, complaint_id, body, if_match)

    @step("reopening", "reopen", "Reopen a closed complaint within the configured window, with the reason",
          ReasonSchema, {409: "Not closed, or closed longer ago than the window"})
    def _reopen(principal, complaint_id, if_match, body):
        return service.reopen(principal, complaint_id, body, if_match)

    @step("withdrawal", "withdraw", "Withdraw the complaint (the complainant, or staff on their word)", ReasonSchema,
          roles=COMPLAINANT_OR_LEGAL_AID)
    def _withdraw(principal, complaint_id, if_match, body):
        return service.withdraw(principal, complaint_id, body, if_match)

    # The recruiting-agency scorecard (scorecard.py, its routes in scorecard_api.py); `today`
    # is looked up per request, so a test that sets the service's clock moves it too. An API
    # built on the lists alone (the OpenAPI document's tests) has no database to read.
    reads = getattr(service, "reads", None)
    scorecard_api.add_routes(api, scorecard.ScorecardReads(reads.db if reads else None),
                             getattr(service, "audit", None), today=lambda: service.today())
    return api


def create(settings: Settings | None = None, configure_logging: bool = True,
           config: ComplaintsConfig | None = None, service: ComplaintsService | None = None) -> Flask:
    """`service`: one built already (tests set its clock); by default bootstrap builds it."""
    settings = settings or Settings.from_env(bootstrap.SERVICE)
    service = service or bootstrap.build(settings, config)
    db = service.reads.db
    return create_app(settings, make_api(service), title="Probashi complaints",
                      description="Complaints against recruiting agencies, from intake with a receipt number to "
                                  "hearings, settlement or award, and the award followed until it is paid or "
                                  "enforced; confidential complaints seen only by whom they must be.",
                      readiness={"database": lambda: mongo.ping(db), "broker": broker_check(settings)},
                      configure_logging=configure_logging)
