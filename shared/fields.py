"""Marshmallow pieces every service's schemas use."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone

from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow.validate import Length


# Dates are entered on Dhaka's calendar (UTC+6, no daylight saving): a server on UTC
# would otherwise call this morning's date "the future" until 06:00.
BANGLADESH_TIME = timezone(timedelta(hours=6), "Asia/Dhaka")


def today_in_bangladesh() -> date:
    return datetime.now(BANGLADESH_TIME).date()


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = RAISE


class Text(fields.String):
    """Free text, NFC-normalised and trimmed; single-line text also has its runs of
    whitespace collapsed. Control characters are refused (they break exports and SMS), and
    so are lone surrogates (no UTF-8, so no database, can store them)."""

    def __init__(self, *, max_length: int, min_length: int | None = None,
                 multiline: bool = False, validate=(), **kwargs):
        extra = [validate] if callable(validate) else list(validate)
        super().__init__(validate=[Length(min=min_length, max=max_length), *extra], **kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any("\ud800" <= ch <= "\udfff" for ch in text):
            raise ValidationError("Contains a lone surrogate, which is not valid UTF-8 text.")
        text = unicodedata.normalize("NFC", text)
        if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
            raise ValidationError("Contains control characters.")
        return text.strip() if self.multiline else " ".join(text.split())
