"""Pages for anyone, without signing in: the guide (claim types from the claims catalogue, other
topics from the directory service), the recruiting-agency lookup, and the language switch."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask_babel import gettext as _

from .. import i18n, labels
from ..backends import BackendDown, BackendError
from . import guide

bp = Blueprint("public", __name__)
AGENCY_STATUSES = ("valid", "suspended", "cancelled", "expired")


def backends():
    return current_app.config["BACKENDS"]


def part(fetch):
    """One part of a page from one service; None if that service is away (the rest still shows)."""
    try:
        return fetch()
    except BackendDown:
        return None


def one(fetch):
    try:
        return fetch()
    except BackendError as exc:
        if exc.status in (404, 422):
            abort(404)
        raise


def topic_kinds() -> dict:
    return {"complaint": _("Complaints"), "pkb_loan": _("Probashi Kallyan Bank loans"),
            "wewb_membership": _("Welfare Board membership"), "migration_paper": _("Papers for going abroad"),
            "other": _("Other help")}


def agency_status(code: str) -> str:
    return {"valid": _("Licence valid"), "suspended": _("Licence suspended"), "cancelled": _("Licence cancelled"),
            "expired": _("Licence expired")}.get(code, code)


@bp.get("/")
def home():
    catalogue = part(lambda: backends().claims.get("/claim-types"))
    topics = part(lambda: backends().directory.get("/guide/topics"))
    links = part(lambda: backends().directory.get("/links"))
    grouped: dict = {}
    for topic in (topics or {}).get("items", []):
        grouped.setdefault(topic.get("kind", "other"), []).append(topic)
    return render_template("home.html", claim_types=(catalogue or {}).get("types"), topics=topics, grouped=grouped,
                           kinds=topic_kinds(), links=(links or {}).get("items") if links else None)


@bp.get("/guide/claims/<code>")
def claim_guide(code: str):
    catalogue = backends().claims.get("/claim-types")
    claim_type = next((t for t in catalogue.get("types", []) if t["code"] == code), None)
    if claim_type is None:
        abort(404)
    documents = [[labels.document_name(c) for c in group] for group in claim_type["documents"]]
    return render_template("claim_guide.html", t=claim_type, documents=documents,
                           claimants=guide.claimants(claim_type["claimants"]), amount=guide.amount(claim_type["amount"]),
                           conditions=[guide.condition(c) for c in claim_type["eligibility"]],
                           effective_from=catalogue.get("effective_from"))


@bp.get("/guide/<topic_id>")
def topic(topic_id: str):
    found = one(lambda: backends().directory.get(f"/guide/topics/{quote(topic_id, safe='')}"))
    return render_template("topic.html", topic=found, kinds=topic_kinds())


@bp.get("/agencies")
def agencies():
    q = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    params = {"limit": 20, "q": q}
    if status in AGENCY_STATUSES:
        params["status"] = status
    if request.args.get("cursor"):
        params["cursor"] = request.args["cursor"][:200]
    page = one(lambda: backends().directory.get("/agencies", params=params)) if q or status else None
    return render_template("agencies.html", q=q, status=status, page=page, statuses=AGENCY_STATUSES,
                           status_name=agency_status)


@bp.get("/agencies/<licence>")
def agency(licence: str):
    found = one(lambda: backends().directory.get(f"/agencies/{quote(licence, safe='')}"))
    return render_template("agency.html", agency=found, status_name=agency_status)


@bp.get("/countries")
def countries():
    found = backends().directory.get("/countries")
    return render_template("countries.html", countries=found.get("items", []))


@bp.get("/language/<code>")
def language(code: str):
    """The switch: a cookie for a year (the choice holds no personal data; a GET, so it works
    as a plain link on every page, with or without a session)."""
    response = redirect(i18n.safe_next(request.args.get("next")))
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, code, max_age=365 * 24 * 3600, path="/", httponly=True, samesite="Lax",
                            secure=current_app.config["PORTAL"].cookie_secure)
    return response
