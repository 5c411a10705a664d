"""The console's own password forms (Flask-AppBuilder's "Reset my password" and an admin's
"Reset password" for a user) under the one password rule; a change ends the account's
other sign-ins, as a reset does. Routed through the security manager's public
``reset_password`` hook and view classes."""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.views import ResetMyPasswordView, ResetPasswordView
from wtforms import PasswordField
from wtforms.validators import DataRequired, ValidationError

from app.errors import ValidationFailed
from app.models.types import MAX_ID
from app.services import password_policy, password_reset


def _account_id_being_changed() -> int | None:
    """Whose password the form sets: the admin's form names the user as ``pk``."""
    if not request.path.startswith("/resetpassword"):
        return g.user.id
    pk = request.args.get("pk", "")
    return int(pk) if pk.isdigit() and 0 < int(pk) <= MAX_ID else None


def _follows_the_password_rule(form, field):
    try:
        password_reset.check_password_for(_account_id_being_changed(), field.data or "")
    except ValidationFailed as exc:
        raise ValidationError(" ".join(exc.errors.get("password", [])) or exc.message)


def _new_users_password_follows_the_rule(form, field):
    """An admin's "Add user": the same rule, the new user's email and names counted."""
    names = tuple(getattr(form, name).data for name in ("first_name", "last_name")
                  if getattr(form, name, None) is not None and getattr(form, name).data)
    email = form.email.data if getattr(form, "email", None) is not None else ""
    try:
        password_policy.check_password(field.data or "", email=email or "", names=names)
    except ValidationFailed as exc:
        raise ValidationError(" ".join(exc.errors.get("password", [])) or exc.message)


NEW_USER_PASSWORD = PasswordField(
    "Password", description="At least 8 characters and not easy to guess.",
    validators=[DataRequired(), _new_users_password_follows_the_rule],
    widget=BS3PasswordFieldWidget())


class BookwellResetPasswordForm(ResetPasswordForm):
    password = PasswordField(
        "Password", description="At least 8 characters and not easy to guess.",
        validators=[DataRequired(), _follows_the_password_rule],
        widget=BS3PasswordFieldWidget())


class BookwellResetMyPasswordView(ResetMyPasswordView):
    class_permission_name = "ResetMyPasswordView"  # the roles' existing permissions
    form = BookwellResetPasswordForm


class BookwellResetPasswordView(ResetPasswordView):
    class_permission_name = "ResetPasswordView"
    form = BookwellResetPasswordForm
