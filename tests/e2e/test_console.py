"""A provider's day in the console: sign in, the bookings list, one booking, sign out."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from app.services import bookings
from app.extensions import db
from app.models import Account
from tests.builders import PASSWORD


def full_name(user_id: int) -> str:
    return db.session.get(Account, user_id).get_full_name()


def test_provider_signs_in_opens_a_booking_and_signs_out(page, build):
    provider = build.provider(name="Harbor Yoga Studio")
    staff = build.staff(provider)
    staff_email = build.email_of(staff)
    offering = build.offering(provider, name="Evening flow", price_minor=1800)
    slot = build.future_slot(offering, days=2, capacity=8)
    reference = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                       slot_id=slot, quantity=2).reference

    page.goto("/login/")
    page.get_by_label("Email").fill(staff_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.screenshots.take("sign-in")
    page.get_by_role("button", name="Sign In").click()

    page.get_by_role("link", name="Bookings").first.click()
    page.get_by_role("link", name="All bookings").click()
    expect(page.get_by_role("cell", name=reference)).to_be_visible()
    page.screenshots.take("bookings")

    # The link's name is its hidden "Show" text and the icon font's glyph.
    page.get_by_role("link", name=re.compile(r"^Show\b")).first.click()
    page.screenshots.take("booking")
    # The booking page: the offering as its heading, the reference under it.
    expect(page.get_by_role("heading", name="Evening flow", level=1)).to_be_visible()
    expect(page.get_by_text(f"Reference {reference}")).to_be_visible()

    page.get_by_role("link", name=full_name(staff)).click()  # the account menu
    page.screenshots.take("account-menu")
    page.get_by_role("button", name="Logout").click()
    expect(page.get_by_role("link", name="Login")).to_be_visible()
    page.screenshots.take("signed-out")
    page.goto("/bookingview/list/")
    expect(page.get_by_role("button", name="Sign In")).to_be_visible()
