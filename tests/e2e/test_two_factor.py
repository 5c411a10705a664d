"""Two-factor sign-in in Chromium: staff set up an authenticator app from the user menu
(the key read off the page, the codes computed as an app would), sign out, and sign in
again with password and code. Screenshots at desktop and phone width."""
from __future__ import annotations

import time

import pyotp
from playwright.sync_api import expect

from tests.e2e.console import sign_in
from tests.builders import PASSWORD


def _look(page, step: str) -> None:
    page.screenshots.take(step)


def test_staff_set_up_two_factor_and_sign_in_with_a_code(page, build):
    staff_email = build.email_of(build.staff(build.provider(name="Lotus Yoga Studio")))
    sign_in(page, staff_email)

    page.locator(".navbar-right .dropdown-toggle").last.click()
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_text("You sign in with your password alone")).to_be_visible()
    _look(page, "off")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator("svg.qr-code")).to_be_visible()
    _look(page, "enrol")
    secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    app_code = pyotp.TOTP(secret)

    page.expect_error_status("/account/two-factor/confirm")  # the wrong code: a 422
    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    page.get_by_label("Code", exact=True).fill(app_code.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    expect(page.get_by_text("shown only this once")).to_be_visible()
    _look(page, "recovery-codes")
    page.get_by_role("link", name="I have stored them").click()
    expect(page.locator("#recovery-codes-left")).to_have_text("10")
    _look(page, "on")

    page.locator(".navbar-right .dropdown-toggle").last.click()
    page.get_by_role("button", name="Logout").click()
    page.goto("/login/")
    page.get_by_label("Email").fill(staff_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    _look(page, "code")
    # The code used to turn it on is spent: the app's next one (within the allowed step).
    page.get_by_label("Code", exact=True).fill(app_code.at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    page.screenshots.take("signed-in")


def test_an_admin_resets_a_users_second_factor(page, build):
    from tests.second_factor_helpers import enrol

    staff = build.staff(build.provider(name="Lotus Yoga Studio"))
    enrol(staff)
    sign_in(page, build.email_of(build.admin()))

    page.goto("/users/list/")
    row = page.locator("tr", has_text=build.email_of(staff))
    expect(row).to_contain_text("On")
    page.screenshots.take("users")
    page.goto(f"/users/show/{staff}")
    page.get_by_role("link", name="Reset second factor").click()
    expect(page.get_by_text("two-factor sign-in is on")).to_be_visible()
    page.screenshots.take("reset-confirm")
    page.get_by_role("button", name="Reset second factor").click()
    expect(page.get_by_text("is reset")).to_be_visible()
    page.goto("/users/list/")
    expect(page.locator("tr", has_text=build.email_of(staff))).to_contain_text("Off")
