"""A customer who forgot their password, in Chromium: "Forgot your password?" under the
sign-in form, the link from the mail (a local SMTP server), a new password (a weak one
refused first), then signed in with it; a phone app signed in over the API is then signed
out from "Sign-in and security" and its access token refused. axe-core checks each shop
page. Then console staff the same way."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible
from tests.mail_server import recording_smtp
from tests.notifications.conftest import run_jobs

NEW_PASSWORD = "a-fresh-harbour-lantern"
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
MAIL_SETTINGS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME",
                 "MAIL_PASSWORD", "MAIL_TIMEOUT")


def _look(page, step: str) -> None:
    assert_accessible(page)
    page.screenshots.take(step)


def test_a_customer_resets_a_forgotten_password(page, build, app, live_app, monkeypatch):
    customer = build.customer(email="ines@example.com")
    assert customer
    with recording_smtp(live_app, monkeypatch) as smtp:
        # The test's own app works the queued jobs with Redis: it sends to the same server.
        for name in MAIL_SETTINGS:
            monkeypatch.setitem(app.config, name, live_app.config[name])
        page.goto("/shop/login")
        page.get_by_role("link", name="Forgot your password?").click()
        expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        _look(page, "forgot")
        page.get_by_label("Email").fill("ines@example.com")
        page.get_by_role("button", name="Email me a link").click()
        expect(page.get_by_text("we have emailed it a link")).to_be_visible()
        _look(page, "asked")
        run_jobs(app)
        (mail,) = smtp.to("ines@example.com")
        link = re.search(r"https?://\S+?(/shop/password/reset/\S+)",
                         mail.get_body(("plain",)).get_content()).group(1)

    page.expect_error_status(link)  # the weak password's form comes back as a 422
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("password123")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.locator("#password-error")).to_contain_text("easy to guess")
    _look(page, "weak-password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your new password is set")).to_be_visible()
    page.get_by_label("Email").fill("ines@example.com")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    _look(page, "signed-in")
    page.goto("/shop/bookings")
    page.get_by_role("link", name="Sign-in and security").click()
    expect(page.locator(".session-card")).to_have_count(1)  # the reset ended the rest
    expect(page.get_by_text("This browser")).to_be_visible()
    _look(page, "sessions")

    # A phone app signs in too; the customer signs it out from this page, and its
    # access token is refused from then on.
    signed_in = page.request.post("/api/v1/auth/login", headers={"User-Agent": PHONE},
                                  data={"email": "ines@example.com", "password": NEW_PASSWORD})
    assert signed_in.status == 200, signed_in.text()
    phone_token = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert page.request.get("/api/v1/me", headers=phone_token).status == 200
    page.reload()
    phone_row = page.locator(".session-card", has_text="iPhone")
    expect(phone_row).to_contain_text("App")
    _look(page, "sessions-two")
    phone_row.get_by_role("button", name="Sign out there").click()
    expect(page.locator(".session-card")).to_have_count(1)
    expect(page.get_by_text("This browser")).to_be_visible()
    refused = page.request.get("/api/v1/me", headers=phone_token)
    assert refused.status == 401 and refused.json()["code"], refused.text()
    _look(page, "sessions-signed-out")


def test_staff_reset_a_forgotten_password_from_the_console(page, build, app, live_app,
                                                           monkeypatch):
    staff_email = build.email_of(build.staff(build.provider(name="Lotus Yoga Studio")))
    with recording_smtp(live_app, monkeypatch) as smtp:
        for name in MAIL_SETTINGS:
            monkeypatch.setitem(app.config, name, live_app.config[name])
        page.goto("/login/")
        page.get_by_role("link", name="Forgot your password?").click()
        page.screenshots.take("console-forgot")
        page.get_by_label("Email").fill(staff_email)
        page.get_by_role("button", name="Email me a link").click()
        expect(page.get_by_text("we have emailed it a link")).to_be_visible()
        run_jobs(app)
        (mail,) = smtp.to(staff_email)
        link = re.search(r"https?://\S+?(/password/reset/\S+)",
                         mail.get_body(("plain",)).get_content()).group(1)

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.screenshots.take("console-choose")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your new password is set")).to_be_visible()
    page.get_by_label("Email").fill(staff_email)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    page.screenshots.take("console-signed-in")
