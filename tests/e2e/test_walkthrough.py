"""The README's walkthrough in a browser, on the demo data a newcomer's `make run` loads:
the console as an admin and as staff, the storefront as a customer, the API docs.

Each step checks what the README says is there and saves its screenshots like every
browser test. ``make screenshots`` runs this module with ``WALKTHROUGH_SCREENSHOTS`` set
to ``docs/screenshots``: each step also saves what a desktop browser window shows there,
under a stable name, the pictures the README shows (regenerated, never edited by hand).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Offering, Provider
from app.services import demo
from app.services.roles import ADMIN, CUSTOMER, PROVIDER
from tests.builders import PASSWORD
from tests.e2e import console, shop
from tests.e2e.conftest import SIZES

DOCS_FOLDER = os.environ.get("WALKTHROUGH_SCREENSHOTS")


@pytest.fixture
def demo_logins(app_ctx):
    """The demo data, loaded as `make run` loads it, with the tests' password."""
    logins = demo.load_demo_data(PASSWORD)
    db.session.commit()
    return {(login.role, login.provider): login.email for login in logins}


def _for_the_readme(page, step: str, name: str) -> None:
    """Take the step's screenshots; with WALKTHROUGH_SCREENSHOTS, also what a desktop
    browser window shows there as ``<name>.png`` (the top of the page, not all of it)."""
    page.screenshots.take(step)
    if DOCS_FOLDER:
        folder = Path(DOCS_FOLDER)
        folder.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size(SIZES["desktop"])
        page.screenshot(path=str(folder / f"{name}.png"))


def _first(role_logins: dict, role: str) -> str:
    return next(email for (login_role, _), email in role_logins.items() if login_role == role)


def test_the_console_as_an_admin(page, demo_logins):
    console.sign_in(page, _first(demo_logins, ADMIN))
    expect(page.get_by_role("heading", name="Platform dashboard", exact=False)).to_be_visible()
    # The demo's providers, with their bookings of the period.
    first_provider = page.locator("#provider-breakdown").get_by_role("link").first
    expect(first_provider).to_be_visible()
    assert first_provider.inner_text().strip() in set(db.session.scalars(select(Provider.name)))
    _for_the_readme(page, "admin-dashboard", "console-admin-dashboard")


def test_the_console_as_staff(page, demo_logins):
    studio = next(name for (role, name) in demo_logins if role == PROVIDER)
    console.sign_in(page, demo_logins[(PROVIDER, studio)])
    expect(page.get_by_role("heading", name="Today", exact=False).first).to_be_visible()
    expect(page.get_by_role("img", name="Bookings per day")).to_be_visible()
    _for_the_readme(page, "staff-dashboard", "console-staff-dashboard")

    page.goto("/calendar/week")
    expect(page.locator("[data-reference]").first).to_be_visible()
    _for_the_readme(page, "staff-calendar", "console-staff-calendar")

    page.goto("/bookingview/list/")
    expect(page.get_by_role("row").filter(has=page.get_by_role("link")).nth(1)).to_be_visible()
    _for_the_readme(page, "staff-bookings", "console-staff-bookings")

    page.goto("/attribution/report/")
    expect(page.get_by_role("cell", name="tiktok", exact=False).first).to_be_visible()
    _for_the_readme(page, "staff-attribution", "console-staff-attribution")


def test_the_storefront_as_a_customer(page, demo_logins):
    page.goto("/shop/")
    provider = db.session.scalars(select(Provider).order_by(Provider.id)).first()
    _for_the_readme(page, "shop-home", "shop-home")

    page.goto(f"/shop/providers/{provider.slug}")
    expect(page.get_by_role("heading", name=provider.name, level=1)).to_be_visible()
    _for_the_readme(page, "shop-provider", "shop-provider")

    offering = db.session.scalars(select(Offering).where(
        Offering.provider_id == provider.id, Offering.kind == "service")
        .order_by(Offering.id)).first()
    page.goto(f"/shop/offerings/{offering.id}")
    expect(page.get_by_role("heading", name=offering.name, level=1)).to_be_visible()
    _for_the_readme(page, "shop-offering", "shop-offering")

    shop.sign_in(page, _first(demo_logins, CUSTOMER))
    page.goto("/shop/bookings")
    expect(page.locator("[href^='/shop/bookings/']").first).to_be_visible()
    _for_the_readme(page, "shop-my-bookings", "shop-my-bookings")


def test_the_api_docs(page, demo_logins):
    page.goto("/api/v1/docs")
    expect(page.get_by_text("Bookwell", exact=False).first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    _for_the_readme(page, "api-docs", "api-docs")
