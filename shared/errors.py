"""Errors the service layer raises, free of HTTP; the API turns each into problem+json."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status, title, slug = 404, "Not found", "not-found"


class Forbidden(DomainError):
    status, title, slug = 403, "Forbidden", "forbidden"


class Conflict(DomainError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(DomainError):
    status, title, slug = 412, "Precondition failed", "stale-version"


class PreconditionRequired(DomainError):
    status, title, slug = 428, "Precondition required", "if-match-required"


class Invalid(DomainError):
    """Input that passed the schema but breaks a rule of the domain."""
    status, title, slug = 422, "Validation failed", "validation"

    def __init__(self, errors: dict[str, list[str]], detail: str = "Some fields are not valid; see errors."):
        super().__init__(detail)
        self.errors = errors


class PermanentError(Exception):
    """Raised by an event handler when no retry can succeed (the event itself is unusable):
    the consumer sends it straight to the dead-letter queue."""
