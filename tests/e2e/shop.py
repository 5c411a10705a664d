"""What the storefront's browser tests share: signing a customer in through the shop's form."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.builders import PASSWORD


def sign_in(page, email: str) -> None:
    """Sign in with the shop's login form and wait for the signed-in header."""
    page.goto("/shop/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="My bookings")).to_be_visible()
