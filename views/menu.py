"""The console's menu: at most eight groups, one row at 1366 px, different for staff and admins.

Each role sees the groups it holds ``menu_access`` on (app/services/roles.py); the
permissions, not this module, decide who sees what. Staff see Home, Bookings, Catalog,
Payments, Messages, Marketing, Integrations (webhooks, API keys) and Business (their own
profile and audit log); admins see the same but Platform (providers, users, roles, the webhook inbox, events, jobs, the
whole audit log) instead of Business.

A new screen goes into one of these groups, e.g.
``appbuilder.add_view(CalendarView, "Calendar", icon="fa-calendar", category=BOOKINGS.name)``,
and its menu name into the roles' ``menu_access`` list. Adding a ninth group breaks the
one-row navbar: the console test counts them.
"""
from __future__ import annotations

from dataclasses import dataclass

# Menu names are permission names too ("menu_access" on the name), so they stay stable;
# the label is what people read.


@dataclass(frozen=True)
class MenuGroup:
    name: str
    icon: str
    label: str = ""


HOME = "Home"
BOOKINGS = MenuGroup("Bookings", "fa-calendar-check-o")
CATALOG = MenuGroup("Catalog", "fa-tags")
PAYMENTS = MenuGroup("Payments", "fa-credit-card")
MESSAGES = MenuGroup("Messages", "fa-envelope")
MARKETING = MenuGroup("Marketing", "fa-bullhorn")
# Connecting the provider's own systems: webhooks, API keys.
INTEGRATIONS = MenuGroup("Integrations", "fa-plug")
# Staff only: the platform's version of these screens lives under PLATFORM.
BUSINESS = MenuGroup("Business", "fa-store", "Your business")
# Admins only.
PLATFORM = MenuGroup("Platform", "fa-server")

GROUPS = (BOOKINGS, CATALOG, PAYMENTS, MESSAGES, MARKETING, INTEGRATIONS, BUSINESS, PLATFORM)

# Flask-AppBuilder's own security screens, moved from its "Security" group into Platform
# with plain labels; its other security screens (groups, permissions, view menus, user
# statistics) stay reachable by address but off the menu: roles are synced from code.
SECURITY_GROUP = "Security"
SECURITY_SCREENS = {"List Users": ("Users", "fa-user"), "List Roles": ("Roles", "fa-id-badge")}


def create_groups(appbuilder) -> None:
    """The Home link and every group, in menu order, before any screen is added."""
    appbuilder.add_link(HOME, href="/", icon="fa-home", label="Home")
    for group in GROUPS:
        appbuilder.menu.add_category(group.name, icon=group.icon, label=group.label or group.name)


def move_security_screens(appbuilder) -> None:
    """Users and roles into Platform; the "Security" group off the menu."""
    menu = appbuilder.menu
    security = menu.find(SECURITY_GROUP)
    if security is None:
        return
    menu.menu.remove(security)
    for item in security.childs:
        if item.name in SECURITY_SCREENS:
            label, icon = SECURITY_SCREENS[item.name]
            menu.add_link(item.name, href=item.href, icon=icon, label=label,
                          category=PLATFORM.name, baseview=item.baseview)


__all__ = ["BOOKINGS", "BUSINESS", "CATALOG", "GROUPS", "HOME", "INTEGRATIONS", "MARKETING",
           "MESSAGES",
           "MenuGroup", "PAYMENTS", "PLATFORM", "create_groups", "move_security_screens"]
