"""A provider filters the slots list by a time typed on their own wall clock."""
from __future__ import annotations

from datetime import datetime, timezone

from playwright.sync_api import expect

from tests.e2e.console import sign_in


def test_staff_filter_slots_by_their_local_time(page, build):
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    # Winter in Berlin (UTC+1): 10:00 on the studio's clock is 09:00 UTC.
    nine_utc = build.offering(provider, name="Sunrise flow")
    ten_utc = build.offering(provider, name="Late morning flow")
    build.slot(nine_utc, datetime(2031, 1, 15, 9, 0, tzinfo=timezone.utc))
    build.slot(ten_utc, datetime(2031, 1, 15, 10, 0, tzinfo=timezone.utc))

    sign_in(page, staff_email)
    page.goto("/slotview/list/?_flt_0_starts_at=2031-01-15+10:00"
              "&_flt_1_starts_at=2031-01-15+10:01")

    expect(page.get_by_role("cell", name="Sunrise flow")).to_be_visible()
    expect(page.get_by_role("cell", name="Late morning flow")).to_have_count(0)
    # The search form shows both filters (in either order) with the zone they read.
    chosen = page.locator("#filter_form select.filter-op option:checked")
    expect(chosen).to_have_count(2)
    assert sorted(chosen.all_inner_texts()) == ["Before (Europe/Berlin)",
                                                "From (Europe/Berlin)"]
    expect(page.get_by_role("cell", name="2031-01-15 10:00 CET")).to_be_visible()
    page.get_by_role("link", name="Search").click()  # unfold the search form
    expect(page.locator("#accordion1_href")).to_have_class("panel-collapse collapse in")
    page.screenshots.take("slots-from-ten-local")
