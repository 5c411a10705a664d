"""Storefront: the customer's bookings as a calendar feed their calendar app follows."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext

from app.services import calendar_feeds
from views.storefront.blueprint import bp, current_customer, customer_required


def feed_url(token: str) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return base + url_for("calendar_feeds.FeedViews", token=token)


@bp.route("/account/calendar-feed", methods=["POST"])
@customer_required
def make_calendar_feed():
    """A new secret address (the old one, if any, stops working); shown once."""
    url = feed_url(calendar_feeds.make_customer_feed(current_customer().id))
    flash(gettext("Subscribe to this address in your calendar app: %(url)s — keep it to "
                  "yourself: anyone with it sees your bookings. It is shown only now.",
                  url=url))
    return redirect(url_for(".my_bookings"))


@bp.route("/account/calendar-feed/stop", methods=["POST"])
@customer_required
def stop_calendar_feed():
    calendar_feeds.stop_customer_feed(current_customer().id)
    flash(gettext("Your calendar feed is stopped; its address no longer works."))
    return redirect(url_for(".my_bookings"))
