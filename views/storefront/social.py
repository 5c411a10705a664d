"""Storefront: "Continue with Google/Apple/Facebook", and linking or unlinking those
sign-ins on the account page (:mod:`views.social_sign_in` runs the sign-in itself)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext

from app.errors import DomainError
from app.services import social_sign_in, verified_actions
from app import sign_in_intent as social
from views.storefront.blueprint import bp, current_customer, customer_required, local_path
from views.storefront.shop_messages import social_message


@bp.route("/sign-in/<provider>")
def social_sign_in_start(provider: str):
    """Sign in (or register) with ``provider``; ``next`` is where to go afterwards (the
    chosen time of a booking, say)."""
    if provider not in social.offered():
        abort(404)
    return social.start(provider, {"purpose": social.SHOP,
                                   "next": local_path(request.args.get("next"))})


# A link, not a form: the page's Content-Security-Policy (form-action 'self') would stop
# a form's redirect to the provider. Starting changes nothing; the callback checks that
# the same customer is still signed in, and the provider asks the person to agree.
@bp.route("/account/sign-ins/<provider>/link")
@customer_required
def link_sign_in(provider: str):
    if provider not in social.offered():
        abort(404)
    customer = current_customer()
    if verified_actions.waits_for_verification(customer, "link_social"):
        flash(social_message("account.email_unverified", "", provider))
        return redirect(url_for(".my_sessions"))
    return social.start(provider, {"purpose": social.LINK, "account_id": customer.id})


@bp.route("/account/sign-ins/<provider>/unlink", methods=["POST"])
@customer_required
def unlink_sign_in(provider: str):
    if provider not in social_sign_in.PROVIDER_KEYS:
        return redirect(url_for(".my_sessions"))
    try:
        social_sign_in.unlink(current_customer(), provider)
    except DomainError as exc:
        flash(social_message(exc.code, exc.message, provider))
    else:
        flash(gettext("%(provider)s is unlinked.", provider=social_sign_in.label(provider)))
    return redirect(url_for(".my_sessions"))
