"""The console's forgotten-password pages: ask for a link, then choose a new password.

Open to everyone (no permission: who asks is not signed in); the rules are
``app.services.password_reset``'s, the same as the shop's and the API's.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose

from app.errors import DomainError
from app.extensions import limiter
from app.services import password_reset, password_policy


def _auth_rate_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


class PasswordResetView(BaseView):
    route_base = "/password"
    default_view = "forgot"

    @expose("/forgot", methods=["GET", "POST"])
    @limiter.limit(_auth_rate_limit, methods=["POST"])
    def forgot(self):
        error = None
        if request.method == "POST":
            try:
                password_reset.request_reset(request.form.get("email", ""))
            except DomainError as exc:
                error = exc.message
            else:
                flash(f"{password_reset.REQUESTED} The link works for "
                      f"{password_reset.max_age_minutes()} minutes.", "info")
                return redirect(url_for(self.appbuilder.sm.auth_view.endpoint + ".login"))
        return self.render_template("console/password_forgot.html", error=error,
                                    title="Forgot your password?"), 422 if error else 200

    @expose("/reset/<token>", methods=["GET", "POST"])
    @limiter.limit(_auth_rate_limit, methods=["POST"])
    def reset(self, token: str):
        error, password_error, link_works = None, None, True
        try:
            password_reset.check_token(token)
        except DomainError as exc:
            error, link_works = exc.message, False
        if link_works and request.method == "POST":
            try:
                password_reset.reset_password(token, password=request.form.get("password", ""))
            except DomainError as exc:
                error = exc.message
                password_error = " ".join((exc.errors or {}).get("password", []))
                link_works = "token" not in (exc.errors or {})
            else:
                flash("Your new password is set. Sign in with it; every other sign-in has "
                      "ended.", "success")
                return redirect(url_for(self.appbuilder.sm.auth_view.endpoint + ".login"))
        return self.render_template(
            "console/password_reset.html", token=token, error=error,
            password_error=password_error, link_works=link_works,
            min_length=password_policy.MIN_LENGTH, title="Choose a new password"
        ), 422 if error else 200
