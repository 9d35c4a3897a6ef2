"""Errors as application/problem+json (RFC 9457), with a message per bad field."""
from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from marshmallow import ValidationError
from pymongo.errors import PyMongoError
from werkzeug.exceptions import HTTPException

from shared import context
from shared.errors import DomainError, Invalid
from shared.mongo import UNAVAILABLE

log = logging.getLogger("probashi.http")
PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str | None = None, *, slug: str | None = None,
                 errors: dict | None = None, headers: dict | None = None, **extra):
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.errors, self.headers, self.extra = errors, headers or {}, extra

    def body(self) -> dict:
        body = {"type": f"urn:probashi:problem:{self.slug}", "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        body["instance"] = request.path if request else None
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        trace = context.current()
        if trace.request_id:
            body["request_id"] = trace.request_id
        return body


def invalid(errors: dict, detail: str = "Some fields are not valid; see errors.") -> Problem:
    return Problem(422, "Validation failed", detail, slug="validation", errors=errors)


def not_found(what: str) -> Problem:
    return Problem(404, "Not found", f"No {what} with that identifier.", slug="not-found")


def forbidden(detail: str = "Your role does not allow this.") -> Problem:
    return Problem(403, "Forbidden", detail, slug="forbidden")


def problem_response(problem: Problem) -> Response:
    response = Response(json.dumps(problem.body(), ensure_ascii=False), status=problem.status,
                        mimetype=PROBLEM_JSON)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def _outcome_unknown(exc: BaseException) -> bool:
    return isinstance(exc, PyMongoError) and exc.has_error_label("UnknownTransactionCommitResult")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem):
        return problem_response(exc)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        errors = exc.errors if isinstance(exc, Invalid) else None
        return problem_response(Problem(exc.status, exc.title, exc.detail, slug=exc.slug, errors=errors, **exc.extra))

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return problem_response(invalid(messages))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        # What werkzeug's exception carries besides its HTML type: 405's Allow (from valid_methods) ...
        headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
        if exc.code == 408:  # the rest of a stalled body must not be waited for
            headers["Connection"] = "close"
        return problem_response(Problem(exc.code or 500, exc.name, exc.description, headers=headers))

    def _database_down(exc):
        log.error("database unavailable: %s", exc)
        if _outcome_unknown(exc):
            # The commit was sent but its answer was lost: saying "nothing was changed" could
            # make a client send it again, or give up on a change that was made.
            return problem_response(Problem(
                503, "Outcome unknown", "The database stopped answering while your change was being saved, so it "
                "may have been made. Look at the record again before sending the change a second time.",
                slug="outcome-unknown", headers={"Retry-After": "5"}))
        return problem_response(Problem(503, "Service unavailable",
                                        "The database is not reachable right now; nothing was changed. Try again shortly.",
                                        slug="unavailable", headers={"Retry-After": "5"}))

    for error in UNAVAILABLE:
        app.register_error_handler(error, _database_down)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if _outcome_unknown(exc):
            return _database_down(exc)
        log.exception("unhandled error")
        return problem_response(Problem(500, "Internal error", "Something went wrong on our side; it has been logged.",
                                        slug="internal"))
