"""A provider sets an offering's booking rules in the console (minimum notice, how far
ahead, per-customer limits), and the storefront's offering page tells customers: in
Chromium, with screenshots."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.builders import PASSWORD


def test_a_provider_sets_the_booking_rules_and_customers_see_them(page, build):
    provider = build.provider(name="Harbor Barbers")
    staff_email = build.email_of(build.staff(provider))
    offering = build.offering(provider, name="Skin fade", price_minor=2800)
    build.future_slot(offering, days=2, capacity=1)

    page.goto("/login/")
    page.get_by_label("Email").fill(staff_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"/offeringview/edit/{offering}")
    page.get_by_label("Minimum notice (minutes)").fill("120")
    page.get_by_label("Bookable up to (days ahead)").fill("30")
    page.get_by_label("Bookings per customer").fill("2")
    page.screenshots.take("offering-rules-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Changed")).to_be_visible()

    page.goto(f"/offeringview/edit/{offering}")
    horizon = page.get_by_label("Bookable up to (days ahead)")
    horizon.fill("0")  # out of range: the browser holds the form back (min/max on it)
    page.get_by_role("button", name="Save").click()
    assert horizon.evaluate("field => field.validity.rangeUnderflow")
    expect(page).to_have_url(page.url)  # still on the form
    page.screenshots.take("offering-rules-refused")

    page.goto(f"/shop/offerings/{offering}")
    expect(page.locator(".booking-window")).to_have_text(
        "Book at least 2 hours ahead, up to 30 days ahead.")
    page.screenshots.take("storefront-offering")
