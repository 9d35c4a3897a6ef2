"""A document from the vault, passed through to the browser: fetched with the signed-in staff
member's token (in a header, never in a URL; it never reaches the browser) and streamed on.
Used by the welfare officer's checklist previews and legal aid's evidence."""
from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response, current_app

# What a browser shows inline; anything else is offered as a download, never opened.
INLINE = ("image/png", "image/jpeg", "image/webp", "application/pdf")


def passed_through(document_id: str, token: str, version: int | None = None) -> Response:
    params = {"version": version} if version is not None else {}
    chunks, content_type, length = current_app.config["BACKENDS"].documents.stream(
        f"/documents/{quote(document_id, safe='')}/content", token, params)
    kind = content_type.split(";", 1)[0].strip().lower()
    shown = kind in INLINE
    response = Response(chunks, mimetype=kind if shown else "application/octet-stream", direct_passthrough=True)
    if length and length.isdigit():
        response.headers["Content-Length"] = length
    name = re.sub(r"[^A-Za-z0-9-]", "", f"{document_id}-v{version if version is not None else 'current'}")
    # A document is evidence, not a page: nothing in it runs (an image is sandboxed; a PDF may
    # use only the browser's own viewer, which a sandbox would block).
    policy = "default-src 'none'; object-src 'self'" if kind == "application/pdf" else "default-src 'none'; sandbox"
    response.headers.update({
        "Content-Disposition": f'{"inline" if shown else "attachment"}; filename="{name}"',
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": policy,
    })
    return response
