"""What the console's browser tests share: signing in through the login form, opening a tab."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.builders import PASSWORD


def sign_in(page, email: str) -> None:
    """Sign in with the login form and wait for the console's menu."""
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Home")).to_be_visible()


def open_tab(page, name: str) -> None:
    """Open a show page's tab (its related rows): tabs switch by script, so a click
    before the page's scripts have run switches nothing; the tab's pane is then shown."""
    page.wait_for_load_state("load")
    link = page.locator(".nav-tabs").get_by_role("link", name=name)
    link.click()
    expect(page.locator(link.get_attribute("href"))).to_be_visible()
