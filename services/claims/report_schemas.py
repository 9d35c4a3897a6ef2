"""What the claims report takes (filters, grouping, format) and returns (reports.py).

Across-field rules the OpenAPI document states as extensions, for the fuzz test to follow:
`x-earliest` / `x-latest` (shared.fields.CalendarDate) bound each date; on `to`,
`x-not-before` names the field it may not precede and `x-max-days-after` how far after it
it may be."""
from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf

from shared.fields import CalendarDate, FullMatch, StrictSchema, date_bound, today_in_bangladesh

from .reports import DEFAULT_SPAN_DAYS, DIMENSIONS, MAX_SPAN_DAYS
from .schemas import CODE

EARLIEST = "1990-01-01"  # the Wage Earners' Welfare Fund began in 1990
FROM_LATEST, TO_LATEST = "today", "today+1y"
GROUP_BY = FullMatch(rf"^({'|'.join(DIMENSIONS)})(,({'|'.join(DIMENSIONS)})){{0,3}}$",
                     error=f"One or more of {', '.join(DIMENSIONS)}, separated by commas (type,month).")
FORMATS = ("json", "csv")


class ReportQuerySchema(Schema):
    since = CalendarDate(data_key="from", earliest=EARLIEST, latest=FROM_LATEST, metadata={
        "description": f"the first filing date (Asia/Dhaka), YYYY-MM-DD; default: {DEFAULT_SPAN_DAYS - 1} days "
                       "before `to`"})
    until = CalendarDate(data_key="to", earliest=EARLIEST, latest=TO_LATEST, metadata={
        "description": f"the last filing date, inclusive; default: today (or, when that is too far after `from`, "
                       f"{MAX_SPAN_DAYS} days after it). At most {MAX_SPAN_DAYS} days after "
                       "`from`, and not before it", "x-not-before": "from", "x-max-days-after": MAX_SPAN_DAYS})
    type = fields.String(validate=CODE, metadata={"pattern": CODE.regex.pattern, "description": "one claim type"})
    district = fields.String(validate=Length(min=1, max=40), metadata={"description": "one district, as filed"})
    group_by = fields.String(load_default="type", validate=GROUP_BY, metadata={
        "pattern": GROUP_BY.regex.pattern, "example": "type,month",
        "description": "the rows' keys, in this order: type, district, (destination) country, month (of filing); "
                       "a key named twice counts once"})
    format = fields.String(validate=OneOf(FORMATS), metadata={
        "description": "json or csv; without it the Accept header decides (text/csv), else JSON"})

    @validates_schema
    def _a_range_in_bounds(self, data, **_):
        today = today_in_bangladesh()
        errors: dict[str, list[str]] = {}
        for name, key, latest in (("since", "from", FROM_LATEST), ("until", "to", TO_LATEST)):
            day = data.get(name)
            if day is not None and not date.fromisoformat(EARLIEST) <= day <= date_bound(latest, today):
                errors[key] = [f"A date from {EARLIEST} to {date_bound(latest, today)}."]
        since, until = data.get("since"), data.get("until")
        if not errors and since and until:
            if until < since:
                errors["to"] = ["Not before `from`."]
            elif (until - since).days > MAX_SPAN_DAYS:
                errors["to"] = [f"At most {MAX_SPAN_DAYS} days after `from`: ask for a longer time in parts."]
        if errors:
            raise ValidationError(errors)


def group_by(text: str) -> list[str]:
    """The grouping keys in the order asked, each once."""
    return list(dict.fromkeys(text.split(",")))


# -- what it returns -----------------------------------------------------------------------

class _Out(StrictSchema):
    pass


class _Figures(_Out):
    claims = fields.Integer(required=True, metadata={"description": "claims filed"})
    approved = fields.Integer(required=True)
    rejected = fields.Integer(required=True, metadata={"description": "rejected and not approved since"})
    paid = fields.Integer(required=True, metadata={"description": "the whole approved amount disbursed"})
    withdrawn = fields.Integer(required=True)
    amount_approved = fields.Integer(required=True, metadata={"description": "taka"})
    amount_paid = fields.Integer(required=True, metadata={"description": "taka, partial disbursements too"})
    median_days_to_decision = fields.Float(required=True, allow_none=True,
                                           metadata={"description": "from filing to approval or rejection"})
    median_days_to_payment = fields.Float(required=True, allow_none=True,
                                          metadata={"description": "from filing to full payment"})


class ReportRowSchema(_Figures):
    type = fields.String()
    type_name_en = fields.String(allow_none=True)
    type_name_bn = fields.String(allow_none=True)
    district = fields.String()
    country = fields.String(allow_none=True, metadata={"description": "destination country; null: not known"})
    month = fields.String(metadata={"example": "2026-11", "description": "of filing (Asia/Dhaka)"})


class ReportTotalSchema(_Figures):
    pass


class ReportSchema(_Out):
    since = fields.Date(required=True, data_key="from")
    until = fields.Date(required=True, data_key="to")
    type = fields.String(required=True, allow_none=True)
    district = fields.String(required=True, allow_none=True)
    group_by = fields.List(fields.String(validate=OneOf(DIMENSIONS)), required=True)
    rows = fields.List(fields.Nested(ReportRowSchema), required=True)
    total = fields.Nested(ReportTotalSchema, required=True)


REPORT_DOC = {
    "description": "The report: JSON, or CSV (UTF-8 with a byte-order mark; cells a spreadsheet would run as a "
                   "formula start with an apostrophe)",
    "content": {"application/json": {"schema": ReportSchema},
                "text/csv": {"schema": {"type": "string"}}},
}
