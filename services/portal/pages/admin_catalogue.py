"""Administrators publish the claim-type catalogue (issue 12; role admin) through the claims
API: every version newest first, and a new version written as JSON in a textarea, started from
the latest. It is sent with If-Match naming the latest version the page showed, so a version
another admin published meanwhile (412) is named instead of being overwritten. The catalogue's
own checks (which type, which field) are shown as the service words them: they are the rules'
own names and no sentence of ours would say more."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from ..backends import BackendError
from ..signin import require, token

bp = Blueprint("admin_catalogue", __name__, url_prefix="/admin/catalogue")
DOCUMENT_KEYS = ("version", "effective_from", "types")


def claims():
    return current_app.config["BACKENDS"].claims


def versions() -> list:
    return claims().get("/claim-types/versions", token(), {"limit": 20}).get("items", [])


def draft_of(latest: dict | None) -> str:
    """The latest version as a document to edit (the shape catalogue.json has)."""
    if not latest:
        return ""
    found = claims().get(f"/claim-types/versions/{latest['number']}", token())
    return json.dumps({key: found.get(key) for key in DOCUMENT_KEYS}, ensure_ascii=False, indent=2)


def render(items: list, draft: str, errors: dict | None = None, status: int = 200, done: dict | None = None):
    latest = items[0]["number"] if items else 0
    return render_template("admin_catalogue.html", items=items, latest=latest, draft=draft, errors=errors or {},
                           done=done), status


@bp.get("")
@require("admin")
def catalogue():
    items = versions()
    return render(items, draft_of(items[0] if items else None))


def problems_of(exc: BackendError) -> list[str]:
    """The service's findings as "where: what" lines."""
    return [f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in exc.field_errors.items()] or \
        [str(exc.problem.get("detail") or "")]


@bp.post("")
@require("admin")
def publish():
    draft, latest = request.form.get("document", ""), request.form.get("latest", "")
    try:
        document = json.loads(draft)
    except ValueError as exc:
        return render(versions(), draft, {"form": _("This is not valid JSON (line %(line)s, column %(column)s).",
                                                    line=getattr(exc, "lineno", 1), column=getattr(exc, "colno", 1))},
                      422)
    if not isinstance(document, dict):
        return render(versions(), draft, {"form": _("The catalogue is one JSON object with version, "
                                                    "effective_from and types.")}, 422)
    try:
        published = claims().post("/claim-types/versions", document, token(),
                                  if_match=f'"{latest}"' if latest.isdigit() else None)
    except BackendError as exc:
        if exc.status in (412, 428):
            return render(versions(), draft, {"form": _(
                "Another administrator published a version after you opened this page. The list shows it now; "
                "check your text against it and send again.")}, 412)
        if exc.status not in (400, 409, 422):
            raise
        return render(versions(), draft, {"form": _("The catalogue was not published. The service found:"),
                                          "problems": problems_of(exc)}, 422)
    return render(versions(), draft, done=published, status=201)
