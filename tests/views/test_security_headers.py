"""Security headers on every surface (console, storefront, API, API docs), the request body
limit, and the console's sign-out by POST only."""
from __future__ import annotations

import re

import pytest

from tests.helpers import IsolatedClient, api_login, bearer
from tests.storefront.conftest import (  # noqa: F401  fixtures
    shopper,
    sign_in,
    store,
    stripe_on,
    stripe_server,
)
from tests.views.console import console_client, csrf_token, is_signed_in, second_app, signed_in

TEN_MB = b"x" * (10 * 1024 * 1024)


def directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.request.path}"
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_common_headers(response):
    assert directives(response)["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # development


def page_nonces(response) -> set[str]:
    return set(re.findall(r'<(?:script|style)[^>]*\bnonce="([^"]+)"',
                          response.get_data(as_text=True)))


def policy_nonce(sources: list[str]) -> str:
    nonces = [s[len("'nonce-"):-1] for s in sources if s.startswith("'nonce-")]
    assert len(nonces) == 1, sources
    return nonces[0]


# --- every surface -----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login/", "/shop/", "/api/v1/offerings", "/api/v1/docs",
                                  "/api/v1/openapi.json", "/healthz", "/no-such-page"])
def test_every_surface_has_the_common_headers(client, path):
    assert_common_headers(client.get(path))


def test_storefront_scripts_and_styles_need_this_requests_nonce(client, store):
    first = client.get(f"/shop/offerings/{store.offering_id}")
    second = client.get(f"/shop/offerings/{store.offering_id}")
    policy = directives(first)

    nonce = policy_nonce(policy["script-src"])
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert page_nonces(first) == {nonce}  # the page's <style> carries it
    assert policy_nonce(directives(second)["script-src"]) != nonce
    assert policy["object-src"] == ["'none'"] and policy["frame-src"] == ["'none'"]
    assert "unsafe-inline" not in first.headers["Content-Security-Policy"]
    assert "tiktok" not in first.headers["Content-Security-Policy"]


def test_the_pixel_is_allowed_only_where_it_is_rendered(app, client, store, monkeypatch):
    monkeypatch.setitem(app.config, "TIKTOK_PIXEL_CODE", "C0TEST")
    without_consent = client.get(f"/shop/offerings/{store.offering_id}")
    client.set_cookie("bw_consent", "granted")
    with_consent = client.get(f"/shop/offerings/{store.offering_id}")

    assert "analytics.tiktok.com" not in without_consent.headers["Content-Security-Policy"]
    policy = directives(with_consent)
    assert "https://analytics.tiktok.com" in policy["script-src"]
    assert "https://analytics.tiktok.com" in policy["connect-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy_nonce(policy["script-src"]) in page_nonces(with_consent)
    assert "stripe" not in with_consent.headers["Content-Security-Policy"]


def test_the_stripe_js_page_allows_stripe_and_nothing_else(app, shopper, store, stripe_on,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_TEST_CARDS", False)
    response = shopper.post(f"/shop/offerings/{store.offering_id}/book",
                            data={"slot_id": store.slot_id, "quantity": 1})
    reference = response.headers["Location"].rsplit("/", 1)[1]
    booking_page = shopper.get(f"/shop/bookings/{reference}")
    pay_page = shopper.post(f"/shop/bookings/{reference}/pay")

    assert "stripe.com" not in booking_page.headers["Content-Security-Policy"]
    policy = directives(pay_page)
    assert "https://js.stripe.com" in policy["script-src"]
    assert "https://js.stripe.com" in policy["frame-src"]
    assert "https://api.stripe.com" in policy["connect-src"]
    assert "'none'" not in policy["frame-src"]
    nonce = policy_nonce(policy["script-src"])
    scripts = re.findall(r"<script[^>]*>", pay_page.get_data(as_text=True))
    assert len(scripts) == 2 and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts


def test_the_map_frame_is_allowed_only_with_a_maps_key(app, client, build, monkeypatch):
    provider = build.provider()
    location = build.location(provider)
    offering = build.offering(provider, location_id=location)
    without_key = client.get(f"/shop/offerings/{offering}")
    monkeypatch.setitem(app.config, "GOOGLE_MAPS_API_KEY", "AIzaTest")
    with_key = client.get(f"/shop/offerings/{offering}")

    assert directives(without_key)["frame-src"] == ["'none'"]
    assert directives(with_key)["frame-src"] == ["https://www.google.com"]


def test_console_scripts_need_the_nonce_flask_appbuilder_puts_on_them(client):
    response = client.get("/login/")
    policy = directives(response)

    nonce = policy_nonce(policy["script-src"])
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert page_nonces(response) == {nonce}  # every <script> of the page carries it
    scripts = re.findall(r"<script[^>]*>", response.get_data(as_text=True))
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


def test_api_docs_start_swagger_ui_with_the_nonce(client):
    response = client.get("/api/v1/docs")
    policy = directives(response)

    nonce = policy_nonce(policy["script-src"])
    scripts = re.findall(r"<script[^>]*>", response.get_data(as_text=True))
    assert len(scripts) == 3 and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
    assert policy["connect-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert '"validatorUrl": null' in response.get_data(as_text=True)


def test_api_answers_may_load_nothing(client):
    policy = directives(client.get("/api/v1/offerings"))
    assert policy["default-src"] == ["'none'"]


def test_hsts_only_in_production(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/shop/").headers
    monkeypatch.setitem(app.config, "BOOKWELL_ENV", "production")
    for path in ("/shop/", "/login/", "/api/v1/offerings", "/api/v1/docs"):
        hsts = client.get(path).headers["Strict-Transport-Security"]
        assert hsts == "max-age=31536000; includeSubDomains"


# --- no-store for what is personal -------------------------------------------------------

def test_console_pages_are_not_stored_once_signed_in(app, tenant_a):
    client = console_client(app)
    assert client.get("/login/").headers.get("Cache-Control") != "no-store"
    staff = signed_in(app, tenant_a.staff_email)
    for path in ("/", "/bookingview/list/", "/offeringview/list/"):
        response = staff.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    stylesheet = staff.get("/static/appbuilder/css/ab.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers.get("Cache-Control") != "no-store"


def test_storefront_pages_are_not_stored_while_a_customer_is_signed_in(app, client, store):
    anonymous = client.get(f"/shop/offerings/{store.offering_id}")
    assert anonymous.headers.get("Cache-Control") != "no-store"
    sign_in(client, store.customer_email)
    for path in ("/shop/", f"/shop/offerings/{store.offering_id}", "/shop/bookings"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_api_answers_with_personal_data_are_not_stored(client, store):
    public = client.get("/api/v1/offerings")
    assert public.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    login = client.post("/api/v1/auth/login",
                        json={"email": store.customer_email, "password": "wrong"})
    assert login.headers["Cache-Control"] == "no-store"
    tokens = api_login(client, store.customer_email)
    for path in ("/api/v1/me", "/api/v1/bookings"):
        response = client.get(path, headers=bearer(tokens["access_token"]))
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


# --- the body size limit -----------------------------------------------------------------

def test_a_10_mb_api_body_gets_413_in_the_error_shape(app, client, store):
    from tests.helpers import assert_error_shape

    tokens = api_login(client, store.customer_email)
    response = client.post("/api/v1/bookings", data=TEN_MB,
                           headers={**bearer(tokens["access_token"]),
                                    "Content-Type": "application/json"})
    body = assert_error_shape(response, 413, "payload_too_large")
    assert str(app.config["MAX_CONTENT_LENGTH"]) in body["message"]
    assert client.get("/api/v1/bookings",
                      headers=bearer(tokens["access_token"])).get_json() == []


def test_a_10_mb_form_gets_a_plain_413(client, store):
    for path in ("/shop/login", "/login/"):
        response = client.post(path, data=TEN_MB,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 413, path
        assert response.mimetype == "text/html"


def test_the_limit_follows_the_setting(app, client, store, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100)
    response = client.post("/api/v1/auth/login",
                           json={"email": store.customer_email, "password": "x" * 200})
    assert response.status_code == 413


# --- console sign-out --------------------------------------------------------------------

@pytest.fixture
def csrf_app(app, tmp_dir):
    other = second_app(app, tmp_dir, WTF_CSRF_ENABLED=True)
    other.test_client_class = IsolatedClient
    return other


def _signed_in_with_csrf(csrf_app, email):
    client = console_client(csrf_app)
    login_page = client.get("/login/")
    response = client.post("/login/", data={"username": email, "password": "correct-horse-battery",
                                            "csrf_token": csrf_token(login_page)})
    assert response.status_code == 302 and is_signed_in(client)
    return client


def test_get_logout_does_not_sign_out(csrf_app, tenant_a):
    client = _signed_in_with_csrf(csrf_app, tenant_a.staff_email)

    response = client.get("/logout/")

    assert response.status_code == 405
    assert is_signed_in(client)
    assert client.get("/bookingview/list/").status_code == 200


def test_post_logout_without_the_csrf_token_is_refused(csrf_app, tenant_a):
    client = _signed_in_with_csrf(csrf_app, tenant_a.staff_email)

    response = client.post("/logout/")

    assert response.status_code == 400
    assert is_signed_in(client)


def test_the_menus_sign_out_form_signs_out(csrf_app, tenant_a):
    client = _signed_in_with_csrf(csrf_app, tenant_a.staff_email)
    page = client.get("/bookingview/list/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="(/logout/)">\s*'
                     r'<input type="hidden" name="csrf_token" value="([^"]+)">', page)
    assert form, "no sign-out form in the console menu"
    assert 'href="/logout/"' not in page

    response = client.post(form.group(1), data={"csrf_token": form.group(2)})

    assert response.status_code == 302
    assert not is_signed_in(client)
