"""Roles and their console permissions, defined as data and synced idempotently.

``Admin`` gets every permission Flask-AppBuilder knows of. ``Provider`` staff get the
tenant-scoped console screens. ``Customer`` gets nothing in the console: customers use
the REST API only. Permission and view names are Flask-AppBuilder's (``can_list`` on
``ProviderView``); the console views keep these names stable with ``class_permission_name``.
"""
from __future__ import annotations

from dataclasses import dataclass

ADMIN = "Admin"
PROVIDER = "Provider"
CUSTOMER = "Customer"
CONSOLE_ROLES = frozenset({ADMIN, PROVIDER})

_SELF_SERVICE = [
    ("can_userinfo", "UserDBModelView"),
    ("resetmypassword", "UserDBModelView"),
    ("userinfoedit", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
    ("can_manage", "SecondFactorView"),  # one's own two-factor sign-in
]


def _read(view: str) -> list[tuple[str, str]]:
    return [("can_list", view), ("can_show", view)]


def _manage(view: str, *, add: bool = True, delete: bool = True) -> list[tuple[str, str]]:
    perms = _read(view) + [("can_edit", view)]
    if add:
        perms.append(("can_add", view))
    if delete:
        perms.append(("can_delete", view))
    return perms


def _menus(*names: str) -> list[tuple[str, str]]:
    return [("menu_access", name) for name in names]


# Later areas (catalog, bookings, payments, ...) add their screens here.
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    PROVIDER: [
        *_SELF_SERVICE,
        # Staff edit their own provider's profile but never create or delete providers.
        *_manage("ProviderView", add=False, delete=False),
        *_read("AuditLogView"),
        *_manage("OfferingView"), *_manage("VariantView"), *_manage("CategoryView"),
        *_manage("LocationView"), ("can_regeocode", "LocationView"),
        *_manage("AvailabilityRuleView"), *_manage("ClosedDayView"), *_manage("TimeOffView"),
        ("can_edit", "WeeklyHoursView"),
        # Resources (staff, rooms, equipment): added and edited, never deleted (made
        # inactive: their bookings keep them); their time off added and deleted.
        *_manage("ResourceView", delete=False),
        ("can_calendars", "ResourceView"),  # their outside calendars: add, remove, fetch
        *_read("ResourceTimeOffView"), ("can_add", "ResourceTimeOffView"),
        ("can_delete", "ResourceTimeOffView"),
        *_read("SlotView"), ("can_generate", "SlotView"),
        *_read("BookingView"), *_read("BookingHistoryView"),
        *[(f"can_{name}", "BookingView") for name in ("confirm", "cancel", "complete",
                                                       "no_show")],
        ("can_agenda", "BookingAgendaView"), ("can_mark_paid", "BookingView"),
        # The calendar: look at it, and move a booking to a free slot from it.
        ("can_calendar", "BookingCalendarView"), ("can_reschedule", "BookingCalendarView"),
        # Their bookings as a calendar feed: make, replace or stop its secret address.
        ("can_feed", "CalendarFeedView"),
        ("can_reschedule", "BookingView"),
        # The waiting lists of their full times: who waits, who holds an offer (read only:
        # customers join and leave, the service offers the places).
        *_read("WaitlistView"),
        # Payments: read, and refund (in full by action, in part on the refund page);
        # replaying the webhook inbox stays with admins.
        *_read("PaymentView"), ("can_refund", "PaymentView"),
        *_read("RefundView"), *_read("PaymentEventView"),
        # Receipts and credit notes: read, download the PDF, send again to the customer.
        *_read("ReceiptView"), ("can_download", "ReceiptView"), ("can_resend", "ReceiptView"),
        *_menus("Receipts"),
        # Marketing: their attribution report and TikTok delivery log; re-sending a
        # failed conversion stays with admins.
        ("can_report", "AttributionReportView"), ("can_csv", "AttributionReportView"),
        *_read("ConversionEventView"),
        *_menus("Marketing", "Attribution report", "TikTok events"),
        # Messages: their own template overrides (with preview) and the delivery log.
        *_manage("NotificationTemplateView"), ("can_preview", "NotificationTemplateView"),
        *_read("NotificationView"), ("can_send_again", "NotificationView"),
        # Which booking events their staff are emailed about, and where.
        ("can_settings", "StaffNotificationSettingsView"),
        *_menus("Messages", "Delivery log", "Message templates", "Staff notifications"),
        # Integrations: their webhook endpoints (add, edit, delete; send a test event,
        # rotate the secret, disable, enable, redeliver: "can_manage") and deliveries.
        *_manage("WebhookEndpointView"), ("can_manage", "WebhookEndpointView"),
        *_menus("Integrations", "Webhooks", "API keys"),
        # Their provider's API keys: make (shown once), look at, revoke; never edited.
        *_read("ApiKeyView"), ("can_create", "ApiKeyView"), ("can_revoke", "ApiKeyView"),
        # The menu (views/menu.py): every group but Platform.
        *_menus("Home", "Bookings", "All bookings", "Calendar", "Waiting lists",
                "Calendar feed",
                "Catalog", "Offerings", "Variants", "Categories", "Locations", "Resources",
                "Opening hours", "Closed days", "Time off", "Resource time off", "Slots",
                "Payments", "All payments", "Refunds",
                "Business", "Business profile", "Business audit log"),
    ],
    CUSTOMER: [],
}


# Admin holds every permission but these: the staff's own-business menu, whose screens
# admins reach over every provider under Platform (one menu group fewer for them).
ADMIN_WITHOUT: frozenset[tuple[str, str]] = frozenset(
    _menus("Business", "Business profile", "Business audit log"))


@dataclass
class SyncReport:
    roles_created: int = 0
    permissions_added: int = 0
    permissions_removed: int = 0


def sync_roles(appbuilder) -> SyncReport:
    """Make the database's roles match ``ROLE_PERMISSIONS``; running it twice changes nothing."""
    sm = appbuilder.sm
    report = SyncReport()
    for role_name in (ADMIN, *ROLE_PERMISSIONS):
        if sm.find_role(role_name) is None:
            sm.add_role(role_name)
            report.roles_created += 1
    admin = sm.find_role(ADMIN)
    admin_before = {pv.id for pv in admin.permissions}
    # Creates a permission for every registered view and menu (and grants each to Admin).
    appbuilder.add_permissions(update_perms=True)
    for role_name, wanted in ROLE_PERMISSIONS.items():
        role = sm.find_role(role_name)
        wanted_pvs = {}
        for permission_name, view_name in wanted:
            pv = sm.find_permission_view_menu(permission_name, view_name)
            if pv is None:
                pv = sm.add_permission_view_menu(permission_name, view_name)
            wanted_pvs[pv.id] = pv
        current = {pv.id: pv for pv in role.permissions}
        for pv_id, pv in current.items():
            if pv_id not in wanted_pvs:
                sm.del_permission_role(role, pv)
                report.permissions_removed += 1
        for pv_id, pv in wanted_pvs.items():
            if pv_id not in current:
                sm.add_permission_role(role, pv)
                report.permissions_added += 1
    # Last: the loop above may have created permissions, and Admin holds every one but
    # ADMIN_WITHOUT (which Flask-AppBuilder grants it when it registers a menu).
    held = {pv.id for pv in admin.permissions}
    for pv in sm.session.query(sm.permissionview_model).all():
        wanted = (pv.permission.name, pv.view_menu.name) not in ADMIN_WITHOUT
        if wanted and pv.id not in held:
            sm.add_permission_role(admin, pv)
        elif not wanted and pv.id in held:
            sm.del_permission_role(admin, pv)
    # Counted against the state before the sync, not the grants made on the way.
    admin_after = {pv.id for pv in sm.find_role(ADMIN).permissions}
    report.permissions_added += len(admin_after - admin_before)
    report.permissions_removed += len(admin_before - admin_after)
    sm.session.commit()
    return report
