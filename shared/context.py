"""Who and what caused the work in progress: carried from a request or an event into
the events it raises and into every log line."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class TraceContext:
    correlation_id: str | None = None
    causation_id: str | None = None
    request_id: str | None = None


_current: contextvars.ContextVar[TraceContext] = contextvars.ContextVar("trace", default=TraceContext())


def current() -> TraceContext:
    return _current.get()


def set_current(ctx: TraceContext) -> contextvars.Token:
    return _current.set(ctx)


@contextmanager
def tracing(**fields):
    token = _current.set(replace(_current.get(), **fields))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
