"""The console's home page: the day's bookings, check-ins and figures for staff; the same
across providers plus the platform's health for admins.

Thin: the figures come from :mod:`app.services.dashboard`, check-ins are the booking
lifecycle's own verbs. Flask-AppBuilder serves this as its index (``FAB_INDEX_VIEW``).
"""
from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import IndexView, expose

from app.errors import DomainError
from app.services import dashboard as figures
from app.services.bookings import Actor, complete_booking, mark_no_show
from app.services.agenda import zone_of
from app.services.money import format_money, major_units
from views.base import console_scope
from views.charts import Point, bar_chart, column_chart
from views.console import status_badge

CHECK_IN_REASON = "console: check-in on the dashboard"
CHECK_INS = {"completed": (complete_booking, "completed"),
             "no_show": (mark_no_show, "marked as no-show")}

# Where each "needs attention" or health item links: a list screen filtered on a column.
ATTENTION_LINKS = {
    "flagged_payments": ("PaymentView", "attention"),
    "failed_payments": ("PaymentView", "status"),
    "failed_messages": ("NotificationView", "status"),
    "geocoding_zero_results": ("LocationView", "geocode_status"),
    "geocoding_denied": ("LocationView", "geocode_status"),
    "geocoding_error": ("LocationView", "geocode_status"),
}
HEALTH_LINKS = {
    "failed_events": ("OutboxEventView", "status", "failed"),
    "retrying_events": ("OutboxEventView", "status", "retrying"),
    "outbox_lag": ("OutboxEventView", "status", "queued"),
    "webhook_backlog": ("PaymentEventView", "status", "received"),
    "failed_webhooks": ("PaymentEventView", "status", "failed"),
    "unsent_conversions": ("ConversionEventView", None, None),
}
# The list filters a link may use, by preference: "is" for values, "present" for flags.
LINK_FILTERS = ("FilterEqual", "FilterPresent")


class DashboardIndexView(IndexView):
    """The home page: a dashboard for staff and admins, sign-in for everyone else."""

    index_template = "console/dashboard.html"

    @expose("/")
    def index(self):
        user = getattr(g, "user", None)
        if not getattr(user, "is_authenticated", False):
            return redirect(self.appbuilder.get_url_for_login)
        scope = console_scope()
        period = figures.period_of(request.args.get("days"))
        data = figures.home_dashboard(scope=scope, period=period)
        health = (figures.platform_health(scope=scope, failed_jobs=_failed_jobs())
                  if scope.every_provider else ())
        self.update_redirect()
        return self.render_template(
            self.index_template, appbuilder=self.appbuilder, dash=data,
            periods=figures.PERIODS, charts=_charts(data), attention=_attention(data),
            health=[(item, _health_link(item.key)) for item in health],
            money=format_money, status_badge=status_badge, percent=_percent,
            timeline_days=_by_day(data.timeline),
            local_clock=lambda moment: moment.astimezone(zone_of(data.zone)).strftime(
                "%H:%M %Z"),
            zone_label=_zone_label(data), admin=scope.every_provider)

    @expose("/dashboard/check-in", methods=["POST"])
    def check_in(self):
        """Mark one of today's bookings completed or a no-show (CSRF-checked POST)."""
        scope = console_scope()
        reference = request.form.get("reference", "")
        outcome = CHECK_INS.get(request.form.get("outcome", ""))
        period = figures.period_of(request.form.get("days"))
        if outcome is None or not reference:
            flash("Choose a booking and whether the customer came.", "danger")
        else:
            service, done = outcome
            try:
                service(reference, actor=Actor(g.user.id, CHECK_IN_REASON), scope=scope)
            except DomainError as exc:
                flash(f"{reference}: {exc.message}", "danger")
            else:
                flash(f"{reference}: {done}.", "success")
        return redirect(url_for(".index", days=period))


def _by_day(bookings) -> list[tuple]:
    days: dict = {}
    for booking in bookings:
        days.setdefault(booking.starts_at.date(), []).append(booking)
    return list(days.items())


def _failed_jobs() -> dict[str, int] | None:
    """Failed jobs per queue from RQ's registries; None without Redis (jobs run inline)."""
    if not current_app.config.get("REDIS_URL"):
        return None
    from app.jobqueue import QUEUES, get_queue

    try:
        return {name: get_queue(name).failed_job_registry.count for name in QUEUES}
    except Exception:  # an unreachable Redis must not take the home page down
        current_app.logger.warning("failed-job counts unavailable", exc_info=True)
        return None


def _charts(data) -> dict:
    days = data.figures.days
    daily = len(days) <= 31
    bookings = [Point(_day_label(d.day, daily), d.bookings, str(d.bookings),
                      d.day.strftime("%a %d %b %Y")) for d in days]
    revenue = {
        currency: column_chart(
            f"Revenue per day in {currency}",
            [Point(_day_label(d.day, daily), float(major_units(d.revenue.get(currency, 0),
                                                               currency)),
                   format_money(d.revenue.get(currency, 0), currency),
                   d.day.strftime("%a %d %b %Y")) for d in days],
            chart_id=f"chart-revenue-{currency.lower()}")
        for currency in data.figures.currencies}
    if data.scope.every_provider:
        occupancy_title = "Occupancy of the busiest providers"
        occupancy = [Point(o.provider, o.rate, f"{_percent(o.rate)} ({o.booked}/{o.capacity})")
                     for o in data.occupancy_by_provider]
    else:
        occupancy_title = "Occupancy per offering"
        occupancy = [Point(o.offering, o.rate, f"{_percent(o.rate)} ({o.booked}/{o.capacity})")
                     for o in data.occupancy_by_offering]
    return {
        "bookings": column_chart("Bookings per day", bookings, chart_id="chart-bookings"),
        "revenue": revenue,
        "occupancy": bar_chart(occupancy_title, occupancy,
                               chart_id="chart-occupancy", peak=1) if occupancy else None,
    }


def _day_label(day, daily: bool) -> str:
    return day.strftime("%a %d") if daily else day.strftime("%d %b")


def _attention(data) -> list[tuple]:
    return [(item, filtered_list_url(*ATTENTION_LINKS[item.key], item.value or "yes"))
            for item in data.attention]


def _health_link(key: str) -> str | None:
    if key == "failed_jobs":
        return "/admin/rq/" if current_app.config.get("REDIS_URL") else None
    target = HEALTH_LINKS.get(key)
    return filtered_list_url(*target) if target else None


def filtered_list_url(view_name: str, column: str | None, value: str | None) -> str:
    """The URL of a list screen showing the rows whose ``column`` is ``value``.

    Flask-AppBuilder names a filter in the URL by its position among the column's
    filters (``_flt_3_status``); the position is looked up on the screen itself, so the
    link keeps working when a screen changes its filters.
    """
    view = _view_named(view_name)
    url = url_for(f"{view_name}.list")
    if view is None or column is None:
        return url
    filters = view.datamodel.get_filters(view.search_columns).get_search_filters()
    for wanted in LINK_FILTERS:
        for index, flt in enumerate(filters.get(column, ())):
            if type(flt).__name__ == wanted:
                return url_for(f"{view_name}.list", **{f"_flt_{index}_{column}": value})
    return url


def _view_named(name: str):
    for view in current_app.appbuilder.baseviews:
        if type(view).__name__ == name:
            return view
    return None


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f} %"


def _zone_label(data) -> str:
    if data.scope.every_provider:
        return "days in UTC; times in each provider's zone"
    return f"times in {data.zone}"


__all__ = ["DashboardIndexView"]
