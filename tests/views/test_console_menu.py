"""The console menu: at most eight groups, different for staff and admins."""
from __future__ import annotations

import re

from tests.views.console import page_text, signed_in

MAX_GROUPS = 8


def _navbar(client) -> str:
    page = page_text(client.get("/"))
    return page.split('<ul class="nav navbar-nav">', 1)[1].split("</ul>\n            <ul", 1)[0]


def _groups(navbar: str) -> list[str]:
    """Labels of the top-level entries: dropdown groups and plain links."""
    tops = re.findall(r'<a class="dropdown-toggle"[^>]*>\s*(?:<i[^>]*></i>&nbsp;)?\s*([^<]+)<b',
                      navbar)
    return [label.strip() for label in tops]


def test_staff_see_their_groups_and_no_platform(app, tenant_a):
    navbar = _navbar(signed_in(app, tenant_a.staff_email))
    groups = _groups(navbar)

    assert groups == ["Bookings", "Catalog", "Payments", "Messages", "Marketing",
                      "Integrations", "Your business"]
    assert len(groups) + 1 <= MAX_GROUPS  # + the Home link
    assert ">\n    Home</a>" in navbar or "Home</a>" in navbar
    assert "Webhooks</a>" in navbar
    for admin_only in ("Platform", "Users", "Roles", "Webhook inbox", "Event log", "Jobs"):
        assert admin_only not in navbar


def test_admins_see_platform_instead_of_the_business_group(app, admin_email):
    navbar = _navbar(signed_in(app, admin_email))
    groups = _groups(navbar)

    assert groups == ["Bookings", "Catalog", "Payments", "Messages", "Marketing",
                      "Integrations", "Platform"]
    assert len(groups) + 1 <= MAX_GROUPS
    for item in ("Providers", "Users", "Roles", "Webhook inbox", "Event log",
                 "Consumed events", "Audit log"):
        assert f"{item}</a>" in navbar, item
    assert "Security" not in navbar and "List Users" not in navbar
