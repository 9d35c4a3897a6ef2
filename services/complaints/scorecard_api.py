"""The recruiting-agency scorecard's routes (scorecard.py is the projection they read):
agencies ranked by any figure, as JSON or CSV, and one agency's card with its complaints by
category.

Who reads: any signed-in role today (staff, and migrants choosing an agency). Staff reads are
audited like the other reports. The scorecard holds no personal data (counts and amounts per
licence, never a complaint, a name or a reference), so it is meant to become public for the
portal: set `READERS = PUBLIC` (shared.http.api) and the routes take no token; `principal`
is then None and nothing is audited for the anonymous reader.
"""
from __future__ import annotations

import csv
import io
import math
from typing import Callable

from flask import Response, request
from marshmallow import fields
from marshmallow.validate import OneOf

from shared.auth import ROLES
from shared.errors import Invalid, NotFound
from shared.fields import StrictSchema, today_in_bangladesh
from shared.http.api import Api, Reply
from shared.pagination import PageQuerySchema, decode_cursor, encode_cursor
from shared.spellings import normalise_licence_or_number

from .scorecard import ASCENDING_ORDER, DESCENDING_ORDER, FIGURES, METRICS, UNPAID, ScorecardReads

READERS = frozenset(ROLES)  # PUBLIC once the portal shows it (see above)
SUBJECT = "agency_scorecard"
FORMATS = ("json", "csv")
CSV_PAGE, CSV_MAX_ROWS = 500, 10_000  # a CSV is the whole ranking (BMET licenses some 1,500 agencies)


class ScorecardQuerySchema(PageQuerySchema):
    rank_by = fields.String(load_default="complaints", validate=OneOf(METRICS),
                            metadata={"description": "the figure agencies are ranked by"})
    order = fields.String(load_default=DESCENDING_ORDER, validate=OneOf((DESCENDING_ORDER, ASCENDING_ORDER)),
                          metadata={"description": "desc (highest first) or asc; ties by licence, the same way; "
                                                   "null figures (no closed complaint, no worker known) rank lowest"})
    format = fields.String(validate=OneOf(FORMATS), metadata={
        "description": "json or csv; without it the Accept header decides (text/csv), else JSON. A CSV is the "
                       "whole ranking from `cursor` on, not one page"})


class AgencyScorecardSchema(StrictSchema):
    licence = fields.String(required=True, metadata={"example": "RL-1234"})
    complaints = fields.Integer(required=True, metadata={"description": "complaints naming this agency"})
    open = fields.Integer(required=True, metadata={"description": "not closed or withdrawn"})
    resolved = fields.Integer(required=True, metadata={"description": "closed"})
    withdrawn = fields.Integer(required=True)
    median_days_to_close = fields.Float(required=True, allow_none=True,
                                        metadata={"description": "over its closed complaints, filing to closing; "
                                                                 "null: none closed"})
    amount_claimed = fields.Integer(required=True, metadata={"description": "taka"})
    amount_awarded = fields.Integer(required=True, metadata={"description": "taka, settlements and awards"})
    amount_paid = fields.Integer(required=True, metadata={"description": "taka"})
    awards = fields.Integer(required=True, metadata={"description": "complaints with money decided"})
    awards_unpaid_past_deadline = fields.Integer(required=True, metadata={
        "description": "awards whose payment deadline is before `as_of` with money still owed"})
    workers_sent = fields.Integer(required=True, metadata={"description": "registered migrants it sent"})
    complaints_per_1000_workers = fields.Float(required=True, allow_none=True,
                                               metadata={"description": "null: no worker it sent is known"})
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                              metadata={"description": "complaints per category code"})


class ScorecardPageSchema(StrictSchema):
    rank_by = fields.String(required=True)
    order = fields.String(required=True)
    as_of = fields.Date(required=True, metadata={"description": "the day (Asia/Dhaka) deadlines are judged on"})
    items = fields.List(fields.Nested(AgencyScorecardSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class OneScorecardSchema(AgencyScorecardSchema):
    as_of = fields.Date(required=True)


SCORECARD_DOC = {
    "description": "Agencies ranked: JSON (a page), or CSV (the whole ranking; UTF-8 with a byte-order mark)",
    "content": {"application/json": {"schema": ScorecardPageSchema}, "text/csv": {"schema": {"type": "string"}}},
}
COLUMNS = ("licence", *FIGURES)


def to_csv(cards: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for card in cards:  # licences and numbers only: nothing a spreadsheet would run
        writer.writerow(["" if card[name] is None else card[name] for name in COLUMNS])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _figure(value) -> bool:
    """A figure a ranking could hold (a number the database takes, or null)."""
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and math.isfinite(value) and abs(value) < 2 ** 53)


def _position(cursor: str | None, rank_by: str) -> list | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    if (len(position) != 2 or not isinstance(position[1], str) or not _figure(position[0])
            or (rank_by == UNPAID and not isinstance(position[0], int))):
        raise Invalid({"cursor": ["Not a cursor of this ranking; start again without it."]})
    return position


def add_routes(api: Api, scorecard_reads: ScorecardReads, audit, today: Callable = today_in_bangladesh) -> None:
    def audited(principal, licence: str | None, **details) -> None:
        if principal is not None and principal.is_staff:
            audit.record(principal, "report", SUBJECT, licence, **details)

    @api.route("/agencies/scorecard", "GET", roles=READERS, query=ScorecardQuerySchema,
               response=ScorecardPageSchema, response_doc=SCORECARD_DOC,
               response_headers={"Vary": "Accept: the format follows it when `format` is not given"},
               summary="Recruiting agencies ranked by complaints, outcomes, money and complaints per 1,000 workers "
                       "sent (staff reads are audited)")
    def agency_scorecards(principal, query):
        form = query.get("format") or ("csv" if request.accept_mimetypes.best_match(
            ["application/json", "text/csv"], "application/json") == "text/csv" else "json")
        rank_by, order, as_of = query["rank_by"], query["order"], today()
        after = _position(query["cursor"], rank_by)
        audited(principal, None, rank_by=rank_by, order=order, format=form)
        if form == "csv":
            cards = []
            while len(cards) < CSV_MAX_ROWS:
                page, after = scorecard_reads.ranked(rank_by, order, CSV_PAGE, after, as_of.isoformat())
                cards += page
                if after is None:
                    break
            name = f"agency-scorecard-{rank_by}-{as_of.isoformat()}.csv"
            return Reply(Response(to_csv(cards), mimetype="text/csv"), 200,
                         {"Vary": "Accept", "Content-Disposition": f'attachment; filename="{name}"'})
        items, after = scorecard_reads.ranked(rank_by, order, query["limit"], after, as_of.isoformat())
        return Reply({"rank_by": rank_by, "order": order, "as_of": as_of, "items": items,
                      "next_cursor": encode_cursor(after) if after else None}, 200, {"Vary": "Accept"})

    @api.route("/agencies/<licence>/scorecard", "GET", roles=READERS, response=OneScorecardSchema,
               summary="One recruiting agency's scorecard, with its complaints by category (staff reads are audited)")
    def agency_scorecard(principal, licence):
        try:  # "RL 1234", "rl-1234" and "1234" name one agency, as at intake; what is no licence names none (404)
            licence = normalise_licence_or_number(licence)
        except ValueError:
            raise NotFound("No agency has that licence; a licence looks like RL-1234.") from None
        as_of = today()
        audited(principal, licence)
        card = scorecard_reads.agency(licence, as_of.isoformat())
        if card is None:
            raise NotFound(f"No complaint or worker is known for the agency {licence}.")
        return {**card, "as_of": as_of}
