"""Pagination convention: `?limit=&cursor=`; responses carry `items` and `next_cursor`
(null on the last page) and a `Link: <...>; rel="next"` header.

Cursors are opaque keyset positions (the sort key of the last item), so a page costs
the same at the millionth record as at the first.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime
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


def position_after(cursor: str | None) -> list | None:
    """The (instant, _id) keyset position a cursor from `keyset_page` points after."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        return [datetime.fromisoformat(position[0]), str(position[1])]
    except (ValueError, IndexError, TypeError):
        raise Invalid({"cursor": ["Not a cursor from this API; start again without it."]}) from None


def keyset_page(found: list[dict], limit: int, sort_key: str) -> tuple[list[dict], str | None]:
    """Split rows fetched with limit + 1 into the page and the cursor of the next page
    (None on the last), for lists sorted by (sort_key, _id)."""
    page = found[:limit]
    if len(found) <= limit:
        return page, None
    return page, encode_cursor([page[-1][sort_key].isoformat(), page[-1]["_id"]])


@cache  # one class per item schema, so OpenAPI sees one component, not many alike
def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """A schema for one page of `item_schema` items; `next_cursor` is null on the last."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema), required=True),
                             "next_cursor": fields.String(allow_none=True, required=True)}, name=name)
