"""Console screens for two-factor sign-in: one's own ("Two-factor sign-in" in the user
menu: set up an authenticator app, recovery codes, turn off) and an admin's reset of
someone else's. The rules are ``app.services.second_factor``'s."""
from __future__ import annotations

import qrcode
import qrcode.image.svg
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_login import current_user
from markupsafe import Markup

from app.errors import DomainError, Forbidden, NotFound
from app.services import second_factor
from views.base import console_scope

_NO_STORE = {"Cache-Control": "no-store"}  # secrets and recovery codes stay out of caches


def qr_code_svg(text: str) -> Markup:
    """``text`` as an inline SVG QR code (drawn here: no image service, no script)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    svg = image.to_string(encoding="unicode")
    # Sized by the page's stylesheet rather than in millimetres.
    svg = svg.replace('width="', 'data-width="', 1).replace('height="', 'data-height="', 1)
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code for your '
                                       'authenticator app" class="qr-code" ', 1))


class SecondFactorView(BaseView):
    """The signed-in person's own two-factor sign-in."""

    route_base = "/account/two-factor"
    default_view = "status"
    class_permission_name = "SecondFactorView"
    method_permission_name = {name: "manage" for name in
                              ("status", "start", "confirm", "recovery_codes", "disable")}
    base_permissions = ["can_manage"]

    def _page(self, *, codes=None, error=None, code_error=None, status_code=200):
        account_id = current_user.id
        state = second_factor.status(account_id)
        enrolment = second_factor.pending_enrolment(account_id) if state.enrolling else None
        return self.render_template(
            "console/two_factor.html", title="Two-factor sign-in", state=state,
            enrolment=enrolment, qr_code=qr_code_svg(enrolment.uri) if enrolment else None,
            codes=codes, error=error, code_error=code_error,
            required=second_factor.required_for(current_user),
        ), status_code, _NO_STORE

    @expose("/", methods=["GET"])
    @has_access
    def status(self):
        return self._page()

    @expose("/start", methods=["POST"])
    @has_access
    def start(self):
        try:
            second_factor.begin_enrolment(current_user.id)
        except DomainError as exc:
            flash(exc.message, "warning")
        return redirect(url_for(".status"))

    @expose("/confirm", methods=["POST"])
    @has_access
    def confirm(self):
        try:
            codes = second_factor.confirm_enrolment(current_user.id,
                                                    request.form.get("code", ""))
        except DomainError as exc:
            return self._page(code_error=exc.message, status_code=422)
        flash("Two-factor sign-in is on. From now on you sign in with your password and a "
              "code from your app.", "success")
        return self._page(codes=codes)

    @expose("/recovery-codes", methods=["POST"])
    @has_access
    def recovery_codes(self):
        try:
            codes = second_factor.regenerate_recovery_codes(current_user.id,
                                                            request.form.get("code", ""))
        except DomainError as exc:
            return self._page(error=exc.message, status_code=422)
        flash("New recovery codes: the old ones no longer work.", "success")
        return self._page(codes=codes)

    @expose("/disable", methods=["POST"])
    @has_access
    def disable(self):
        try:
            second_factor.disable(current_user.id, request.form.get("disable_code", ""))
        except DomainError as exc:
            return self._page(error=exc.message, status_code=422)
        flash("Two-factor sign-in is off.", "info")
        return redirect(url_for(".status"))


class SecondFactorResetView(BaseView):
    """An admin removes a user's second factor (their phone is lost): a confirmation page,
    then the reset. Staff have no permission here; the service refuses them as well."""

    route_base = "/users/two-factor"
    default_view = "reset"
    class_permission_name = "SecondFactorResetView"
    base_permissions = ["can_reset"]

    @expose("/reset/<int:pk>", methods=["GET", "POST"])
    @has_access
    def reset(self, pk: int):
        scope = console_scope()
        try:
            account = second_factor.account_in_scope(pk, scope=scope)
        except NotFound:
            abort(404)
        if request.method == "POST":
            try:
                second_factor.reset_by_admin(pk, scope=scope)
            except NotFound:
                abort(404)
            except Forbidden:
                abort(403)
            flash(f"Two-factor sign-in of {account.get_full_name()} is reset. They sign in "
                  "with their password and set up a new app.", "success")
            return redirect(url_for("BookwellUserDBModelView.show", pk=pk))
        return self.render_template(
            "console/two_factor_reset.html", title="Reset second factor", account=account,
            enabled=second_factor.is_enabled(pk),
            show_url=url_for("BookwellUserDBModelView.show", pk=pk))
