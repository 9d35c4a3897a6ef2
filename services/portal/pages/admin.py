"""Administrators' pages (issue 12; role admin): staff accounts through identity's API - the list
by username, a new account (its temporary password shown once, on the answer page only),
deactivation, password reset and unlock.

Every step is a POST with CSRF and If-Match naming the version the page showed: an account changed
meanwhile (412) is shown again as it is now, with a sentence saying so. The service's own messages
are English; what a person reads comes from the catalogues.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from ..backends import BackendError
from ..errors import form_sentence
from ..signin import require, token

bp = Blueprint("admin", __name__, url_prefix="/admin")
ROLES = ("admin",)
STAFF_ROLES = ("udc_operator", "welfare_officer", "legal_aid", "admin")
NEW_FIELDS = ("username", "full_name", "role", "district", "udc_centre")
STEPS = ("deactivation", "password-reset", "unlock")
NO_STORE = {"Cache-Control": "no-store"}  # a page with a temporary password is kept by no cache


def identity():
    return current_app.config["BACKENDS"].identity


def role_name(code: str) -> str:
    return {"udc_operator": _("Union Digital Centre operator"), "welfare_officer": _("Welfare officer"),
            "legal_aid": _("Legal aid"), "admin": _("Administrator")}.get(code, code)


def new_field_sentence(name: str) -> str:
    return {"username": _("A username is 3 to 40 lower-case letters, digits, dots, dashes or underscores, "
                          "starting with a letter."),
            "full_name": _("Write the person's full name (2 to 100 characters)."),
            "role": _("Choose the person's role."),
            "district": _("Write the district the person works in."),
            "udc_centre": _("A UDC operator needs the name of their centre; other roles leave it empty.")
            }.get(name, _("Please check this field."))


def helpers() -> dict:
    return {"role_name": role_name, "staff_roles": STAFF_ROLES}


def _path(username: str, rest: str = "") -> str:
    return f"/staff/{quote(username, safe='')}{rest}"


# -- the list -----------------------------------------------------------------------------------

@bp.get("/staff")
@require(*ROLES)
def staff_list():
    params: dict = {"limit": 20}
    if request.args.get("cursor"):
        params["cursor"] = request.args["cursor"][:200]
    errors = {}
    try:
        page = identity().get("/staff", token(), params)
    except BackendError as exc:
        if exc.status != 422:  # a cursor that is no longer valid: start again from the top
            raise
        page = identity().get("/staff", token(), {"limit": 20})
        errors = {"form": _("That page could not be found again; here is the list from the start.")}
    return render_template("admin_staff.html", page=page, errors=errors, **helpers())


# -- a new account ------------------------------------------------------------------------------

@bp.get("/staff/new")
@require(*ROLES)
def new_account():
    return render_template("admin_staff_new.html", form={}, errors={}, **helpers())


@bp.post("/staff/new")
@require(*ROLES)
def create_account():
    form = {name: request.form.get(name, "").strip() for name in NEW_FIELDS}
    body = {name: value for name, value in form.items() if value}
    try:
        account = identity().post("/staff", body, token())
    except BackendError as exc:
        if exc.status == 409:
            errors = {"form": None, "fields": {"username": _("That username is taken; choose another.")}}
        elif exc.status == 422:
            names = {name.split(".", 1)[0] for name in exc.field_errors}
            errors = {"fields": {name: new_field_sentence(name) for name in names if name in NEW_FIELDS},
                      "form": _("Some of what you entered needs fixing; see the notes beside the fields.")}
        else:
            raise
        return render_template("admin_staff_new.html", form=form, errors=errors, **helpers()), exc.status
    return render_template("admin_staff_password.html", a=account, created=True, **helpers()), 201, NO_STORE


# -- one account and its steps ------------------------------------------------------------------

def not_found():
    return render_template("error.html", title=_("Page not found"),
                           message=_("There is no staff account with that username.")), 404


@bp.get("/staff/<username>")
@require(*ROLES)
def account(username: str):
    try:
        found = identity().get(_path(username), token())
    except BackendError as exc:
        if exc.status in (404, 422):
            return not_found()
        raise
    return render_template("admin_staff_account.html", a=found, failed={}, **helpers())


def step_sentence(exc: BackendError, step: str, account: dict) -> str:
    if exc.status == 412:
        return _("The account changed since you opened it. Here it is as it is now; "
                 "look again and repeat the step if it is still needed.")
    if exc.status == 409 and step == "deactivation" and account.get("status") == "active":
        return _("You cannot deactivate your own account; another administrator can.")
    if exc.status == 409:
        return _("This account is deactivated: nothing more can be done to it.")
    if exc.status == 422:
        return _("Write the reason in 3 to 500 characters.")
    return form_sentence(exc)


@bp.post("/staff/<username>/<step>")
@require(*ROLES)
def account_step(username: str, step: str):
    if step not in STEPS:
        return not_found()
    version = request.form.get("version", "")
    body = {"reason": request.form.get("reason", "").strip()} if step == "deactivation" else {}
    try:
        done = identity().post(_path(username, f"/{step}"), body, token(),
                               if_match=f'"{version}"' if version.isdigit() else None)
    except BackendError as exc:
        if exc.status in (404,):
            return not_found()
        if exc.status not in (409, 412, 422, 428):
            raise
        now = identity().get(_path(username), token())
        failed = {"step": step, "message": step_sentence(exc, step, now), "reason": body.get("reason", "")}
        return render_template("admin_staff_account.html", a=now, failed=failed, **helpers()), exc.status
    if step == "password-reset":
        return render_template("admin_staff_password.html", a=done, created=False, **helpers()), 200, NO_STORE
    done_message = {"deactivation": _("The account is deactivated: it cannot sign in and its sessions end."),
                    "unlock": _("The account is unlocked: the person can sign in again.")}[step]
    return render_template("admin_staff_account.html", a=done, failed={}, done=done_message, **helpers())
