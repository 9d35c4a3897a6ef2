"""Pages of the person signed in: a migrant's timeline with what happens next in each open case,
a family member's cases, one case's timeline. Case status decides who may read what (a migrant
only their own, family only the cases their sign-in names); the portal only asks with the
person's token and shows the refusal politely."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from .. import i18n
from ..signin import STAFF_ROLES, home_for, require, token

bp = Blueprint("me", __name__)


def casestatus():
    return current_app.config["BACKENDS"].casestatus


def page_params() -> dict:
    params = {"lang": i18n.lang(), "limit": 20}
    if request.args.get("cursor"):
        params["cursor"] = request.args["cursor"][:200]
    return params


@bp.get("/me")
@require()
def me():
    return redirect(home_for(g.user))


@bp.get("/me/timeline")
@require("migrant")
def timeline():
    reference = g.user["migrant_ref"]
    data = casestatus().get(f"/migrants/{quote(reference, safe='')}/timeline", token(), page_params())
    return render_template("timeline.html", data=data)


@bp.get("/me/cases")
@require("family")
def cases():
    return render_template("cases.html", cases=g.user["cases"])


@bp.get("/cases/<case_id>")
@require("migrant", "family", *STAFF_ROLES)
def case(case_id: str):
    data = casestatus().get(f"/cases/{quote(case_id, safe='')}/timeline", token(), page_params())
    return render_template("case.html", data=data)


@bp.get("/cases")
@require(*STAFF_ROLES)
def open_case():
    case_id = request.args.get("case_id", "").strip().upper()
    return redirect(url_for("me.case", case_id=case_id) if case_id else url_for("me.staff_home"))


@bp.get("/staff")
@require(*STAFF_ROLES)
def staff_home():
    return render_template("staff.html")
