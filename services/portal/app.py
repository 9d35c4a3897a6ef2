"""The portal's app factory: config, sessions, security, language, pages."""
from __future__ import annotations

from flask import Flask, Response, jsonify, request

from shared import logs, mongo
from shared.http.app import BodyReadTimeout, add_liveness, trace_requests
from shared.http.metrics import add_metrics

from . import errors, i18n, labels, security, signin
from .backends import Backends
from .config import PortalConfig
from .pages import admin, admin_catalogue, admin_guide, legalaid, me, officer, papers, public, udc
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
    app.jinja_env.filters["district"] = labels.district_name
    signin.init(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(me.bp)
    app.register_blueprint(legalaid.bp)
    app.register_blueprint(officer.bp)
    app.register_blueprint(udc.bp)
    app.register_blueprint(papers.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_guide.bp)
    app.register_blueprint(admin_catalogue.bp)

    trace_requests(app, trust_incoming_ids=False)  # a browser's X-Request-ID is not taken as ours
    add_metrics(app, SERVICE)
    add_liveness(app)

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
