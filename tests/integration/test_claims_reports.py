"""Claims reports against the real database: a handful of claims filed, decided and paid
through the API on a clock the test sets, and the report's figures checked exactly, as JSON
and as CSV; staff only, every report audited; the filters' 422s; an index behind each read."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from services.claims import bootstrap, reports
from services.claims.api import make_api
from services.claims.config import ClaimsConfig
from services.claims.bootstrap import unit_of_work
from shared import mongo
from shared.fields import BANGLADESH_TIME
from shared.http.app import create_app

from tests.integration.test_claims_api import (OTHER, OVERRIDE, REF, THRESHOLD, Desk, death_grant, document_event,
                                               heir, registration_event)

pytestmark = pytest.mark.integration

THIRD, EARLIER = "PB-WXYZ-2345", "PB-QRST-6789"
FORMULA = '=HYPERLINK("http://example.com/x")'
START = datetime(2026, 10, 5, 4, 0, tzinfo=timezone.utc)  # 10:00 in Dhaka
RANGE = "from=2026-10-01&to=2026-11-30"


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def at(self, days: float) -> None:
        self.now = START + timedelta(days=days)


@pytest.fixture
def office(infra):
    """The claims API on a clock the test moves, with four migrants it knows."""
    settings = infra.settings("claims")
    service = bootstrap.build(settings, ClaimsConfig(second_approval_above=THRESHOLD))
    clock = Clock(START)
    service.clock = lambda: clock.now
    service.today = lambda: clock.now.astimezone(BANGLADESH_TIME).date()
    app = create_app(settings, make_api(service), title="claims", description="d", readiness={},
                     configure_logging=False)
    desk = Desk(app, settings, mongo.database(settings), unit_of_work(settings))
    for n, (reference, country) in enumerate(((REF, "MY"), (OTHER, "QA"), (THIRD, None), (EARLIER, "SA"))):
        desk.apply(registration_event("registered", reference, 1, name_en="Rahim Uddin", name_bn="রহিম উদ্দিন",
                                      phone=f"+88017123456{n}9", registered_by={"user": "op", "role": "admin"},
                                      **({"destination_country": country} if country else {})))
    desk.clock = clock
    return desk


def verify(desk, owner, *doc_types):
    for doc_type in doc_types:
        document_id = f"DOC-{owner}-{doc_type}"
        desk.apply(document_event("uploaded", document_id, doc_type, owner))
        desk.apply(document_event("verified", document_id, doc_type, owner, version=2, reason=None))


def ok(answer, status="under_review"):
    assert answer.status_code in (200, 201), answer.json
    assert status is None or answer.json["status"] == status, answer.json
    return answer.json


def a_handful_of_claims(desk) -> dict:
    """A: a death grant in SA, approved by two officers on day 4, paid in full on day 12.
    B: a burial grant in AE, approved on day 7 (6 days after filing), half paid.
    C: medical aid in November (destination MY from registration), rejected 3 days after filing.
    D: medical aid of a migrant whose destination is not known, withdrawn.
    E: legal aid filed in September, outside the range."""
    clock = desk.clock
    clock.at(-15)
    e = ok(desk.file({"type": "legal_aid", "migrant_reference": EARLIER, "district": "Cumilla",
                      "event": {"country": "SA"}}), "documents_pending")
    clock.at(0)
    verify(desk, REF, "death_certificate", "passport_copy", "heirship_certificate", "medical_report",
           "emigration_clearance")
    a = ok(desk.file(death_grant()))
    clock.at(2)
    ok(desk.step(a["claim_id"], "approval", OVERRIDE), "recommended")
    clock.at(4)
    ok(desk.step(a["claim_id"], "approval", {}, user="officer-2"), "approved")
    ok(desk.step(a["claim_id"], "payment-order"), "payment_ordered")
    clock.at(10)
    pay = {"amount": 150000, "method": "bank", "account": "0001231", "reference": "BEFTN-A1", "heir_id": 1}
    ok(desk.step(a["claim_id"], "payments", pay), "payment_ordered")
    clock.at(12)
    ok(desk.step(a["claim_id"], "payments", {**pay, "reference": "BEFTN-A2", "heir_id": 2}), "paid")
    clock.at(20)
    ok(desk.step(a["claim_id"], "closure", {}), "closed")

    clock.at(1)
    verify(desk, OTHER, "death_certificate", "heirship_certificate", "nid_copy", "authorisation_letter")
    b = ok(desk.file({"type": "burial_transport", "migrant_reference": OTHER, "district": "Sylhet",
                      "event": {"date": "2026-10-01", "country": "AE"}, "heirs": [heir(1, 1, 2), heir(2, 1, 2)]}))
    clock.at(7)
    ok(desk.step(b["claim_id"], "approval", {}), "approved")
    ok(desk.step(b["claim_id"], "payment-order"), "payment_ordered")
    ok(desk.step(b["claim_id"], "payments", {**pay, "amount": 17500, "reference": "BEFTN-B1"}), "payment_ordered")

    clock.at(28)  # 2 November
    c = ok(desk.file({"type": "medical_aid", "migrant_reference": REF, "district": "Cumilla",
                      "event": {"date": "2026-10-20", "requested_amount": 50000}}))
    clock.at(31)
    ok(desk.step(c["claim_id"], "rejection", {"reason_code": "not_member", "reason_en": "Not a member",
                                              "reason_bn": "সদস্য নন"}), "rejected")
    clock.at(29)
    d = ok(desk.file({"type": "medical_aid", "migrant_reference": THIRD, "district": FORMULA,
                      "event": {"date": "2026-10-20", "requested_amount": 50000}}), "documents_pending")
    ok(desk.step(d["claim_id"], "withdrawal", {"reason": "Treated abroad"}), "withdrawn")
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


def report(desk, query, role="welfare_officer", **headers):
    return desk.http.get(f"/api/v1/claim-reports?{query}", headers={**desk.headers(role), **headers})


def figures(claims, approved=0, rejected=0, paid=0, withdrawn=0, amount_approved=0, amount_paid=0, to_decision=None,
            to_payment=None):
    return {"claims": claims, "approved": approved, "rejected": rejected, "paid": paid, "withdrawn": withdrawn,
            "amount_approved": amount_approved, "amount_paid": amount_paid,
            "median_days_to_decision": to_decision, "median_days_to_payment": to_payment}


def test_the_report_by_type_and_month_counts_amounts_and_median_days_exactly(office):
    a_handful_of_claims(office)
    answer = report(office, f"{RANGE}&group_by=type,month")
    assert answer.status_code == 200 and answer.mimetype == "application/json", answer.json
    body = answer.json
    assert (body["from"], body["to"], body["type"], body["district"], body["group_by"]) == (
        "2026-10-01", "2026-11-30", None, None, ["type", "month"])
    assert body["rows"] == [
        {"type": "burial_transport", "type_name_en": "Body transport and burial grant",
         "type_name_bn": "লাশ পরিবহন ও দাফন অনুদান", "month": "2026-10",
         **figures(1, approved=1, amount_approved=35000, amount_paid=17500, to_decision=6.0)},
        {"type": "death_grant", "type_name_en": "Death grant", "type_name_bn": "মৃত্যুজনিত আর্থিক অনুদান",
         "month": "2026-10", **figures(1, approved=1, paid=1, amount_approved=300000, amount_paid=300000,
                                       to_decision=4.0, to_payment=12.0)},
        {"type": "medical_aid", "type_name_en": "Medical aid for an injured or sick returnee",
         "type_name_bn": "আহত বা অসুস্থ প্রত্যাগত কর্মীর চিকিৎসা সহায়তা", "month": "2026-11",
         **figures(2, rejected=1, withdrawn=1, to_decision=3.0)}]
    assert body["total"] == figures(4, approved=2, rejected=1, paid=1, withdrawn=1, amount_approved=335000,
                                    amount_paid=317500, to_decision=4.0, to_payment=12.0)


def test_the_report_by_destination_country_takes_the_event_else_registration(office):
    a_handful_of_claims(office)
    rows = report(office, f"{RANGE}&group_by=country").json["rows"]
    assert [(r["country"], r["claims"], r["median_days_to_decision"]) for r in rows] == [
        ("AE", 1, 6.0), ("MY", 1, 3.0), ("SA", 1, 4.0), (None, 1, None)]


def test_filters_narrow_the_report_and_the_range_is_on_the_filing_date(office):
    a_handful_of_claims(office)
    by_type = report(office, f"{RANGE}&type=medical_aid&group_by=district").json
    assert [(r["district"], r["claims"]) for r in by_type["rows"]] == [(FORMULA, 1), ("Cumilla", 1)]
    assert report(office, f"{RANGE}&district=Sylhet").json["total"]["claims"] == 1
    assert report(office, "from=2026-09-01&to=2026-09-30&group_by=month").json["rows"] == [
        {"month": "2026-09", **figures(1)}]
    # By default the year up to today (Dhaka's calendar, on the service's clock): all five.
    assert report(office, "group_by=month").json["total"]["claims"] == 5


def test_the_csv_opens_in_a_spreadsheet_with_bangla_and_no_formula(office):
    a_handful_of_claims(office)
    for answer in (report(office, f"{RANGE}&group_by=type,district&format=csv"),
                   report(office, f"{RANGE}&group_by=type,district", Accept="text/csv")):
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        assert answer.headers["Content-Disposition"] == \
            'attachment; filename="claims-report-2026-10-01-2026-11-30.csv"'
        assert answer.data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
        assert rows[0] == reports.columns(["type", "district"])
        assert rows[1:] == [
            ["burial_transport", "Body transport and burial grant", "লাশ পরিবহন ও দাফন অনুদান", "Sylhet",
             "1", "1", "0", "0", "0", "35000", "17500", "6.0", ""],
            ["death_grant", "Death grant", "মৃত্যুজনিত আর্থিক অনুদান", "Cumilla",
             "1", "1", "0", "1", "0", "300000", "300000", "4.0", "12.0"],
            ["medical_aid", "Medical aid for an injured or sick returnee",
             "আহত বা অসুস্থ প্রত্যাগত কর্মীর চিকিৎসা সহায়তা", "'" + FORMULA, "1", "0", "0", "0", "1", "0", "0", "", ""],
            ["medical_aid", "Medical aid for an injured or sick returnee",
             "আহত বা অসুস্থ প্রত্যাগত কর্মীর চিকিৎসা সহায়তা", "Cumilla", "1", "0", "1", "0", "0", "0", "0", "3.0", ""]]
    assert report(office, f"{RANGE}&format=json", Accept="text/csv").mimetype == "application/json"


@pytest.mark.parametrize("role, claims", [("migrant", {"migrant_ref": REF}), ("udc_operator", {}),
                                          ("legal_aid", {})])
def test_only_welfare_officers_and_admins_see_reports(office, role, claims):
    answer = office.http.get(f"/api/v1/claim-reports?{RANGE}", headers=office.headers(role, **claims))
    assert answer.status_code == 403 and answer.mimetype == "application/problem+json"
    assert office.db.audit.count_documents({"subject_type": reports.SUBJECT}) == 0


def test_every_report_read_is_audited_with_what_was_asked(office):
    assert report(office, f"{RANGE}&type=death_grant&group_by=month", role="admin").status_code == 200
    assert report(office, f"{RANGE}&format=csv").status_code == 200
    audited = list(office.db.audit.find({"subject_type": reports.SUBJECT}).sort("at", 1))
    assert [(a["actor"]["role"], a["action"], a["details"]["format"]) for a in audited] == [
        ("admin", "report", "json"), ("welfare_officer", "report", "csv")]
    assert audited[0]["details"] == {"since": "2026-10-01", "until": "2026-11-30", "type": "death_grant",
                                     "district": None, "group_by": ["month"], "format": "json"}


@pytest.mark.parametrize("query, field", [
    ("from=2026-11-20&to=2026-10-01", "to"), ("from=2020-01-01&to=2026-01-01", "to"), ("from=2026-13-01", "from"),
    ("from=1989-12-31", "from"), ("group_by=type,colour", "group_by"), ("format=xlsx", "format"),
    ("type=Death%20Grant", "type"), ("district=" + "x" * 41, "district"), ("colour=red", "colour")])
def test_bad_filters_are_a_clear_422_and_nothing_is_audited(office, query, field):
    answer = report(office, query)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in answer.json["errors"], answer.json
    assert office.db.audit.count_documents({"subject_type": reports.SUBJECT}) == 0


def plan_stages(plan) -> list[tuple[str, str | None]]:
    """(stage, index name) of every stage in a plan."""
    found = []
    if isinstance(plan, dict):
        found += [(plan["stage"], plan.get("indexName"))] if "stage" in plan else []
        for value in plan.values():
            found += plan_stages(value)
    elif isinstance(plan, list):
        for value in plan:
            found += plan_stages(value)
    return found


@pytest.mark.parametrize("claim_type, district, index", [
    (None, None, "report_by_filing"), ("death_grant", None, "report_by_type"),
    (None, "Cumilla", "report_by_district"), ("death_grant", "Cumilla", "report_by_type_and_district")])
def test_every_report_reads_through_an_index(office, claim_type, district, index):
    a_handful_of_claims(office)
    query = reports.match(START.date(), START.date() + timedelta(days=60), claim_type, district)
    stages = plan_stages(reports.explain(office.db, query, ["type", "month"]))
    assert ("IXSCAN", index) in stages and not [s for s in stages if s[0] == "COLLSCAN"], stages
