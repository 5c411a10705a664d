"""A customer's visit to the storefront: browse, open an offering, sign in, book, pay with
the test card against the local Stripe server."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.builders import PASSWORD


def test_customer_browses_books_and_pays_with_the_test_card(page, build):
    provider = build.provider(name="Harbor Yoga Studio")
    location = build.location(provider, name="Harbor loft", address="Hafenstraße 1, Berlin")
    offering = build.offering(provider, name="Sunrise yoga", price_minor=4200,
                              description="Slow flow by the water.", location_id=location)
    build.future_slot(offering, days=3, capacity=5)
    email = build.email_of(build.customer())

    page.goto("/shop/")
    expect(page.get_by_role("link", name="Sunrise yoga")).to_be_visible()
    page.screenshots.take("offerings")
    # No TikTok Pixel is configured: nothing needs consent, so no banner asks for it.
    expect(page.get_by_role("button", name="Decline")).to_have_count(0)

    page.get_by_role("searchbox", name="What").fill("yoga")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Sunrise yoga").click()
    expect(page.get_by_role("heading", name="Sunrise yoga")).to_be_visible()
    page.screenshots.take("offering")

    page.get_by_role("button", name="Book").first.click()  # not signed in yet
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.screenshots.take("sign-in")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Sunrise yoga")).to_be_visible()
    page.get_by_label("Places").first.fill("2")
    page.get_by_role("button", name="Book").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Booking BW-"))).to_be_visible()
    expect(page.get_by_text("€84.00")).to_be_visible()
    page.screenshots.take("booking")

    page.get_by_label("Test card").select_option(label="Visa (succeeds)")
    page.get_by_role("button", name="Pay with test card").click()
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(page.get_by_text("is confirmed")).to_be_visible()
    page.screenshots.take("paid")

    page.get_by_role("link", name="My bookings").click()
    expect(page.get_by_text("confirmed")).to_be_visible()
    page.screenshots.take("my-bookings")
