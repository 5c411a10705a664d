"""Console screens (Flask-AppBuilder). Thin: business rules live in ``app.services``."""
from __future__ import annotations

from views.audit import AuditLogView
from views.availability import AvailabilityRuleView, ClosedDayView, SlotView
from views.bookings import BookingAgendaView, BookingHistoryView, BookingView
from views.catalog import CategoryView, LocationView, OfferingView, VariantView
from views.conversions import AttributionReportView, ConversionEventView
from views.events import ConsumedEventView, OutboxEventView
from views.notifications import NotificationTemplateView, NotificationView
from views.payments import PaymentEventView, PaymentView, RefundView
from views.providers import ProviderView
from views.receipts import ReceiptView


def register_storefront(app) -> None:
    from zoneinfo import ZoneInfo

    from views.storefront import bp

    @app.template_filter("local_time")
    def local_time(moment, zone: str) -> str:
        return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M")

    app.register_blueprint(bp)

    @app.route("/favicon.ico")
    def favicon():
        # No icon yet: browsers ask on every page, and a 404 fills logs and consoles.
        response = app.response_class(status=204)
        response.cache_control.max_age = 86400
        response.cache_control.public = True
        return response


def register_jobs_dashboard(app) -> None:
    """The RQ dashboard at /admin/rq for admins, when Redis is configured."""
    from views.jobs_dashboard import register_jobs_dashboard as register

    register(app)


def register_views(appbuilder) -> None:
    appbuilder.add_view(
        ProviderView, "Providers", icon="fa-store", category="Setup",
        category_icon="fa-cogs",
    )
    for view, name, icon in (
        (OfferingView, "Offerings", "fa-tags"),
        (VariantView, "Variants", "fa-cubes"),
        (CategoryView, "Categories", "fa-sitemap"),
        (LocationView, "Locations", "fa-map-marker"),
    ):
        appbuilder.add_view(view, name, icon=icon, category="Catalog", category_icon="fa-book")
    for view, name, icon in (
        (AvailabilityRuleView, "Opening hours", "fa-clock-o"),
        (ClosedDayView, "Closed days", "fa-ban"),
        (SlotView, "Slots", "fa-calendar"),
    ):
        appbuilder.add_view(view, name, icon=icon, category="Availability",
                            category_icon="fa-calendar")
    appbuilder.add_view(BookingView, "All bookings", icon="fa-ticket", category="Bookings",
                        category_icon="fa-ticket")
    appbuilder.add_view(BookingAgendaView, "Day agenda", icon="fa-calendar-check-o",
                        category="Bookings")
    appbuilder.add_view_no_menu(BookingHistoryView)
    for view, name, icon in (
        (PaymentView, "All payments", "fa-credit-card"),
        (RefundView, "Refunds", "fa-undo"),
        (PaymentEventView, "Webhook inbox", "fa-inbox"),
        (ReceiptView, "Receipts", "fa-file-pdf-o"),
    ):
        appbuilder.add_view(view, name, icon=icon, category="Payments",
                            category_icon="fa-money")
    for view, name, icon in (
        (NotificationView, "Delivery log", "fa-paper-plane"),
        (NotificationTemplateView, "Message templates", "fa-file-text-o"),
    ):
        appbuilder.add_view(view, name, icon=icon, category="Notifications",
                            category_icon="fa-envelope")
    appbuilder.add_view(AttributionReportView, "Attribution report", icon="fa-bar-chart",
                        category="Marketing", category_icon="fa-bullhorn")
    appbuilder.add_view(ConversionEventView, "TikTok events", icon="fa-share-square-o",
                        category="Marketing")
    appbuilder.add_view(OutboxEventView, "Event log", icon="fa-exchange",
                        category="Operations", category_icon="fa-wrench")
    appbuilder.add_view(ConsumedEventView, "Consumed events", icon="fa-check-square-o",
                        category="Operations")
    appbuilder.add_view(
        AuditLogView, "Audit log", icon="fa-history", category="Audit",
        category_icon="fa-list",
    )
