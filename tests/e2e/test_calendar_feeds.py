"""Calendar feeds in Chromium: a provider makes the feed address in the console and a
calendar app (here: the page's own request) reads the bookings from it; a customer gets
theirs on "My bookings". Screenshots of both pages."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from icalendar import Calendar
from playwright.sync_api import expect

from app.services import bookings
from tests.builders import PASSWORD


def test_a_provider_and_a_customer_subscribe_to_their_bookings(page, build, browser_page):
    provider = build.provider(name="Harbor Yoga Studio")
    staff_email = build.email_of(build.staff(provider))
    offering = build.offering(provider, name="Evening flow", price_minor=0)
    customer = build.customer()
    reference = bookings.place_booking(
        customer_id=customer, offering_id=offering,
        slot_id=build.future_slot(offering, days=2, capacity=8)).reference

    page.goto("/login/")
    page.get_by_label("Email").fill(staff_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto("/calendar-feed/")
    expect(page.get_by_text("No calendar address yet.")).to_be_visible()
    page.get_by_role("button", name="Make the address").click()
    address = page.get_by_label("Your calendar address (shown only now)").input_value()
    expect(page.locator(".feed-status")).to_contain_text("On since")
    page.screenshots.take("console-feed")
    feed = page.request.get(urlsplit(address).path)
    assert feed.status == 200
    (event,) = Calendar.from_ical(feed.body()).walk("VEVENT")
    assert str(event["uid"]).startswith(reference) and "Evening flow" in str(event["summary"])

    shopper = browser_page("customer")
    shopper.goto("/shop/login")
    shopper.get_by_label("Email").fill(build.email_of(customer))
    shopper.get_by_label("Password", exact=True).fill(PASSWORD)
    shopper.get_by_role("button", name="Sign in").click()
    shopper.goto("/shop/bookings")
    shopper.get_by_role("button", name="Get a calendar address").click()
    expect(shopper.get_by_text("Subscribe to this address")).to_be_visible()
    text = shopper.get_by_text("Subscribe to this address").inner_text()
    assert re.search(r"/api/v1/calendar-feeds/\S+\.ics", text)
    expect(shopper.get_by_role("button", name="Stop the feed")).to_be_visible()
    shopper.screenshots.take("shop-feed")
