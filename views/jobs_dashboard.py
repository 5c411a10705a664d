"""The RQ dashboard (queues, workers, failed jobs) inside the console, for admins only.

rq-dashboard ships a blueprint without authentication. It is mounted at ``/admin/rq``
only when ``REDIS_URL`` is configured, and every request of the blueprint (pages, JSON,
static files, the POST actions) first passes ``require_admin``: anonymous users are sent
to the console login, signed-in users without the Admin role get 403.

The blueprint is a module-level object shared by every app built in the process, so the
hooks are added to this app's per-blueprint hook lists, never to the blueprint itself.
"""
from __future__ import annotations

from flask import abort, current_app, has_request_context, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.redis import redis_client
from views.base import user_is_admin
from views.menu import PLATFORM

URL_PREFIX = "/admin/rq"
BLUEPRINT = "rq_dashboard"
MENU_NAME = "Jobs"
MENU_CATEGORY = PLATFORM.name
# The dashboard's scripts send this cookie back as the X-CSRFToken header on their POSTs.
CSRF_COOKIE = "_csrf_token"


def require_admin():
    if not (current_user.is_authenticated and current_user.is_active):
        return redirect(current_app.appbuilder.get_url_for_login_with(request.full_path))
    if not user_is_admin(current_user):
        abort(403)
    return None


def use_app_redis():
    """Serve the default instance over the app's own Redis client (one pool per process)
    instead of the new client rq-dashboard makes for every request."""
    urls = current_app.config.get("RQ_DASHBOARD_REDIS_URL") or ()
    if (list(urls) == [current_app.config["REDIS_URL"]]
            and request.view_args.get("instance_number") in (None, 0)):
        current_app.redis_conn = redis_client()


def set_csrf_cookie(response):
    """The dashboard's POSTs (requeue, delete, empty) pass CSRF protection with the
    session's token, read by its scripts from a cookie only this path receives."""
    if (current_app.config.get("WTF_CSRF_ENABLED", True) and response.status_code == 200
            and response.mimetype == "text/html" and user_is_admin(current_user)):
        response.set_cookie(CSRF_COOKIE, generate_csrf(), path=URL_PREFIX, samesite="Strict",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def dashboard_static_url(error, endpoint, values):
    """rq-dashboard links its favicon through the app's ``static`` endpoint, which this
    app does not have (a BuildError, so a 500): point it at the blueprint's own."""
    if endpoint == "static" and has_request_context() and request.blueprint == BLUEPRINT:
        if values.get("filename") == "favicon.ico":
            return url_for(f"{BLUEPRINT}.favicon")
        return url_for(f"{BLUEPRINT}.static", **values)
    return None


def register_jobs_dashboard(app) -> None:
    """Mount the dashboard and its menu link; without ``REDIS_URL`` there is nothing to show."""
    if not app.config.get("REDIS_URL"):
        return
    import rq_dashboard
    from rq_dashboard.web import setup_rq_connection

    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 5000)
    setup_rq_connection(app)  # makes a client; it connects on first use only
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
    before = app.before_request_funcs.setdefault(BLUEPRINT, [])
    before.insert(0, require_admin)  # ahead of rq-dashboard's own hook
    before.append(use_app_redis)  # after it: it picks the instance's connection
    app.after_request_funcs.setdefault(BLUEPRINT, []).append(set_csrf_cookie)
    app.url_build_error_handlers.append(dashboard_static_url)
    app.appbuilder.add_link(MENU_NAME, href=f"{URL_PREFIX}/", icon="fa-tasks",
                            category=MENU_CATEGORY)


__all__ = ["register_jobs_dashboard"]
