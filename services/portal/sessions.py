"""Server-side sessions: the cookie holds only an opaque random id; what the session knows
(who signed in, their tokens, the CSRF token, a phone waiting for its code) stays in the
portal's own database, keyed by the SHA-256 of that id - a copy of the database is no
cookie. Sessions end after `session_idle_seconds` without a request (a TTL index removes them).
Signing in gives the session a new id (`regenerate`), so an id planted before sign-in is worthless.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol

from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

log = logging.getLogger("probashi.portal.sessions")

# A session's expiry moves on with each request, but is written at most this often unless it changed.
TOUCH_SECONDS = 300


def now() -> datetime:
    return datetime.now(timezone.utc)


def key_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(Protocol):
    def load(self, key: str) -> tuple[dict, datetime] | None: ...
    def save(self, key: str, data: dict, expires_at: datetime) -> None: ...
    def delete(self, key: str) -> None: ...


class MongoSessionStore:
    def __init__(self, db):
        self.sessions = db["sessions"]

    @staticmethod
    def create_indexes(db) -> None:
        db["sessions"].create_index("expires_at", expireAfterSeconds=0)

    def load(self, key):
        row = self.sessions.find_one({"_id": key})
        if not row:
            return None
        expires_at = row["expires_at"]
        return row["data"], expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=timezone.utc)

    def save(self, key, data, expires_at):
        self.sessions.replace_one({"_id": key}, {"_id": key, "data": data, "expires_at": expires_at}, upsert=True)

    def delete(self, key):
        self.sessions.delete_one({"_id": key})


class MemorySessionStore:
    """For unit tests and a portal run without a database; one process only."""

    def __init__(self):
        self.rows: dict = {}
        self.lock = threading.Lock()

    def load(self, key):
        with self.lock:
            return self.rows.get(key)

    def save(self, key, data, expires_at):
        with self.lock:
            self.rows[key] = (dict(data), expires_at)

    def delete(self, key):
        with self.lock:
            self.rows.pop(key, None)


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, data=None, session_id: str | None = None, expires_at: datetime | None = None):
        def on_update(_self):
            self.modified = True

        super().__init__(data or {}, on_update)
        self.session_id, self.expires_at = session_id, expires_at
        self.modified = False
        self.regenerated_from: str | None = None

    def regenerate(self) -> None:
        """A new id for this session (at sign-in); the old one is deleted when the answer goes out."""
        if self.session_id and not self.regenerated_from:
            self.regenerated_from = self.session_id
        self.session_id = None
        self.modified = True


class ServerSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore, idle_seconds: int, secure: bool):
        self.store, self.idle = store, timedelta(seconds=idle_seconds)
        # __Host-: the browser keeps it only from https, for this host and path / (no Domain).
        self.cookie_name = "__Host-portal_session" if secure else "portal_session"
        self.secure = secure

    def open_session(self, app, request):
        session_id = request.cookies.get(self.cookie_name, "")
        if 20 <= len(session_id) <= 100:
            try:
                row = self.store.load(key_of(session_id))
            except Exception:  # the database is away: public pages still work, signed out
                log.warning("the session store did not answer; serving this request without the session")
                return ServerSession()
            if row and row[1] > now():
                return ServerSession(row[0], session_id, row[1])
        return ServerSession()

    def stored(self, session: ServerSession) -> dict | None:
        """What the store holds now for this session (another request may have changed it)."""
        if not session.session_id:
            return None
        row = self.store.load(key_of(session.session_id))
        return row[0] if row else None

    def store_now(self, session: ServerSession) -> None:
        """Writes the session before the answer goes out (a refreshed token other requests wait for)."""
        if session.session_id:
            self.store.save(key_of(session.session_id), dict(session), now() + self.idle)

    def save_session(self, app, session: ServerSession, response):
        if session.regenerated_from:
            self.store.delete(key_of(session.regenerated_from))
        if not session:
            if session.session_id:  # emptied (signed out): forget it here and in the browser
                self.store.delete(key_of(session.session_id))
                response.delete_cookie(self.cookie_name, path="/", secure=self.secure, httponly=True, samesite="Lax")
            return
        expires_at = now() + self.idle
        touch_due = session.expires_at is None or expires_at - session.expires_at > timedelta(seconds=TOUCH_SECONDS)
        if not (session.modified or touch_due or session.session_id is None):
            return
        if session.session_id is None:
            session.session_id = secrets.token_urlsafe(32)
        self.store.save(key_of(session.session_id), dict(session), expires_at)
        response.set_cookie(self.cookie_name, session.session_id, path="/", secure=self.secure, httponly=True,
                            samesite="Lax")
        response.vary.add("Cookie")
