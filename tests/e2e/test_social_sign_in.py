"""Signing in with Google and Apple in Chromium, against the local identity provider on
another site (127.0.0.1 vs the shop on localhost): a customer picks "Continue with
Google" on the sign-in page, agrees on the provider's page and is back, signed in, where
they were; Apple's answer arrives as a cross-site form POST (no session cookie with it)
and still signs in, with the name Apple sends once; the customer sees both on "Sign-in
and security" and unlinks one. The console's sign-in page offers Google. axe-core checks
each of our pages."""
from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import QuietRequestHandler, watched_page
from tests.social.conftest import CLIENTS, social_settings
from tests.fakes.identity_provider import FakeIdentityProvider, make_apple_key
from tests.views.console import second_app


@pytest.fixture(scope="module")
def idp():
    private_pem, public_pem = make_apple_key()
    with FakeIdentityProvider(clients=CLIENTS, apple_team_id="TEAM123456",
                              apple_key_id="KEY1234567",
                              apple_public_key_pem=public_pem) as server:
        server.apple_private_pem = private_pem
        yield server


@pytest.fixture(scope="module")
def social_shop(app, tmp_dir, idp):
    served = second_app(app, tmp_dir, WTF_CSRF_ENABLED=True,
                        **social_settings(idp, (idp.apple_private_pem, None)))
    server = make_server("127.0.0.1", 0, served, threaded=True,
                         request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # "localhost" is another site than the provider's 127.0.0.1: Apple's POST is cross-site.
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page(browser, social_shop, request):
    with watched_page(browser, social_shop, request.node.name) as page:
        yield page


def _look(page, step: str) -> None:
    assert_accessible(page)
    page.screenshots.take(step)


def test_a_customer_signs_in_with_google_then_links_and_unlinks_apple(page, idp):
    idp.next_identity("google", subject="google-ada", email="ada@example.com",
                      first_name="Ada", last_name="Lovelace")
    page.goto("/shop/login?next=/shop/bookings")
    expect(page.get_by_role("link", name="Continue with Google")).to_be_visible()
    expect(page.get_by_role("link", name="Continue with Apple")).to_be_visible()
    _look(page, "sign-in-page")
    page.get_by_role("link", name="Continue with Google").click()
    expect(page.get_by_text("ada@example.com")).to_be_visible()  # the provider's page
    page.screenshots.take("provider-consent")
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(page.url.split("/shop/")[0] + "/shop/bookings")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    _look(page, "back-signed-in")

    page.goto("/shop/account/sessions")
    methods = page.locator(".sign-in-methods")
    expect(methods.locator("[data-method=google]")).to_contain_text("Linked as ada@example.com")
    expect(methods.locator("[data-method=password]")).to_contain_text("None yet")
    _look(page, "sign-ins")

    idp.next_identity("apple", subject="apple-ada", email="ada-relay@privaterelay.example",
                      first_name="Ada", last_name="Lovelace")
    page.get_by_role("link", name="Link Apple").click()
    page.get_by_role("button", name="Allow").click()  # then Apple's form POST, cross-site
    expect(page.get_by_text("Apple is linked")).to_be_visible()
    expect(methods.locator("[data-method=apple]")).to_contain_text(
        "Linked as ada-relay@privaterelay.example")
    _look(page, "apple-linked")
    page.get_by_role("button", name="Unlink Google").click()
    expect(page.get_by_text("Google is unlinked.")).to_be_visible()
    expect(methods.locator("[data-method=google]")).to_contain_text("Not linked.")
    page.get_by_role("button", name="Unlink Apple").click()  # the only way in left
    expect(page.get_by_text("Apple is your only way to sign in")).to_be_visible()
    _look(page, "last-way-in-kept")


def test_a_new_customer_signs_up_with_apple_on_a_phone(browser, social_shop, idp, request):
    idp.next_identity("apple", subject="apple-bo", email="bo@privaterelay.example",
                      first_name="Bo", last_name="Berg")
    with watched_page(browser, social_shop, request.node.name,
                      viewport={"width": 390, "height": 844}) as page:
        page.goto("/shop/register")
        _look(page, "register-page")
        page.get_by_role("link", name="Continue with Apple").click()
        page.get_by_role("button", name="Allow").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        page.goto("/shop/account/sessions")
        expect(page.locator("[data-method=apple]")).to_contain_text("bo@privaterelay.example")
        _look(page, "apple-account")


def test_the_console_offers_google(page):
    page.goto("/login/")
    expect(page.get_by_role("link", name="Sign in with Google")).to_be_visible()
    page.screenshots.take("console-sign-in")
