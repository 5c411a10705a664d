"""Storefront: signing in, registering and signing out."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from app.errors import DomainError
from app.extensions import limiter
from app.services import accounts
from app.services.roles import CUSTOMER
from views.storefront.blueprint import bp, current_language, local_path

def _auth_rate_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def _after_sign_in():
    return redirect(local_path(request.values.get("next")) or url_for(".offerings"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_auth_rate_limit, methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            account = accounts.authenticate(email=request.form.get("email", ""),
                                            password=request.form.get("password", ""))
        except DomainError as exc:
            error = exc.message
        else:
            if CUSTOMER not in account.role_names:
                error = "This is a staff account: sign in to the console instead."
            else:
                login_user(account)
                return _after_sign_in()
    return render_template("storefront/login.html", error=error,
                           next=local_path(request.values.get("next"))), 401 if error else 200


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_auth_rate_limit, methods=["POST"])
def register():
    error = None
    if request.method == "POST":
        form = request.form
        try:
            accounts.register_customer(
                email=form.get("email", ""), password=form.get("password", ""),
                first_name=form.get("first_name", ""), last_name=form.get("last_name", ""),
                locale=current_language())  # their messages follow the shop's language
        except DomainError as exc:
            error = exc.message + "".join(
                f" {' '.join(messages)}" for messages in (exc.errors or {}).values())
        else:
            # Not signed in here: that would tell a new address from a registered one.
            flash(accounts.REGISTRATION_RECEIVED)
            return redirect(url_for(".login", next=local_path(request.values.get("next"))))
    return render_template("storefront/register.html", error=error, form=request.form,
                           next=local_path(request.values.get("next"))), 422 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    return redirect(url_for(".offerings"))


