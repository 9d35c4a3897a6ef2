"""The complaints service's stand-in for the portal's tests (tests/portal_stub.py registers it):
the due queue, a complaint with its ETag, the lifecycle steps with If-Match (428/412), the
scorecard, and the vault's content for evidence. Bodies are loaded with the service's own
schemas and changed by its own domain functions, so the answers and refusals (422, 409 with
`allowed`, 412) have the real shapes."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

from flask import Response, jsonify, request
from marshmallow import ValidationError

from services.complaints import awards, categories, domain, hearings, intake, referrals, schemas
from shared.errors import DomainError
from shared.events import to_json_safe
from shared.fields import today_in_bangladesh

LISTS = categories.load()
OPEN_ID, SECRET_ID = "CMP-2026-7KQ3M9XC", "CMP-2026-CONF1DNT"
EVIDENCE_ID = "DOC-PASSPORT-1"
PDF = b"%PDF-1.4\n% a stand-in document\n"
CARDS = [
    {"licence": "RL-0666", "complaints": 12, "open": 7, "resolved": 4, "withdrawn": 1, "median_days_to_close": 41.5,
     "amount_claimed": 2400000, "amount_awarded": 900000, "amount_paid": 300000, "awards": 3,
     "awards_unpaid_past_deadline": 2, "workers_sent": 800, "complaints_per_1000_workers": 15.0,
     "by_category": {"recruitment_fraud": 8, "no_job_on_arrival": 3, "passport_withheld": 1}},
    {"licence": "RL-1234", "complaints": 3, "open": 1, "resolved": 2, "withdrawn": 0, "median_days_to_close": None,
     "amount_claimed": 150000, "amount_awarded": 0, "amount_paid": 0, "awards": 0,
     "awards_unpaid_past_deadline": 0, "workers_sent": 0, "complaints_per_1000_workers": None,
     "by_category": {"unpaid_wages": 3}},
]
# The vault as the complaints service knows it (documents' events): the complainant's and another's.
DOCUMENTS = {EVIDENCE_ID: {"_id": EVIDENCE_ID, "owner": "PB-FXMK-RPFE", "doc_type": "passport"},
             "DOC-BMET-CARD": {"_id": "DOC-BMET-CARD", "owner": "PB-FXMK-RPFE", "doc_type": "bmet_smart_card"},
             "DOC-SOMEONE-ELSE": {"_id": "DOC-SOMEONE-ELSE", "owner": "PB-AAAA-BBBB", "doc_type": "passport"}}
# The steps and what each calls: (schema or None, domain change(complaint, body, actor, now, today)).
STEPS = {
    "scrutiny": (None, lambda c, b, a, now, today: domain.start_scrutiny(c, actor=a, now=now)),
    "acknowledgement": (schemas.AcknowledgementSchema, lambda c, b, a, now, today: domain.acknowledge(
        c, committee=b["committee"], actor=a, now=now)),
    "notice": (None, lambda c, b, a, now, today: domain.send_notice(c, actor=a, now=now)),
    "assignment": (schemas.AssignmentSchema, lambda c, b, a, now, today: domain.assign(
        c, staff=b["assignee"], actor=a, now=now)),
    "hearings": (schemas.HearingSchema, lambda c, b, a, now, today: hearings.schedule(
        c, on=b["date"], venue=b["venue"], parties=b["parties"], actor=a, now=now, today=today,
        over_cap_reason=b.get("over_cap_reason"))),
    "hearings/held": (schemas.HearingHeldSchema, lambda c, b, a, now, today: hearings.hold(
        c, attendance=b["attendance"], minutes=b["minutes"], actor=a, now=now)),
    "hearings/adjournment": (schemas.AdjournmentSchema, lambda c, b, a, now, today: hearings.adjourn(
        c, next_date=b["next_date"], reason=b["reason"], actor=a, now=now, today=today,
        over_cap_reason=b.get("over_cap_reason"))),
    "referrals": (schemas.referral_schema(LISTS), lambda c, b, a, now, today: referrals.refer(
        c, body=b["body"], note=b["note"], target_days=30, lists=LISTS, actor=a, now=now)),
    "outcome": (schemas.OutcomeSchema, lambda c, b, a, now, today: awards.decide(
        c, kind=b["kind"], amount=b["amount"], payment_deadline=b["payment_deadline"],
        instalments=b.get("instalments"), terms=b.get("terms"), actor=a, now=now, today=today)),
    "dismissal": (schemas.ReasonSchema, lambda c, b, a, now, today: domain.dismiss(
        c, reason=b["reason"], actor=a, now=now)),
    "compliance-monitoring": (None, lambda c, b, a, now, today: awards.start_monitoring(c, actor=a, now=now)),
    "payments": (schemas.PaymentSchema, lambda c, b, a, now, today: awards.record_payment(
        c, amount=b["amount"], paid_on=b["paid_on"], reference=b.get("reference"), actor=a, now=now, today=today)),
    "withdrawal": (schemas.ReasonSchema, lambda c, b, a, now, today: domain.withdraw(
        c, reason=b["reason"], actor=a, now=now)),
    "non-compliance": (None, lambda c, b, a, now, today: awards.mark_not_complied(c, actor=a, now=now, today=today)),
    "enforcement": (schemas.EnforcementSchema, lambda c, b, a, now, today: awards.enforce(
        c, action=b["action"], note=b["note"], actor=a, now=now)),
    "evidence": (schemas.EvidenceSchema, lambda c, b, a, now, today: domain.attach_evidence(
        c, DOCUMENTS.get(b["document_id"]), actor=a, now=now)),
    "closure": (schemas.NoteSchema, lambda c, b, a, now, today: domain.close(
        c, note=b.get("note"), actor=a, now=now)),
}


def new_complaint(complaint_id: str, restricted: bool = False, assignee: str | None = None) -> dict:
    now = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)
    body = {"complainant": {"migrant_reference": "PB-FXMK-RPFE", "name": "Rahim Uddin <b>", "phone": "01712345678"},
            "channel": "udc", "category": "recruitment_fraud", "amount_claimed": 350000, "district": "Cumilla",
            "respondents": [{"kind": "recruiting_agency", "name": "Quick Visa Ltd", "licence": "RL-0666"}],
            "narrative": "The agency took Tk 350,000 and the visa was false.", "restricted": restricted}
    loaded = schemas.intake_schema(LISTS)().load(body)
    complaint = intake.new_complaint(loaded, complaint_id=complaint_id, receipt_number="CP-7KQ3-M9XC", lists=LISTS,
                                     actor={"user": "udc-1", "role": "udc_operator"}, now=now)
    complaint.pop("_id")
    return {**complaint, "assignee": assignee, "evidence": [{"document_id": EVIDENCE_ID, "doc_type": "passport",
                                                             "by": "udc-1", "at": now}],
            "target_days": {"scrutiny": 7, "acknowledgement": 15, "disposal": 90}, "linked_claims": [],
            "due_order": datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc), "overdue_stages": ["scrutiny"]}


def shown(complaint: dict) -> dict:
    return to_json_safe(complaint)


def add_routes(app, stub, problem) -> None:
    """`stub.complaints` holds the complaints by id; `stub.reset_complaints()` starts them again."""

    def reset():
        stub.complaints = {OPEN_ID: new_complaint(OPEN_ID),
                           SECRET_ID: new_complaint(SECRET_ID, restricted=True, assignee="another.officer")}
    stub.reset_complaints = reset
    reset()

    def staff():
        who = stub.who()
        if who is None:
            return None, problem(401, "unauthorized", "A token is needed.")
        if who.get("role") not in ("legal_aid", "admin", "welfare_officer", "udc_operator"):
            return None, problem(403, "forbidden", "Staff only.")
        return who, None

    def visible(complaint_id: str, who: dict):
        complaint = stub.complaints.get(complaint_id)
        if complaint is None or not domain.visible_to(complaint, {"role": who["role"], "user": who.get("sub")}):
            return None
        return complaint

    @app.get("/api/v1/queue")
    def queue():
        who, refused = staff()
        if refused:
            return refused
        args = request.args
        if args.get("agency_licence") and not args["agency_licence"].upper().startswith("RL-"):
            return problem(422, "validation", "Some fields are not valid; see errors.",
                           {"agency_licence": ["Not a licence."]})
        items = [c for c in stub.complaints.values() if domain.visible_to(c, {"role": who["role"], "user": who.get("sub")})
                 and all(c.get(k) == args[k] for k in ("status", "category", "district") if args.get(k))]
        if args.get("cursor") == "page-2":
            items = []
        return {"items": [shown(c) for c in items], "next_cursor": "page-2" if items and not args.get("cursor") else None}

    @app.get("/api/v1/complaints/<complaint_id>")
    def get_complaint(complaint_id):
        who, refused = staff()
        if refused:
            return refused
        complaint = visible(complaint_id, who)
        if complaint is None:
            return problem(404, "not-found", f"No complaint {complaint_id}.")
        response = jsonify(shown(complaint))
        response.headers["ETag"] = f'"{complaint["version"]}"'
        return response

    def step(complaint_id, rule, change):
        who, refused = staff()
        if refused:
            return refused
        if who["role"] not in ("legal_aid", "admin"):
            return problem(403, "forbidden", "Legal aid staff and admins only.")
        complaint = visible(complaint_id, who)
        if complaint is None:
            return problem(404, "not-found", f"No complaint {complaint_id}.")
        if_match = request.headers.get("If-Match")
        if not if_match:
            return problem(428, "if-match-required", "Send If-Match.")
        if if_match != f'"{complaint["version"]}"':
            return problem(412, "stale-version", "The complaint changed since it was read.")
        try:
            changed = change(copy.deepcopy(complaint), {"role": who["role"], "user": who["sub"]})
        except ValidationError as exc:
            return problem(422, "validation", "Some fields are not valid; see errors.", exc.messages)
        except DomainError as exc:
            body = {"type": f"urn:probashi:problem:{exc.slug}", "title": exc.title, "status": exc.status,
                    "detail": exc.detail, **to_json_safe(exc.extra)}
            if getattr(exc, "errors", None):
                body["errors"] = exc.errors
            response = jsonify(body)
            response.status_code, response.mimetype = exc.status, "application/problem+json"
            return response
        stub.complaints[complaint_id] = changed
        stub.steps.append((complaint_id, rule, request.get_json(silent=True)))
        response = jsonify(shown(changed))
        response.headers["ETag"] = f'"{changed["version"]}"'
        return response

    @app.post("/api/v1/complaints/<complaint_id>/<path:rule>")
    def take_step(complaint_id, rule):
        if rule.startswith("referrals/"):
            number = rule.removeprefix("referrals/")
            body = lambda: schemas.ReferralUpdateSchema().load(request.get_json() or {})  # noqa: E731
            return step(complaint_id, rule, lambda c, a: referrals.update(
                c, referral_no=int(number), to=body()["state"], note=body().get("note"), actor=a,
                now=datetime.now(timezone.utc)))
        if rule not in STEPS:
            return problem(404, "not-found", "No such step.")
        schema, change = STEPS[rule]

        def run(c, actor):
            body = schema().load(request.get_json() or {}) if schema else {}
            return change(c, body, actor, datetime.now(timezone.utc), today_in_bangladesh())
        return step(complaint_id, rule, run)

    @app.get("/api/v1/agencies/scorecard")
    def scorecards():
        who, refused = staff()
        if refused:
            return refused
        rank_by = request.args.get("rank_by", "complaints")
        ordered = sorted(CARDS, key=lambda c: (c.get(rank_by) is not None, c.get(rank_by) or 0),
                         reverse=request.args.get("order", "desc") == "desc")
        return {"rank_by": rank_by, "order": request.args.get("order", "desc"), "as_of": "2026-11-28",
                "items": ordered, "next_cursor": None}

    @app.get("/api/v1/agencies/<licence>/scorecard")
    def scorecard(licence):
        who, refused = staff()
        if refused:
            return refused
        for card in CARDS:
            if card["licence"] == licence.upper():
                return {**card, "as_of": "2026-11-28"}
        return problem(404, "not-found", "No complaint or worker is known for that agency.")


def evidence_content(stub, problem, document_id: str):
    """Documents' content of the evidence the complaints stand-in holds, for staff; None for
    another document (the documents stand-in answers for those)."""
    if document_id != EVIDENCE_ID:
        return None
    who = stub.who()
    if who is None:
        return problem(401, "unauthorized", "A token is needed.")
    if who.get("role") not in ("legal_aid", "admin", "welfare_officer", "udc_operator"):
        return problem(403, "forbidden", "Staff only.")
    return Response(PDF, mimetype="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="passport.pdf"'})
