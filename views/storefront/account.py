"""Storefront: signing in, registering and signing out."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext
from flask_login import login_user, logout_user

from app.errors import DomainError, ValidationFailed
from app.extensions import limiter
from app.services import (
    accounts,
    email_verification,
    guest_checkout,
    password_reset,
    second_factor,
    sign_in_sessions,
    social_sign_in,
)
from app.services.roles import CUSTOMER
from views.security import SESSION_ID, end_current_session
from app.sign_in_intent import offered as offered_providers
from views.storefront.blueprint import (
    bp,
    current_customer,
    current_language,
    customer_required,
    local_path,
    path_of,
)
from views.storefront.shop_messages import field_errors, shop_message, staff_account_message


def _auth_rate_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def _after_sign_in():
    return redirect(local_path(request.values.get("next")) or url_for(".offerings"))


def shop_refusal(account) -> str | None:
    """Why ``account`` may not sign in to the shop, or None. The shop and the console
    share the session: an account with a second factor (staff and admins only) must not
    reach the console with a password, or another service's sign-in, alone."""
    if CUSTOMER not in account.role_names or second_factor.is_enabled(account.id):
        return staff_account_message()
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_auth_rate_limit, methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            account = accounts.authenticate(email=request.form.get("email", ""),
                                            password=request.form.get("password", ""))
        except DomainError as exc:
            error = shop_message(exc)
        else:
            error = shop_refusal(account)
            if not error:
                login_user(account)
                return _after_sign_in()
    return render_template("storefront/login.html", error=error,
                           next=local_path(request.values.get("next"))), 401 if error else 200


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_auth_rate_limit, methods=["POST"])
def register():
    error, errors = None, {}
    if request.method == "POST":
        form = request.form
        try:
            accounts.register_customer(
                email=form.get("email", ""), password=form.get("password", ""),
                first_name=form.get("first_name", ""), last_name=form.get("last_name", ""),
                locale=current_language())  # their messages follow the shop's language
        except DomainError as exc:
            error, errors = shop_message(exc), field_errors(exc)
        else:
            # Not signed in here: that would tell a new address from a registered one.
            # (The same answer as accounts.REGISTRATION_RECEIVED, in the page's language.)
            flash(gettext("Registration received: sign in with this email address and "
                          "password. If the address already had an account, nothing was "
                          "changed and we have emailed its holder instead."))
            return redirect(url_for(".login", next=local_path(request.values.get("next"))))
    return render_template("storefront/register.html", error=error, errors=errors,
                           form=request.form, min_password_length=accounts.MIN_PASSWORD_LENGTH,
                           next=local_path(request.values.get("next"))), 422 if error else 200


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_auth_rate_limit, methods=["POST"])
def forgot_password():
    """Ask for a link to choose a new password; the same answer for any address."""
    error, errors = None, {}
    if request.method == "POST":
        try:
            password_reset.request_reset(request.form.get("email", ""))
        except DomainError as exc:
            error, errors = shop_message(exc), field_errors(exc)
        else:
            flash(gettext("If an account has this email address, we have emailed it a link "
                          "to choose a new password. The link works for %(minutes)d "
                          "minutes.", minutes=password_reset.max_age_minutes()))
            return redirect(url_for(".login"))
    return render_template("storefront/forgot_password.html", error=error, errors=errors
                           ), 422 if error else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_auth_rate_limit, methods=["POST"])
def reset_password(token: str):
    """The emailed link: choose a new password, then sign in with it."""
    error, errors, link_works = None, {}, True
    try:
        password_reset.check_token(token)
    except DomainError as exc:
        error, link_works = shop_message(exc), False
    if link_works and request.method == "POST":
        try:
            password_reset.reset_password(token, password=request.form.get("password", ""))
        except DomainError as exc:
            error, errors = shop_message(exc), field_errors(exc)
            link_works = "token" not in (exc.errors or {})
        else:
            flash(gettext("Your new password is set. Sign in with it; every other sign-in "
                          "has ended."))
            return redirect(url_for(".login"))
    return render_template("storefront/reset_password.html", token=token, error=error,
                           errors=errors, link_works=link_works,
                           min_password_length=accounts.MIN_PASSWORD_LENGTH
                           ), (422 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    end_current_session()
    logout_user()
    return redirect(url_for(".offerings"))




@bp.route("/account/finish/<token>", methods=["GET", "POST"])
@limiter.limit(_auth_rate_limit, methods=["POST"])
def finish_account(token: str):
    """A guest, from the emailed link, chooses a password: their bookings are then in
    their account, and they are signed in."""
    guest_checkout.guest_to_finish(token)  # a dead or used link: the 404 page says so
    error, errors = None, {}
    if request.method == "POST":
        try:
            account = guest_checkout.finish_guest_account(
                token, password=request.form.get("password", ""))
        except ValidationFailed as exc:
            error, errors = shop_message(exc), field_errors(exc)
        else:
            login_user(account)
            flash(gettext("Your account is ready: your bookings are here."))
            return redirect(url_for(".my_bookings"))
    return render_template("storefront/finish_account.html", token=token, error=error,
                           errors=errors, min_password_length=accounts.MIN_PASSWORD_LENGTH
                           ), 422 if error else 200


@bp.route("/account/verify/<token>")
@limiter.limit(_auth_rate_limit)
def verify_email(token: str):
    """The emailed link: proves the address (opening it is the proof; no form to send)."""
    try:
        account = email_verification.verify(token)
    except DomainError as exc:
        return render_template("storefront/verify_email.html", verified=None,
                               error=shop_message(exc), customer=current_customer()), 422
    return render_template("storefront/verify_email.html", verified=account.email,
                           error=None, customer=current_customer())


def _verification_rate_limit() -> str:
    return current_app.config["EMAIL_VERIFICATION_RATE_LIMIT"]


def _customer_key() -> str:
    customer = current_customer()
    return f"account:{customer.id}" if customer else f"address:{request.remote_addr}"


@bp.route("/account/verify", methods=["POST"])
@customer_required
@limiter.limit(_verification_rate_limit, key_func=_customer_key)
def send_verification_link():
    """"Send the link again", from the notice on the account's pages."""
    customer = current_customer()
    if email_verification.request_link(customer.id):
        flash(gettext("We have emailed a new link to %(email)s. It works for %(hours)d "
                      "hours.", email=customer.email, hours=email_verification.max_age_hours()))
    else:
        flash(gettext("Your email address is verified already."))
    return redirect(local_path(path_of(request.referrer)) or url_for(".my_bookings"))


@bp.route("/account/sessions")
@customer_required
def my_sessions():
    """Where the customer is signed in (shop, API apps, in their time zone), to end any."""
    customer = current_customer()
    linked = {row.provider: row for row in social_sign_in.identities(customer.id)}
    sign_ins = [(key, social_sign_in.label(key), linked.get(key)) for key in
                social_sign_in.PROVIDER_KEYS if key in offered_providers() or key in linked]
    return render_template("storefront/sessions.html",
                           sessions=sign_in_sessions.active(customer.id),
                           current=session.get(SESSION_ID), zone=customer.timezone or "UTC",
                           sign_ins=sign_ins, has_password=bool(customer.password))


@bp.route("/account/email", methods=["POST"])
@customer_required
@limiter.limit(_verification_rate_limit, key_func=_customer_key)
def change_email():
    """A new address: needs the current one verified (``change_email``); the new one is
    mailed a link and counts as unverified until it is opened."""
    customer = current_customer()
    try:
        accounts.update_profile(user=customer, changes={"email": request.form.get("email", "")})
    except DomainError as exc:
        flash(shop_message(exc))
    else:
        flash(gettext("Your email address is now %(email)s. We have emailed it a link: open "
                      "it to verify the address.", email=customer.email))
    return redirect(url_for(".my_sessions"))


@bp.route("/account/sessions/<session_id>/end", methods=["POST"])
@customer_required
def end_session(session_id: str):
    try:
        sign_in_sessions.end(current_customer().id, session_id)
    except DomainError:
        flash(gettext("That sign-in had ended already."))
    else:
        flash(gettext("Signed out there."))
    return redirect(url_for(".my_sessions"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@customer_required
def end_other_sessions():
    ended = sign_in_sessions.end_all(current_customer().id, keep=session.get(SESSION_ID))
    flash(ngettext("Signed out of %(num)d other place.", "Signed out of %(num)d other places.",
                   ended))
    return redirect(url_for(".my_sessions"))
