"""Marshmallow pieces every service's schemas use."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone

from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow.validate import Length, Regexp


# Dates are entered on Dhaka's calendar (UTC+6, no daylight saving): a server on UTC
# would otherwise call this morning's date "the future" until 06:00.
BANGLADESH_TIME = timezone(timedelta(hours=6), "Asia/Dhaka")


def today_in_bangladesh() -> date:
    return datetime.now(BANGLADESH_TIME).date()


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = RAISE


# What str.split() and str.strip() treat as whitespace, less the control characters Text refuses.
TEXT_WHITESPACE = "\\t\\n\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
# Control characters (Unicode Cc) other than tab and line breaks.
_CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
_VISIBLE = f"[^{_CONTROL}{TEXT_WHITESPACE}]"


def text_pattern(min_length: int | None) -> str:
    """Text without control characters, with at least `min_length` characters besides whitespace."""
    space = f"[{TEXT_WHITESPACE}]*"
    return f"^{space}(?:{_VISIBLE}{space}){{{min_length or 0},}}$"


class Text(fields.String):
    """Free text, NFC-normalised and trimmed; single-line text also has its runs of
    whitespace collapsed. Control characters are refused (they break exports and SMS), and
    so are lone surrogates (no UTF-8, so no database, can store them).

    The rules are judged on the text as sent, so the OpenAPI document can state them
    exactly: `max_length` characters at most, at least `min_length` besides whitespace,
    and `pattern` (documented; by default: no control characters)."""

    def __init__(self, *, max_length: int, min_length: int | None = None,
                 multiline: bool = False, validate=(), pattern: str | None = None, **kwargs):
        self.pattern = re.compile(pattern or text_pattern(min_length))
        self._length = Length(max=max_length)
        metadata = {"maxLength": max_length, "pattern": self.pattern.pattern, **kwargs.pop("metadata", {})}
        super().__init__(validate=validate, metadata=metadata, **kwargs)
        self.min_length, self.multiline = min_length or 0, multiline

    def _deserialize(self, value, attr, data, **kwargs):
        raw = self._length(super()._deserialize(value, attr, data, **kwargs))
        if any("\ud800" <= ch <= "\udfff" for ch in raw):
            raise ValidationError("Contains a lone surrogate, which is not valid UTF-8 text.")
        if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in raw):
            raise ValidationError("Contains control characters.")
        if sum(not ch.isspace() for ch in raw) < self.min_length:
            raise ValidationError(f"Give at least {self.min_length} characters.")
        if self.pattern.fullmatch(raw) is None:
            raise ValidationError("Contains characters this field does not take.")
        text = unicodedata.normalize("NFC", raw)
        return text.strip() if self.multiline else " ".join(text.split())


class FullMatch(Regexp):
    """A Regexp that must match the whole value: `$` alone would let a trailing line
    break through, which the same pattern in the OpenAPI document (ECMA-262) refuses."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Normalised(fields.String):
    """A string put through a normaliser (e.g. `shared.spellings.normalise_phone`), which
    returns the one stored spelling or raises ValueError with the field's message. `pattern`
    is every spelling it takes; the OpenAPI document publishes it, and what it does not admit
    is refused even where the normaliser would have cleaned it up."""

    def __init__(self, normalise, *, max_length: int, pattern: str, **kwargs):
        self._length = Length(max=max_length)
        self._pattern = re.compile(pattern)
        metadata = {"pattern": pattern, **kwargs.pop("metadata", {})}
        super().__init__(validate=self._length, metadata=metadata, **kwargs)
        self._normalise = normalise

    def _deserialize(self, value, attr, data, **kwargs):
        # Bound the raw input before any pattern looks at it.
        text = self._length(super()._deserialize(value, attr, data, **kwargs))
        try:
            normalised = self._normalise(text)
        except ValueError as error:
            raise ValidationError(str(error)) from error
        if self._pattern.fullmatch(text) is None:  # e.g. split up by a line break
            raise ValidationError("Use only digits, letters, spaces and hyphens as shown in the example.")
        return normalised


class CalendarDate(fields.Date):
    """A YYYY-MM-DD date (Python's fromisoformat would also take 20250101 or 2025-W01-1,
    which OpenAPI's `format: date` does not). `earliest` / `latest` document its bounds for
    the OpenAPI document as `x-earliest` / `x-latest`, inclusive: an ISO date, or `today`,
    `today+Nd`, `today-Ny` on Dhaka's calendar; the schema's validators enforce them."""

    _SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def __init__(self, *, earliest: str | None = None, latest: str | None = None, **kwargs):
        bounds = {key: value for key, value in (("x-earliest", earliest), ("x-latest", latest)) if value}
        super().__init__(metadata={**bounds, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or self._SHAPE.fullmatch(value) is None:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


_RELATIVE = re.compile(r"today(?:([+-])([0-9]+)([dy]))?")


def date_bound(expression: str, today: date) -> date:
    """The day an `x-earliest` / `x-latest` expression names on `today`; years back from
    29 February land on the 28th."""
    match = _RELATIVE.fullmatch(expression)
    if match is None:
        return date.fromisoformat(expression)
    sign, amount, unit = match.groups()
    if sign is None:
        return today
    amount = int(amount) * (1 if sign == "+" else -1)
    if unit == "d":
        return today + timedelta(days=amount)
    try:
        return today.replace(year=today.year + amount)
    except ValueError:
        return today.replace(year=today.year + amount, day=28)


class StrictBoolean(fields.Boolean):
    """JSON true or false only: marshmallow's Boolean also takes 0, 1, "yes" and "on", which
    the document's `type: boolean` refuses."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
