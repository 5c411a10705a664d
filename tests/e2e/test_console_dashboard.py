"""The home dashboards in a browser: staff see today's bookings, check a customer in and
read the charts; an admin sees every provider and the platform's health."""
from __future__ import annotations

from datetime import datetime, timezone

from playwright.sync_api import expect

from tests.e2e.console import sign_in
from tests.dashboard_data import hours_from_now, studio_week



def test_staff_see_today_and_check_a_customer_in(page, build):
    week = studio_week()
    studio_week(name="Rival Pilates", eur_offering="Rival reformer")

    sign_in(page, week.staff_email)

    expect(page.get_by_role("heading", name="Today", exact=False).first).to_be_visible()
    expect(page.locator("#kpi-revenue")).to_contain_text("125.00 EUR")
    expect(page.locator("#kpi-revenue")).to_contain_text("80.00 USD")
    expect(page.locator("#kpi-occupancy")).to_contain_text("29 %")
    timeline = page.locator("#timeline")
    expect(timeline.locator(f'[data-reference="{week.later_today}"]')).to_be_visible()
    expect(page.get_by_role("img", name="Bookings per day")).to_be_visible()
    expect(page.get_by_role("img", name="Occupancy per offering")).to_be_visible()
    expect(page.get_by_text("Rival reformer")).to_have_count(0)
    page.screenshots.take("today")

    page.get_by_role("button", name=f"{week.done_today} completed").click()
    expect(page.get_by_text(f"{week.done_today}: completed.")).to_be_visible()
    expect(page.locator(f'#check-ins [data-reference="{week.done_today}"]')).to_contain_text(
        "Completed")
    page.screenshots.take("checked-in")

    page.get_by_role("link", name="30 days").click()
    expect(page.locator("#kpi-bookings")).to_contain_text("6")
    page.screenshots.take("thirty-days")


def test_admin_sees_every_provider_and_the_platforms_health(page, build):
    studio_week()
    studio_week(name="Harbor Barbers", eur_offering="Skin fade", usd_offering="Beard trim")
    admin_email = build.email_of(build.admin())

    sign_in(page, admin_email)

    expect(page.get_by_role("heading", name="Platform dashboard", exact=False)).to_be_visible()
    breakdown = page.locator("#provider-breakdown")
    expect(breakdown.get_by_role("link", name="Lotus Yoga Studio")).to_be_visible()
    expect(breakdown.get_by_role("link", name="Harbor Barbers")).to_be_visible()
    # The admin's days are UTC days: after 22:00 UTC each studio's booking two hours ahead
    # (25.00 EUR) is tomorrow's.
    later_is_today = hours_from_now(2).date() == datetime.now(timezone.utc).date()
    expect(page.locator("#kpi-revenue")).to_contain_text(
        "250.00 EUR" if later_is_today else "200.00 EUR")
    expect(page.locator("#platform-health")).to_contain_text("Outbox lag")
    expect(page.locator("#platform-health")).to_contain_text("Webhook inbox backlog")
    expect(page.get_by_role("heading", name="Occupancy of the busiest providers")).to_be_visible()
    expect(page.get_by_role("img", name="Occupancy of the busiest providers")).to_be_visible()
    page.screenshots.take("admin")
