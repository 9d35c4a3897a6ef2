"""Security by default on every answer: CSRF tokens on every form (Flask-WTF's CSRFProtect:
a POST without its token is refused with 400), a strict Content-Security-Policy (this site
only, no inline script or style), no framing, no sniffing, and only the origin as referrer."""
from __future__ import annotations

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'",
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), microphone=(), payment=()",
}

csrf = CSRFProtect()


def href(url) -> str:
    """A link from a service's data: http(s) or a path on this site, never javascript: or data:."""
    text = str(url or "").strip()
    if text.lower().startswith(("https://", "http://")) or (text.startswith("/") and not text.startswith("//")):
        return text
    return "#"


def init(app: Flask) -> None:
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    app.config["WTF_CSRF_SSL_STRICT"] = True  # over https, a POST from another origin (Referer) is refused too
    csrf.init_app(app)
    app.jinja_env.filters["href"] = href

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")  # pages may show personal data
        return response
