"""A new customer verifies their email address, in Chromium: registers in the shop, signs
in, sees "Your address is not verified yet" with "Send the link again" on their bookings,
opens the link from the mail (a local SMTP server) and sees the address verified; the same
link a second time says clearly that it was used. axe-core checks each page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible
from tests.mail_server import recording_smtp
from tests.notifications.conftest import run_jobs

PASSWORD = "a-quiet-harbour-lantern"
MAIL_SETTINGS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME",
                 "MAIL_PASSWORD", "MAIL_TIMEOUT")


def _look(page, step: str) -> None:
    assert_accessible(page)
    page.screenshots.take(step)


def test_a_new_customer_verifies_their_email_address(page, app, live_app, monkeypatch):
    with recording_smtp(live_app, monkeypatch) as smtp:
        # The test's own app works the queued jobs with Redis: it sends to the same server.
        for name in MAIL_SETTINGS:
            monkeypatch.setitem(app.config, name, live_app.config[name])
        page.goto("/shop/register")
        page.get_by_label("First name").fill("Ines")
        page.get_by_label("Last name").fill("Moreau")
        page.get_by_label("Email").fill("ines@example.com")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("Registration received")).to_be_visible()
        page.get_by_label("Email").fill("ines@example.com")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/shop/bookings")
        notice = page.locator(".verify-notice")
        expect(notice).to_contain_text("Your address is not verified yet")
        expect(notice).to_contain_text("ines@example.com")
        _look(page, "not-verified")
        with app.app_context():  # with Redis, the jobs run here
            run_jobs(app)
        (mail,) = smtp.to("ines@example.com")
        assert mail["Subject"] == "Verify your email address"
        link = re.search(r"https?://\S+?(/shop/account/verify/\S+)",
                         mail.get_body(("plain",)).get_content()).group(1)

    page.goto(link)
    expect(page.get_by_role("heading", name="Your email address is verified")).to_be_visible()
    expect(page.locator("#verify-result")).to_contain_text("ines@example.com is verified")
    _look(page, "verified")
    page.get_by_role("link", name="Go to my bookings").click()
    expect(page.get_by_role("heading", name="My bookings")).to_be_visible()
    expect(page.locator(".verify-notice")).to_have_count(0)
    _look(page, "bookings-verified")

    page.expect_error_status(link)  # used: a clear page, answered 422
    page.goto(link)
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    expect(page.locator("#verify-error")).to_contain_text("it was used already")
    _look(page, "used-link")
