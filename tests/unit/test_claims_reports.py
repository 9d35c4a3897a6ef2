"""The claims report's pure parts: medians, grouping into rows and a total, the CSV a
spreadsheet opens (Bangla intact, no formula run), and the filters' 422s."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from services.claims import catalogue
from services.claims.api import make_api
from services.claims.report_schemas import ReportQuerySchema, group_by
from services.claims.reports import (MAX_SPAN_DAYS, columns, date_range, match, median, report_rows, safe_cell,
                                     to_csv)
from shared.config import Settings
from shared.fields import today_in_bangladesh
from shared.http.app import create_app
from tests import harness

NAMES = {"death_grant": ("Death grant", "মৃত্যুজনিত আর্থিক অনুদান")}


def group(key, claims=1, approved=0, rejected=0, paid=0, withdrawn=0, amount_approved=0, amount_paid=0,
          to_decision=(), to_payment=(), name_en=None, name_bn=None):
    return {"_id": key, "claims": claims, "approved": approved, "rejected": rejected, "paid": paid,
            "withdrawn": withdrawn, "amount_approved": amount_approved, "amount_paid": amount_paid,
            "days_to_decision": list(to_decision), "days_to_payment": list(to_payment),
            "name_en": name_en, "name_bn": name_bn}


@pytest.mark.parametrize("days, expected", [
    ([], None), ([None, None], None), ([3.0], 3.0), ([1.0, None, 5.0, 2.0], 2.0),
    ([1.0, 2.0, 4.0, 10.0], 3.0), ([0.25, 0.5], 0.4), ([2.04, 7.0, 1.0], 2.0)])
def test_the_median_counts_only_claims_that_got_there(days, expected):
    assert median(days) == expected


def test_rows_are_ordered_by_their_keys_with_the_unknown_country_last_and_a_total_over_all():
    groups = [group({"country": None, "month": "2026-10"}, claims=1, to_decision=[None]),
              group({"country": "SA", "month": "2026-11"}, claims=2, approved=2, paid=1, amount_approved=335000,
                    amount_paid=300000, to_decision=[4.0, 10.0], to_payment=[None, 20.0]),
              group({"country": "SA", "month": "2026-10"}, claims=3, rejected=1, withdrawn=1, to_decision=[None, 1.0,
                                                                                                           None],
                    to_payment=[None, None, None])]
    report = report_rows(groups, ["country", "month"], NAMES)
    assert [(r["country"], r["month"]) for r in report["rows"]] == [("SA", "2026-10"), ("SA", "2026-11"),
                                                                    (None, "2026-10")]
    assert report["rows"][1] == {"country": "SA", "month": "2026-11", "claims": 2, "approved": 2, "rejected": 0,
                                 "paid": 1, "withdrawn": 0, "amount_approved": 335000, "amount_paid": 300000,
                                 "median_days_to_decision": 7.0, "median_days_to_payment": 20.0}
    assert report["total"] == {"claims": 6, "approved": 2, "rejected": 1, "paid": 1, "withdrawn": 1,
                               "amount_approved": 335000, "amount_paid": 300000,
                               "median_days_to_decision": 4.0, "median_days_to_payment": 20.0}


def test_a_type_row_names_the_type_in_both_languages_from_the_catalogue_or_as_filed():
    report = report_rows([group({"type": "death_grant"}, name_en="Old name", name_bn="পুরনো"),
                          group({"type": "retired_type"}, name_en="Retired", name_bn="বাতিল")], ["type"], NAMES)
    assert [(r["type"], r["type_name_en"], r["type_name_bn"]) for r in report["rows"]] == [
        ("death_grant", "Death grant", "মৃত্যুজনিত আর্থিক অনুদান"), ("retired_type", "Retired", "বাতিল")]


def test_no_claims_is_an_empty_report_with_zero_totals():
    assert report_rows([], ["type"], NAMES) == {"rows": [], "total": {
        "claims": 0, "approved": 0, "rejected": 0, "paid": 0, "withdrawn": 0, "amount_approved": 0, "amount_paid": 0,
        "median_days_to_decision": None, "median_days_to_payment": None}}


@pytest.mark.parametrize("text, safe", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+8801712345678", "'+8801712345678"),
    ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), (" =1", "' =1"),
    ("＝1+1", "'＝1+1"), ("Cumilla", "Cumilla"), ("কুমিল্লা", "কুমিল্লা"), ("a=b", "a=b"), (None, ""),
    (-5, -5), (2.5, 2.5)])
def test_a_cell_a_spreadsheet_would_run_stays_text(text, safe):
    assert safe_cell(text) == safe


def test_the_csv_is_utf8_with_a_bom_keeps_bangla_and_neutralises_formulas():
    report = report_rows([group({"type": "death_grant", "district": "=cmd|'/c calc'!A1"}, claims=2, approved=1,
                                amount_approved=300000, to_decision=[2.5, None]),
                          group({"type": "death_grant", "district": "কুমিল্লা"}, claims=1)],
                         ["type", "district"], NAMES)
    body = to_csv(report, ["type", "district"])
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "\r\n" in text and "মৃত্যুজনিত আর্থিক অনুদান" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == columns(["type", "district"]) == [
        "type", "type_name_en", "type_name_bn", "district", "claims", "approved", "rejected", "paid", "withdrawn",
        "amount_approved", "amount_paid", "median_days_to_decision", "median_days_to_payment"]
    assert rows[1][:4] == ["death_grant", "Death grant", "মৃত্যুজনিত আর্থিক অনুদান", "'=cmd|'/c calc'!A1"]
    assert rows[1][4:] == ["2", "1", "0", "0", "0", "300000", "0", "2.5", ""]
    assert rows[2][3] == "কুমিল্লা"


def test_the_match_filters_filing_dates_inclusively_and_by_type_and_district():
    assert match(date(2026, 1, 1), date(2026, 6, 30), "death_grant", "Cumilla") == {
        "filed_on": {"$gte": "2026-01-01", "$lte": "2026-06-30"}, "type": "death_grant", "district": "Cumilla"}
    assert match(date(2026, 1, 1), date(2026, 1, 1)) == {"filed_on": {"$gte": "2026-01-01", "$lte": "2026-01-01"}}


def test_the_default_range_is_the_year_up_to_today_or_up_to_to():
    today = date(2026, 11, 28)
    assert date_range(None, None, today) == (date(2025, 11, 29), today)
    assert date_range(None, date(2026, 6, 30), today) == (date(2025, 7, 1), date(2026, 6, 30))
    assert date_range(date(2026, 1, 1), None, today) == (date(2026, 1, 1), today)


def test_from_alone_reaches_no_further_than_one_report_may():
    since = date(2020, 1, 1)
    assert date_range(since, None, date(2026, 11, 28)) == (since, since + timedelta(days=MAX_SPAN_DAYS))


def test_group_by_keeps_the_order_asked_and_each_key_once():
    assert group_by("month,type,month") == ["month", "type"]


def load(**query):
    return ReportQuerySchema().load({k: str(v) for k, v in query.items()})


def errors(**query):
    with pytest.raises(ValidationError) as refused:
        load(**query)
    return refused.value.messages


def test_the_filters_load_and_default_to_grouping_by_type():
    loaded = load(**{"from": "2026-01-01", "to": "2026-03-31", "type": "death_grant", "district": "Cumilla",
                     "format": "csv"})
    assert loaded == {"since": date(2026, 1, 1), "until": date(2026, 3, 31), "type": "death_grant",
                      "district": "Cumilla", "format": "csv", "group_by": "type"}


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-02-30"}, "from"), ({"from": "20260101"}, "from"), ({"to": "1989-12-31"}, "to"),
    ({"from": (today_in_bangladesh() + timedelta(days=1)).isoformat()}, "from"),
    ({"from": "2026-03-01", "to": "2026-02-28"}, "to"),
    ({"from": "2020-01-01", "to": (date(2020, 1, 1) + timedelta(days=MAX_SPAN_DAYS + 1)).isoformat()}, "to"),
    ({"type": "Death Grant"}, "type"), ({"district": "x" * 41}, "district"), ({"group_by": "type,colour"}, "group_by"),
    ({"group_by": ""}, "group_by"), ({"format": "xlsx"}, "format"), ({"colour": "red"}, "colour")])
def test_bad_filters_are_refused_naming_the_field(query, field):
    assert field in errors(**query)


def test_the_longest_range_is_accepted():
    assert load(**{"from": "2020-01-01", "to": (date(2020, 1, 1) + timedelta(days=MAX_SPAN_DAYS)).isoformat()})


def test_the_openapi_document_offers_json_and_csv_to_officers_and_admins_only():
    api = make_api(SimpleNamespace(catalogue=catalogue.load()))
    app = create_app(Settings(service="claims", jwt_dev_key_file=harness.dev_key_file()), api, title="Probashi claims", description="d",
                     readiness={}, configure_logging=False)
    operation = app.test_client().get("/openapi.json").json["paths"]["/api/v1/claim-reports"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert operation["description"] == "Roles: admin, welfare_officer"
    assert {"403", "422"} <= set(operation["responses"])
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"from", "to", "type", "district", "group_by", "format"}
    assert parameters["to"]["schema"]["x-not-before"] == "from"
    assert parameters["to"]["schema"]["x-max-days-after"] == MAX_SPAN_DAYS
    assert parameters["format"]["schema"]["enum"] == ["json", "csv"]
