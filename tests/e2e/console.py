"""What the console's browser tests share: signing in through the login form."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.builders import PASSWORD


def sign_in(page, email: str) -> None:
    """Sign in with the login form and wait for the console's menu."""
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("link", name="Home")).to_be_visible()
