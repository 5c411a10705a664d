"""Bookwell: a multi-tenant booking and commerce platform.

``create_app`` builds one Flask app that serves the console (Flask-AppBuilder at ``/``)
and the REST API (flask-smorest at ``/api/v1``). The console, API and job packages are
registered by name so that nothing in ``app`` imports them.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from flask_appbuilder import AppBuilder
from flask_cors import CORS
from werkzeug.routing import IntegerConverter

from app import message_catalogues, metrics, pool_checks, rate_limits, request_actor, \
    security_headers, tracing
from app import models  # noqa: F401  every table registered before anything reflects
from app.extensions import AUTOCOMMIT_BIND, csrf, db, limiter, migrate
from app.services import audit, cache  # noqa: F401  their listeners must exist before a flush
from app.logging import configure_logging
from app.session_cookie import CookieSessionInterface
from config import BASE_DIR, TRANSLATIONS_DIR, Config, engine_options

MIGRATIONS_DIR = BASE_DIR / "migrations"


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in routes: at most 2,147,483,647, PostgreSQL's integer."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(overrides: dict | None = None) -> Flask:
    settings = Config().as_dict()
    settings.update(overrides or {})
    if "SQLALCHEMY_ENGINE_OPTIONS" not in (overrides or {}):
        # The options follow the database actually used, also when a caller chose it.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            settings["SQLALCHEMY_DATABASE_URI"], settings["DB_LOCK_TIMEOUT_MS"],
            settings["DB_RANDOM_PAGE_COST"])
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A second pool on the same database whose connections stay in autocommit, for
        # statements atomic on their own (placing a booking): switching a pooled
        # connection into autocommit and back on every checkout costs each booking CPU.
        # (Flask-SQLAlchemy gives a bind none of the default engine's options: copy them.)
        settings["SQLALCHEMY_BINDS"] = {
            **(settings.get("SQLALCHEMY_BINDS") or {}),
            AUTOCOMMIT_BIND: {**settings["SQLALCHEMY_ENGINE_OPTIONS"],
                              "url": settings["SQLALCHEMY_DATABASE_URI"],
                              "isolation_level": "AUTOCOMMIT"}}
    Path(settings["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_DIR"],
        template_folder=str(BASE_DIR / "templates"),
        static_folder=None,
    )
    app.config.update(settings)
    if app.config.get("PROXY_FIX_HOPS"):
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops)
    app.session_interface = CookieSessionInterface()
    # Integer path segments that no database id can be answer 404 before any query runs.
    app.url_map.converters["int"] = DatabaseIdConverter
    configure_logging(app)
    security_headers.init_app(app)  # first: an oversized body is refused before it is read

    db.init_app(app)
    with app.app_context():
        metrics.init_app(app, db.engines)  # requests and the pools of every bind
        pool_checks.init_app(db.engines)
    request_actor.init_app(app)  # before any hook that may write an audit entry
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    message_catalogues.compile_stale(TRANSLATIONS_DIR)  # Flask-AppBuilder starts Flask-Babel

    with app.app_context():
        appbuilder = AppBuilder(update_perms=app.config["FAB_UPDATE_PERMS"])
        appbuilder.init_app(app, db.session)
        importlib.import_module("views").register_views(appbuilder)
        importlib.import_module("views.list_arguments").guard_list_arguments(app, appbuilder)
        importlib.import_module("views").register_storefront(app)
        importlib.import_module("views").register_jobs_dashboard(app)

    importlib.import_module("api").init_api(app)
    if app.config["CORS_ORIGINS"]:
        CORS(app, resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}},
             expose_headers=["X-Request-ID", "X-Pagination", "ETag"])
    app.register_blueprint(importlib.import_module("api.health").blp)
    app.register_blueprint(importlib.import_module("api.metrics").blp)
    rate_limits.check_only_where_limited(app, limiter)

    from app.cli import bookwell

    app.cli.add_command(bookwell)
    from app.services import event_handlers

    event_handlers.register(app.config)  # web, worker and CLI processes react alike

    if not app.config.get("REDIS_URL") and not app.config.get("TESTING"):
        from app.services import housekeeping

        @app.before_request
        def embedded_housekeeping():
            housekeeping.run_if_due()  # returns nothing: a value would replace the response

    @app.teardown_appcontext
    def remove_session(exc=None):
        db.session.remove()

    with app.app_context():
        tracing.init_app(app, db.engines)  # last: it wraps the finished app
    return app
