"""ETags and If-Match for records changed by a version number: every step that changes a
record names the version it read, so no change is lost (RFC 9110 13.1.1)."""
from __future__ import annotations

from shared.errors import PreconditionFailed, PreconditionRequired


def etag(record: dict) -> str:
    return f'"{record["version"]}"'


def expected_version(if_match: str | None, noun: str = "record") -> int:
    """The version an If-Match header names; `noun` says what in the messages ("claim")."""
    if not if_match:
        raise PreconditionRequired(f"Send If-Match with the ETag of the {noun} you read, so no change is lost.")
    tag = if_match.strip()
    # If-Match uses the strong comparison: a weak tag never matches.
    if tag.startswith("W/"):
        raise PreconditionFailed(f"If-Match needs the {noun}'s strong ETag (as sent, without W/).")
    try:
        return int(tag.removeprefix('"').removesuffix('"'))
    except ValueError:
        raise PreconditionFailed(f"If-Match does not name a version of this {noun}.") from None
