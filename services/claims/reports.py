"""Claims reports: how many claims were filed, decided and paid, the amounts approved and
paid, and the median days from filing to decision and to payment, grouped by claim type,
district, destination country and month of filing; as JSON or CSV.

The database does the counting (one aggregation, its `$match` on an index: ensure_indexes);
Python takes the medians from the days each group pushed (median, report_rows) and writes
the CSV (to_csv). What each figure means:

- month: the month of filing on Dhaka's calendar (`filed_on`); the date range is on it too.
- decided: approved (an approval stands: nothing follows it but payment and closure), or
  else rejected (the latest rejection, also while a review of it is pending). Days to
  decision run from filing to that approval or rejection.
- paid: the whole approved amount is disbursed; days to payment run from filing to the
  disbursement that completed it. Amount paid counts every disbursement, partial ones too.
- destination country: the claim's `destination_country` (domain.new_claim: the country
  the claim's event happened in, else the destination registration published); claims
  filed before it was kept fall back to their event's country; none is null.
"""
from __future__ import annotations

import csv
import io
import statistics
from datetime import date, timedelta

from pymongo import ASCENDING
from pymongo.database import Database

from shared import keyset

from .repository import CLAIMS

SUBJECT = "claim_report"
DIMENSIONS = ("type", "district", "country", "month")
MAX_SPAN_DAYS = 3 * 366  # a bound on what one report reads (and on the days one group collects)
DEFAULT_SPAN_DAYS = 365
DAY_MS = 24 * 3600 * 1000
FIGURES = ("claims", "approved", "rejected", "paid", "withdrawn", "amount_approved", "amount_paid",
           "median_days_to_decision", "median_days_to_payment")
INDEXES = {"report_by_filing": [("filed_on", ASCENDING)],
           "report_by_type": [("type", ASCENDING), ("filed_on", ASCENDING)],
           "report_by_district": [("district", ASCENDING), ("filed_on", ASCENDING)],
           "report_by_type_and_district": [("type", ASCENDING), ("district", ASCENDING), ("filed_on", ASCENDING)]}


def ensure_indexes(db: Database) -> None:
    """Every filter a report takes leads an index that ends in the filing date."""
    for name, keys in INDEXES.items():
        db[CLAIMS].create_index(keys, name=name)


def date_range(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """The report's filing dates, inclusive: by default the year up to today; from `since`
    alone, up to today or as far as one report reaches."""
    if until is None:
        until = min(today, since + timedelta(days=MAX_SPAN_DAYS)) if since else today
    return since or until - timedelta(days=DEFAULT_SPAN_DAYS - 1), until


# -- the aggregation ---------------------------------------------------------------------

def match(since: date, until: date, claim_type: str | None = None, district: str | None = None) -> dict:
    query: dict = {"filed_on": {"$gte": since.isoformat(), "$lte": until.isoformat()}}
    if claim_type:
        query["type"] = claim_type
    if district:
        query["district"] = district
    return query


_APPROVED_AT = "$decision.approved_at"
_DECIDED_AT = {"$ifNull": [_APPROVED_AT, "$rejection.at"]}
_FULLY_PAID = {"$and": [{"$gt": ["$approved_amount", 0]}, {"$eq": ["$paid_total", "$approved_amount"]}]}
# The last disbursement completed it ("$payments.recorded_at" is not supported by SecantusDB: $map).
_PAID_AT = {"$cond": [_FULLY_PAID, {"$max": {"$map": {"input": "$payments", "as": "p", "in": "$$p.recorded_at"}}},
                      None]}
_KEYS = {"type": "$type", "district": "$district", "month": {"$substrCP": ["$filed_on", 0, 7]},
         "country": {"$ifNull": ["$destination_country", {"$ifNull": ["$event.country", None]}]}}


def _flag(condition) -> dict:
    return {"$cond": [condition, 1, 0]}


def _days_since_filing(instant) -> dict:
    return {"$cond": [{"$eq": [{"$ifNull": [instant, None]}, None]}, None,
                      {"$divide": [{"$subtract": [instant, "$created_at"]}, DAY_MS]}]}


def pipeline(query: dict, group_by: list[str]) -> list[dict]:
    """One row per group: counts and sums, and the days of each decided and paid claim."""
    approved = {"$ne": [{"$ifNull": [_APPROVED_AT, None]}, None]}
    rejected = {"$and": [{"$not": [approved]}, {"$ne": [{"$ifNull": ["$rejection.at", None]}, None]}]}
    per_claim = {
        "key": {name: _KEYS[name] for name in group_by},
        "name_en": 1, "name_bn": 1,
        "approved": _flag(approved), "rejected": _flag(rejected), "paid": _flag(_FULLY_PAID),
        "withdrawn": _flag({"$ne": [{"$ifNull": ["$withdrawal", None]}, None]}),
        "amount_approved": {"$ifNull": ["$approved_amount", 0]}, "amount_paid": {"$ifNull": ["$paid_total", 0]},
        "to_decision": _days_since_filing(_DECIDED_AT), "to_payment": _days_since_filing(_PAID_AT),
    }
    return [
        {"$match": query},
        {"$project": per_claim},
        {"$group": {"_id": "$key", "claims": {"$sum": 1},
                    **{name: {"$sum": f"${name}"} for name in ("approved", "rejected", "paid", "withdrawn",
                                                              "amount_approved", "amount_paid")},
                    "name_en": {"$max": "$name_en"}, "name_bn": {"$max": "$name_bn"},
                    "days_to_decision": {"$push": "$to_decision"}, "days_to_payment": {"$push": "$to_payment"}}},
    ]


def run(db: Database, query: dict, group_by: list[str]) -> list[dict]:
    return list(db[CLAIMS].aggregate(pipeline(query, group_by)))


def explain(db: Database, query: dict, group_by: list[str]) -> dict:
    """The winning plan of the report's read (tests check it is an index scan)."""
    answer = db.command("explain", {"aggregate": CLAIMS, "pipeline": pipeline(query, group_by), "cursor": {}},
                        verbosity="queryPlanner")
    return keyset.winning_plan(answer)



# -- pure helpers: medians, rows, CSV ------------------------------------------------------

def median(days) -> float | None:
    """The median of the known values (None ones are claims not there yet), to a tenth of a day."""
    known = [d for d in days if d is not None]
    return round(statistics.median(known), 1) if known else None


def _figures(groups: list[dict]) -> dict:
    figures = {name: sum(g[name] for g in groups) for name in FIGURES[:7]}
    figures["median_days_to_decision"] = median([d for g in groups for d in g["days_to_decision"]])
    figures["median_days_to_payment"] = median([d for g in groups for d in g["days_to_payment"]])
    return figures


def _order(value):
    return (value is None, value or "")  # the unknown (no country) last


def report_rows(groups: list[dict], group_by: list[str], names: dict[str, tuple[str, str]]) -> dict:
    """The aggregation's groups as the report: rows ordered by their keys, and the total.
    `names`: the catalogue's (English, Bangla) name of each type; a type it no longer has
    keeps the name its claims were filed with."""
    rows = []
    for group in sorted(groups, key=lambda g: [_order(g["_id"].get(name)) for name in group_by]):
        row: dict = {}
        for name in group_by:
            row[name] = group["_id"].get(name)
            if name == "type":
                row["type_name_en"], row["type_name_bn"] = names.get(row["type"], (group.get("name_en"),
                                                                                    group.get("name_bn")))
        rows.append({**row, **_figures([group])})
    return {"rows": rows, "total": _figures(groups)}


def columns(group_by: list[str]) -> list[str]:
    keys = []
    for name in group_by:
        keys += [name, "type_name_en", "type_name_bn"] if name == "type" else [name]
    return [*keys, *FIGURES]


# A cell a spreadsheet would read as a formula (or a DDE call) starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_cell(value) -> str | int | float:
    """Text that a spreadsheet would run as a formula is kept as text (a leading apostrophe);
    numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(report: dict, group_by: list[str]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheets read the Bangla as Bangla; CRLF rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    names = columns(group_by)
    writer.writerow(names)
    for row in report["rows"]:
        writer.writerow([safe_cell(row.get(name)) for name in names])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


# -- the use case ------------------------------------------------------------------------

class ClaimReports:
    """A report for staff; every one asked for is audited before it is answered."""

    def __init__(self, db: Database, audit, names: dict[str, tuple[str, str]], today):
        self.db, self.audit, self.names, self.today = db, audit, names, today

    @classmethod
    def of(cls, service) -> "ClaimReports":
        names = {t.code: (t.name_en, t.name_bn) for t in service.catalogue.types.values()}
        return cls(service.reads.db, service.audit, names, service.today)

    def report(self, principal, filters: dict, group_by: list[str], form: str) -> dict:
        since, until = date_range(filters.get("since"), filters.get("until"), self.today())
        claim_type, district = filters.get("type"), filters.get("district")
        self.audit.record(principal, "report", SUBJECT, None, since=since.isoformat(), until=until.isoformat(),
                          type=claim_type, district=district, group_by=group_by, format=form)
        groups = run(self.db, match(since, until, claim_type, district), group_by)
        return {"since": since, "until": until, "type": claim_type, "district": district, "group_by": group_by,
                **report_rows(groups, group_by, self.names)}
