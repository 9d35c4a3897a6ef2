"""The portal's app factory: config, sessions, security, language, pages."""
from __future__ import annotations

import time
import uuid

from flask import Flask, Response, g, jsonify, request

from shared import context, logs, mongo
from shared.http.app import BodyReadTimeout

from . import errors, i18n, labels, security, signin
from .backends import Backends
from .config import PortalConfig
from .pages import legalaid, me, officer, papers, public, udc
from .pages.udc_forms import allow_uploads
from .sessions import MongoSessionStore, ServerSessionInterface, SessionStore

SERVICE = "portal"


def create(config: PortalConfig | None = None, store: SessionStore | None = None, backends: Backends | None = None,
           configure_logging: bool = True) -> Flask:
    """`store`: the session store (tests give a MemorySessionStore); by default the portal's own
    MongoDB database (MONGO_URI, database probashi_portal)."""
    config = config or PortalConfig.from_env()
    settings = config.settings
    if configure_logging:
        logs.configure(f"{SERVICE}-web", settings.log_level)
    db = None
    if store is None:
        db = mongo.database(settings)
        mongo.prepare(db, [MongoSessionStore.create_indexes])
        store = MongoSessionStore(db)
    app = Flask(__name__)
    app.config.update(PORTAL=config, SECRET_KEY=config.secret_key, MAX_CONTENT_LENGTH=64 * 1024,
                      BACKENDS=backends or Backends(config.backend_urls, config.connect_timeout, config.read_timeout))
    app.wsgi_app = BodyReadTimeout(app.wsgi_app, settings.body_read_timeout)  # a stalled form post: 408
    app.session_interface = ServerSessionInterface(store, config.session_idle_seconds, config.cookie_secure)
    app.jinja_env.autoescape = True  # every template, whatever its name: nothing typed is rendered raw
    allow_uploads(app)  # before CSRF's check reads a form: only upload forms take a photo's size
    security.init(app)
    i18n.init(app)
    errors.register(app)
    app.jinja_env.filters["docname"] = labels.document_name
    signin.init(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(me.bp)
    app.register_blueprint(legalaid.bp)
    app.register_blueprint(officer.bp)
    app.register_blueprint(udc.bp)
    app.register_blueprint(papers.bp)

    @app.before_request
    def _trace():
        g.started = time.perf_counter()
        request_id = str(uuid.uuid4())
        g.trace_token = context.set_current(context.TraceContext(request_id, request_id, request_id))

    @app.teardown_request
    def _untrace(_exc):
        token = g.pop("trace_token", None)
        if token is not None:
            context.reset(token)

    @app.get("/health/live")
    def live():
        return jsonify(status="ok")

    @app.get("/health/ready")
    def ready():
        if db is not None:
            try:
                mongo.ping(db)
            except Exception:
                return jsonify(status="unavailable", checks={"database": "unavailable"}), 503
        return jsonify(status="ok")

    @app.after_request
    def _static_cache(response: Response) -> Response:
        if request.path.startswith("/static/fonts/"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    return app
