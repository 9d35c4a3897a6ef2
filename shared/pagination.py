"""Pagination convention: `?limit=&cursor=`; responses carry `items` and `next_cursor`
(null on the last page) and a `Link: <...>; rel="next"` header.

Cursors are opaque keyset positions (the sort key of the last item), so a page costs
the same at the millionth record as at the first.
"""
from __future__ import annotations

import base64
import json
from functools import cache

from marshmallow import Schema, fields, validate

from shared.errors import Invalid

MAX_LIMIT = 100


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


def encode_cursor(position: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":"), default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list | None:
    if not cursor:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        position = None
    if not isinstance(position, list):
        raise Invalid({"cursor": ["Not a cursor from this API; start again without it."]})
    return position


@cache  # one class per item schema, so OpenAPI sees one component, not many alike
def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """A schema for one page of `item_schema` items; `next_cursor` is null on the last."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema), required=True),
                             "next_cursor": fields.String(allow_none=True, required=True)}, name=name)
