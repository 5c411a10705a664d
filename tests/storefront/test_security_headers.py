"""Storefront security headers: scripts and styles by nonce only, a third party allowed only
on the page that loads it, no caching while a customer is signed in, and the body limit."""
from __future__ import annotations

from tests.csp import directives, page_nonces, policy_nonce, script_tags
from tests.storefront.conftest import sign_in


def test_storefront_scripts_and_styles_need_this_requests_nonce(client, store):
    first = client.get(f"/shop/offerings/{store.offering_id}")
    second = client.get(f"/shop/offerings/{store.offering_id}")
    policy = directives(first)

    nonce = policy_nonce(policy["script-src"])
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert page_nonces(first) <= {nonce}  # every inline script or style carries it
    # The layout is a stylesheet from this site ('self'), not an inline style.
    assert 'href="/shop/static/shop.css"' in first.get_data(as_text=True)
    assert client.get("/shop/static/shop.css").status_code == 200
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
    assert "tiktok" not in pay_page.headers["Content-Security-Policy"]
    nonce = policy_nonce(policy["script-src"])
    scripts = script_tags(pay_page)
    assert len(scripts) == 3 and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts


def test_the_map_frame_is_allowed_only_with_a_maps_key(app, client, build, monkeypatch):
    provider = build.provider()
    location = build.location(provider)
    offering = build.offering(provider, location_id=location)
    without_key = client.get(f"/shop/offerings/{offering}")
    monkeypatch.setitem(app.config, "GOOGLE_MAPS_API_KEY", "AIzaTest")
    with_key = client.get(f"/shop/offerings/{offering}")

    assert directives(without_key)["frame-src"] == ["'none'"]
    assert directives(with_key)["frame-src"] == ["https://www.google.com"]


def test_pages_are_not_stored_while_a_customer_is_signed_in(client, store):
    anonymous = client.get(f"/shop/offerings/{store.offering_id}")
    assert anonymous.headers.get("Cache-Control") != "no-store"
    sign_in(client, store.customer_email)
    for path in ("/shop/", f"/shop/offerings/{store.offering_id}", "/shop/bookings"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_a_10_mb_form_gets_a_plain_413(client):
    response = client.post("/shop/login", data=b"x" * (10 * 1024 * 1024),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.mimetype == "text/html"


def _booking_page(shopper, store):
    from app.services import bookings

    reference = bookings.place_booking(customer_id=store.customer_id,
                                       offering_id=store.offering_id,
                                       slot_id=store.slot_id).reference
    return shopper.get(f"/shop/bookings/{reference}")


def test_paypals_js_sdk_is_allowed_only_when_set_and_then_only_its_origin(
        app, shopper, store, paypal_on, monkeypatch):
    without = _booking_page(shopper, store)
    assert paypal_on.url not in directives(without)["script-src"]
    assert "/sdk/js" not in without.get_data(as_text=True)

    monkeypatch.setitem(app.config, "PAYPAL_JS_SDK_URL", f"{paypal_on.url}/sdk/js")
    page = _booking_page(shopper, store)
    policy = directives(page)

    nonce = policy_nonce(policy["script-src"])
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'", paypal_on.url]
    assert policy["frame-src"] == ["'none'"] and policy["connect-src"] == ["'self'"]
    sdk = next(tag for tag in script_tags(page) if "/sdk/js" in tag)
    assert f'src="{paypal_on.url}/sdk/js?client-id=local-paypal-client&amp;currency=EUR' \
        f'&amp;intent=capture' in sdk
    assert f'nonce="{nonce}"' in sdk and f'data-csp-nonce="{nonce}"' in sdk
    offering = shopper.get(f"/shop/offerings/{store.offering_id}")
    client_policy = offering.headers["Content-Security-Policy"]
    assert paypal_on.url not in client_policy  # only where the buttons are


def test_paypals_own_sdk_gets_the_hosts_paypal_documents_and_nothing_broader(
        app, shopper, store, paypal_on, monkeypatch):
    # PayPal's own API (the pages never call it): its SDK by default.
    monkeypatch.setitem(app.config, "PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com")
    page = _booking_page(shopper, store)
    policy = directives(page)

    paypal_hosts = ["https://*.paypal.com", "https://*.paypalobjects.com"]
    for directive in ("script-src", "frame-src", "connect-src", "img-src", "style-src"):
        assert [s for s in policy[directive] if "paypal" in s] == paypal_hosts, directive
    assert "'none'" not in policy["frame-src"]
    header = page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "venmo" not in header and " * " not in header
    assert 'src="https://www.paypal.com/sdk/js?client-id=' in page.get_data(as_text=True)

    monkeypatch.setitem(app.config, "PAYPAL_JS_SDK_URL", "")  # set empty: the plain form
    plain = _booking_page(shopper, store)
    assert "paypalobjects" not in plain.headers["Content-Security-Policy"]
    assert "/sdk/js" not in plain.get_data(as_text=True)
    assert "Pay with PayPal" in plain.get_data(as_text=True)
