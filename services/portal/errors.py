"""What a person reads when something goes wrong: a service's refusal as plain sentences in
their language next to the fields it concerns, and polite pages (service away, refused form,
not found) instead of a trace."""
from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .backends import BackendDown, BackendError
from .i18n import number

log = logging.getLogger("probashi.portal")


def field_sentence(name: str) -> str:
    """What to fix in one field the service refused (its own message is English and technical)."""
    known = {
        "phone": _("Enter a Bangladesh mobile number, for example 01712345678."),
        "code": _("The code is the 6 digits in the SMS."),
        "username": _("Enter your username."),
        "password": _("Enter your password."),
        "new_password": _("The new password needs at least 12 characters, must not be a common one and must not "
                          "contain your username."),
    }
    return known.get(name.rsplit(".", 1)[-1], _("Please check this field."))


def form_sentence(error: BackendError, by_status: dict | None = None) -> str:
    """One sentence for the whole form; `by_status` gives a page's own for a status (401 ...)."""
    if by_status and error.status in by_status:
        return by_status[error.status]
    if error.status == 429:
        minutes = max(1, -(-(error.retry_after or 60) // 60))
        return _("Too many tries. Please try again in %(minutes)s minutes.", minutes=number(minutes))
    if error.status == 422:
        return _("Some of what you entered needs fixing; see the notes beside the fields.")
    if error.status == 404:
        return _("We could not find that.")
    if error.status == 403:
        return _("You are not allowed to do this.")
    if error.status in (409, 412, 428):
        return _("Someone changed this at the same time. Please look at it again and try once more.")
    return _("The service could not accept this. Please check what you entered.")


def explain(error: BackendError, fields: tuple[str, ...] = (), by_status: dict | None = None) -> dict:
    """{"form": sentence or None, "fields": {field: sentence}} for a template. A field the form
    does not show gets its sentence at the form's top instead."""
    shown, rest = {}, []
    for name in error.field_errors:
        short = name.split(".", 1)[0]
        if short in fields:
            shown[short] = field_sentence(name)
        else:
            rest.append(name)
    message = form_sentence(error, by_status) if (rest or not shown or error.status != 422) else None
    return {"form": message, "fields": shown}


def register(app: Flask) -> None:
    @app.errorhandler(BackendDown)
    def _down(exc: BackendDown):
        return render_template("error.html", title=_("This service is not available right now"),
                               message=_("Part of Probashi is not answering at the moment. Nothing was changed. "
                                         "Please try again in a few minutes.")), 503

    @app.errorhandler(BackendError)
    def _refused(exc: BackendError):  # one a page did not handle itself
        titles = {403: _("You are not allowed to see this"), 404: _("Page not found")}
        status = exc.status if exc.status in titles else 400
        return render_template("error.html", title=titles.get(status, _("We could not do that")),
                               message=form_sentence(exc)), status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return render_template("error.html", title=_("This form has expired"),
                               message=_("For your safety the form could not be accepted. Please go back, reload "
                                         "the page and send it again.")), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        titles = {404: _("Page not found"), 405: _("Not allowed"), 403: _("You are not allowed to see this")}
        return render_template("error.html", title=titles.get(exc.code, _("Something went wrong")),
                               message=_("Please go back to the home page.")), exc.code

    @app.errorhandler(Exception)
    def _crash(exc: Exception):
        log.exception("unhandled error")
        return render_template("error.html", title=_("Something went wrong"),
                               message=_("Please try again. If it happens again, call the helpline.")), 500
