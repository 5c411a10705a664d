"""Console screens (Flask-AppBuilder). Thin: business rules live in ``app.services``."""
from __future__ import annotations

from flask import current_app

from app.security_headers import accept_uploads
from views import menu
from views.assets import register_assets
from views.api_keys import ApiKeyView
from views.audit import AuditLogView
from views.availability import AvailabilityRuleView, ClosedDayView, SlotView, TimeOffView
from views.bookings import BookingHistoryView, BookingView
from views.calendar import BookingAgendaView, BookingCalendarView
from views.calendar_feed import CalendarFeedView
from views.catalog import CategoryView, LocationView, OfferingView, VariantView
from views.conversions import AttributionReportView, ConversionEventView
from views.events import ConsumedEventView, OutboxEventView
from views.notifications import NotificationTemplateView, NotificationView
from views.password_reset import PasswordResetView
from views.payments import PaymentEventView, PaymentView, RefundView
from views.providers import ProviderView
from views.console_sign_in import SecondFactorSignInView, require_enrolment
from views.second_factor import SecondFactorResetView, SecondFactorView
from views.receipts import ReceiptView
from views.resources import ResourceTimeOffView, ResourceView
from views.staff_notifications import StaffNotificationSettingsView
from views.waitlist import WaitlistView
from views.webhooks import WebhookEndpointView
from views.weekly_hours import WeeklyHoursView
from views.titles import register_count_phrase


def register_storefront(app) -> None:
    from views import social_sign_in
    from views.storefront import bp, languages

    app.register_blueprint(bp)
    social_sign_in.register(app)  # the identity providers' blueprints, shop and console
    languages.install(app)  # after Flask-AppBuilder has set up Flask-Babel


def register_jobs_dashboard(app) -> None:
    """The RQ dashboard at /admin/rq for admins, when Redis is configured."""
    from views.jobs_dashboard import register_jobs_dashboard as register

    register(app)


def register_views(appbuilder) -> None:
    """Every console screen in its menu group (views/menu.py); who sees which group is
    decided by the roles' ``menu_access`` permissions (app/services/roles.py)."""
    register_assets(current_app)  # the base template's stylesheet and icons
    # Forms that carry a picture may be larger than other requests.
    accept_uploads(current_app, "OfferingView.add", "OfferingView.edit", "ProviderView.edit")
    register_count_phrase(current_app, appbuilder)  # "12 bookings" above each list
    menu.create_groups(appbuilder)
    appbuilder.add_view_no_menu(PasswordResetView)  # open to all: nobody is signed in there
    appbuilder.add_view_no_menu(SecondFactorSignInView)  # the code step, also before sign-in
    appbuilder.add_view_no_menu(SecondFactorView)  # linked from the user menu
    appbuilder.add_view_no_menu(SecondFactorResetView)  # from a user's page, admins only
    current_app.before_request(require_enrolment)
    for view, name, icon in (
        (BookingView, "All bookings", "fa-ticket"),
        (BookingCalendarView, "Calendar", "fa-calendar-check-o"),
        (WaitlistView, "Waiting lists", "fa-hourglass-half"),
        (CalendarFeedView, "Calendar feed", "fa-rss"),
    ):
        appbuilder.add_view(view, name, icon=icon, category=menu.BOOKINGS.name)
    appbuilder.add_view_no_menu(BookingAgendaView)  # the old address, now a redirect
    appbuilder.add_view_no_menu(BookingHistoryView)
    for view, name, icon in (
        (OfferingView, "Offerings", "fa-tags"),
        (VariantView, "Variants", "fa-cubes"),
        (CategoryView, "Categories", "fa-sitemap"),
        (LocationView, "Locations", "fa-map-marker"),
        (ResourceView, "Resources", "fa-users"),
        (AvailabilityRuleView, "Opening hours", "fa-clock-o"),
        (ClosedDayView, "Closed days", "fa-ban"),
        (TimeOffView, "Time off", "fa-plane"),
        (ResourceTimeOffView, "Resource time off", "fa-calendar-times-o"),
        (SlotView, "Slots", "fa-calendar"),
    ):
        appbuilder.add_view(view, name, icon=icon, category=menu.CATALOG.name)
    appbuilder.add_view_no_menu(WeeklyHoursView)  # opened from an offering
    for view, name, icon in (
        (PaymentView, "All payments", "fa-credit-card"),
        (RefundView, "Refunds", "fa-undo"),
        (ReceiptView, "Receipts", "fa-file-pdf-o"),
    ):
        appbuilder.add_view(view, name, icon=icon, category=menu.PAYMENTS.name)
    for view, name, icon in (
        (NotificationView, "Delivery log", "fa-paper-plane"),
        (NotificationTemplateView, "Message templates", "fa-file-text-o"),
        (StaffNotificationSettingsView, "Staff notifications", "fa-bell"),
    ):
        appbuilder.add_view(view, name, icon=icon, category=menu.MESSAGES.name)
    appbuilder.add_view(AttributionReportView, "Attribution report", icon="fa-bar-chart",
                        category=menu.MARKETING.name)
    appbuilder.add_view(ConversionEventView, "TikTok events", icon="fa-share-square-o",
                        category=menu.MARKETING.name)
    appbuilder.add_view(WebhookEndpointView, "Webhooks", icon="fa-bolt",
                        category=menu.INTEGRATIONS.name)
    appbuilder.add_view(ApiKeyView, "API keys", icon="fa-key",
                        category=menu.INTEGRATIONS.name)
    # Staff reach their provider's profile and audit trail under Business; admins reach
    # the same screens, over every provider, under Platform (different menu names, so
    # the roles' permissions tell the two apart).
    appbuilder.add_view(ProviderView, "Providers", icon="fa-store", category=menu.PLATFORM.name)
    menu.move_security_screens(appbuilder)  # Users and Roles, after Providers
    appbuilder.add_view(AuditLogView, "Audit log", icon="fa-history",
                        category=menu.PLATFORM.name)
    appbuilder.add_link("Business profile", href="ProviderView.list", icon="fa-store",
                        label="Profile", category=menu.BUSINESS.name)
    appbuilder.add_link("Business audit log", href="AuditLogView.list", icon="fa-history",
                        label="Audit log", category=menu.BUSINESS.name)
    for view, name, icon in (
        (PaymentEventView, "Webhook inbox", "fa-inbox"),
        (OutboxEventView, "Event log", "fa-exchange"),
        (ConsumedEventView, "Consumed events", "fa-check-square-o"),
    ):
        appbuilder.add_view(view, name, icon=icon, category=menu.PLATFORM.name)
