"""Signing in and out. Migrants and families: a phone number, then the 6-digit code identity
sends by SMS (identity's /otp API). Staff: username and password (identity's /sessions), with
a new password where identity asks for one. The token pair stays in the server-side session;
the access token is refreshed with the refresh token shortly before it expires, and signing
out revokes the refresh token at identity.

The portal reads the role and case claims of the access token without checking its signature:
it has the token straight from identity over its own connection, and every service that is
shown the token verifies it. Those claims only choose which pages to offer.
"""
from __future__ import annotations

import threading
import time
from functools import wraps

import jwt
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from . import i18n
from .backends import BackendError
from .errors import explain

STAFF_ROLES = frozenset({"udc_operator", "welfare_officer", "legal_aid", "admin"})
REFRESH_AHEAD_SECONDS = 60

bp = Blueprint("signin", __name__)


def backends():
    return current_app.config["BACKENDS"]


class SignInNeeded(Exception):
    pass


def user() -> dict | None:
    """Who is signed in: {role, subject, migrant_ref, cases, username}, or None."""
    auth = session.get("auth")
    return auth["user"] if auth else None


def token() -> str:
    """A valid access token for the person signed in, refreshed first if it is about to expire."""
    auth = session.get("auth")
    if not auth:
        raise SignInNeeded()
    if fresh(auth):
        return auth["access_token"]
    # Identity takes a spent refresh token as stolen and ends the sign-in, so two requests of one
    # session must not both spend it: one refreshes at a time (per process), and a request that
    # waited takes the pair the other stored.
    with _refresh_lock(session.session_id):
        latest = (current_app.session_interface.stored(session) or {}).get("auth") or auth
        if fresh(latest):
            session["auth"] = latest
            return latest["access_token"]
        try:
            pair = backends().identity.post("/tokens/refresh", {"refresh_token": latest["refresh_token"]})
        except BackendError:  # spent, revoked or expired: the sign-in is over
            session.clear()
            raise SignInNeeded() from None
        start(pair, keep_id=True)
        current_app.session_interface.store_now(session)
        return pair["access_token"]


def fresh(auth: dict) -> bool:
    return auth["expires_at"] - REFRESH_AHEAD_SECONDS > time.time()


_locks: dict = {}
_locks_guard = threading.Lock()


def _refresh_lock(session_id: str | None) -> threading.Lock:
    with _locks_guard:
        if len(_locks) > 10000:  # forget idle ones now and then
            for key in [k for k, lock in _locks.items() if not lock.locked()]:
                del _locks[key]
        return _locks.setdefault(session_id or "", threading.Lock())


def start(pair: dict, keep_id: bool = False) -> None:
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    signed_in = {"role": claims.get("role"), "subject": claims.get("sub"), "migrant_ref": claims.get("migrant_ref"),
                 "cases": list(claims.get("cases") or []), "username": claims.get("preferred_username")}
    if not keep_id:
        csrf = session.get("csrf_token")
        session.clear()
        session.regenerate()  # a new id at sign-in: an id known before it is worth nothing
        if csrf:
            session["csrf_token"] = csrf
    session["auth"] = {"access_token": pair["access_token"], "refresh_token": pair["refresh_token"],
                       "expires_at": int(time.time()) + int(pair.get("expires_in", 900)), "user": signed_in}


def require(*roles: str):
    """A page for people signed in (with one of `roles`, if named); others go to sign in."""
    def wrap(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            who = user()
            if who is None:
                return redirect(url_for("signin.start_page", next=request.full_path.rstrip("?")))
            if roles and who["role"] not in roles:
                abort(403)
            g.user = who
            return view(*args, **kwargs)
        return guarded
    return wrap


def home_for(who: dict) -> str:
    if who["role"] == "migrant":
        return url_for("me.timeline")
    if who["role"] == "family":
        return url_for("me.cases")
    return url_for("me.staff_home")


def after_sign_in(who: dict) -> str:
    target = i18n.safe_next(session.pop("next", None) or request.args.get("next"))
    return target if target != "/" else home_for(who)


@bp.get("/sign-in")
def start_page():
    if request.args.get("next"):
        session["next"] = i18n.safe_next(request.args["next"])
    return render_template("signin_phone.html", errors={}, phone="")


@bp.post("/sign-in/phone")
def ask_code():
    phone = request.form.get("phone", "").strip()
    if not phone:
        return render_template("signin_phone.html", phone=phone,
                               errors={"fields": {"phone": _("Enter your mobile number.")}}), 422
    try:
        backends().identity.post("/otp/requests", {"phone": phone, "language": i18n.lang()})
    except BackendError as exc:
        return render_template("signin_phone.html", phone=phone, errors=explain(exc, ("phone",))), 422
    session["pending_phone"] = phone
    return redirect(url_for("signin.code_page"))


@bp.get("/sign-in/code")
def code_page():
    if not session.get("pending_phone"):
        return redirect(url_for("signin.start_page"))
    return render_template("signin_code.html", phone=session["pending_phone"], errors={})


@bp.post("/sign-in/code")
def check_code():
    phone = session.get("pending_phone")
    if not phone:
        return redirect(url_for("signin.start_page"))
    code = request.form.get("code", "").strip()
    try:
        pair = backends().identity.post("/otp/verifications", {"phone": phone, "code": code})
    except BackendError as exc:
        refused = {401: _("That code is wrong or has expired. Check the SMS, or ask for a new code.")}
        return render_template("signin_code.html", phone=phone, errors=explain(exc, ("code",), refused)), 422
    target = session.pop("next", None)
    start(pair)
    if target:
        session["next"] = target
    return redirect(after_sign_in(user()))


@bp.route("/sign-in/staff", methods=["GET", "POST"])
def staff():
    if request.method == "GET":
        return render_template("signin_staff.html", username="", errors={}, change=False)
    form = request.form
    body = {"username": form.get("username", "").strip(), "password": form.get("password", "")}
    change = bool(form.get("change"))
    if change and form.get("new_password"):
        if form.get("new_password") != form.get("new_password_again"):
            return render_template("signin_staff.html", username=body["username"], change=True,
                                   errors={"fields": {"new_password_again": _("The two new passwords differ.")}}), 422
        body["new_password"] = form["new_password"]
    try:
        pair = backends().identity.post("/sessions", body)
    except BackendError as exc:
        if exc.slug == "password-change-required":
            return render_template("signin_staff.html", username=body["username"], change=True,
                                   errors={"form": _("Your password is temporary: choose your own to go on.")})
        refused = {401: _("The username or password is wrong.")}
        return render_template("signin_staff.html", username=body["username"], change=change,
                               errors=explain(exc, ("username", "password", "new_password"), refused)), 422
    target = session.pop("next", None)
    start(pair)
    if target:
        session["next"] = target
    return redirect(after_sign_in(user()))


@bp.post("/sign-out")
def sign_out():
    auth = session.get("auth")
    if auth:
        try:
            backends().identity.post("/sessions/sign-out", {"refresh_token": auth["refresh_token"]})
        except Exception:  # signed out here all the same; the refresh token expires by itself
            current_app.logger.warning("identity did not take the sign-out; the session ends here anyway")
    session.clear()
    return redirect(url_for("public.home"))


def init(app) -> None:
    app.register_blueprint(bp)

    @app.errorhandler(SignInNeeded)
    def _again(_exc):
        return redirect(url_for("signin.start_page", next=request.full_path.rstrip("?")))

    @app.context_processor
    def _who():
        return {"signed_in": user()}
