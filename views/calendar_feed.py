"""Console screen: the provider's bookings as a calendar feed (a secret address the team's
calendar apps subscribe to). Staff manage their provider's; admins pick a provider first.
The rules are in ``app.services.calendar_feeds``."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.errors import NotFound
from app.services import agenda, calendar_feeds, display_formats
from views.base import chosen_provider_id, console_scope


class CalendarFeedView(BaseView):
    route_base = "/calendar-feed"
    default_view = "feed"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def feed(self):
        scope = console_scope()
        provider_id = scope.provider_id if not scope.every_provider else chosen_provider_id()
        if provider_id is None:  # an admin who has not picked a provider yet
            return self.render_template(
                "console/provider_choice.html", title="Calendar feed", what="calendar feed",
                endpoint=f"{self.endpoint}.feed", providers=agenda.agenda_providers())
        try:
            if request.method == "POST" and request.form.get("action") == "stop":
                calendar_feeds.stop_provider_feed(provider_id, scope=scope)
                flash("The calendar feed is stopped: its address no longer works.", "success")
                return redirect(self._here(scope, provider_id))
            if request.method == "POST":
                token = calendar_feeds.make_provider_feed(provider_id, scope=scope)
                flash("The new address is shown below this once. Copy it into your calendar "
                      "app as a subscription; any earlier address has stopped working.",
                      "success")
                return self._page(scope, provider_id, address=_url(token))
            return self._page(scope, provider_id, address=None)
        except NotFound:
            abort(404)

    def _page(self, scope, provider_id: int, *, address: str | None):
        status = calendar_feeds.provider_feed_status(provider_id, scope=scope)
        made = read = None
        if status is not None:
            made = display_formats.format_local_time(status.created_at, status.zone)
            read = display_formats.format_local_time(status.last_read_at, status.zone)
        return self.render_template("console/calendar_feed.html", title="Calendar feed",
                                    address=address, status=status, made=made, read=read,
                                    admin=scope.every_provider, provider_id=provider_id)

    def _here(self, scope, provider_id: int) -> str:
        args = {"provider_id": provider_id} if scope.every_provider else {}
        return url_for(f"{self.endpoint}.feed", **args)


def _url(token: str) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return base + url_for("calendar_feeds.FeedViews", token=token)


__all__ = ["CalendarFeedView"]
