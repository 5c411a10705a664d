"""Verifying an email address in the shop, with the mail read from a local SMTP server: the
link mailed on registration, the page it opens (also for a used, expired or forged link),
the notice and "Send the link again" on the account's pages; and the bookings placed as a
guest with the address, which the account shows only once the address is verified."""
from __future__ import annotations

import re
import time

from flask import current_app
from itsdangerous import TimestampSigner
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Booking
from app.services import guest_checkout, manage_links
from tests.helpers import api_login, assert_error_shape, bearer
from tests.notifications.conftest import run_jobs
from tests.storefront.conftest import sign_in

PASSWORD = "a-quiet-harbour-lantern"
EMAIL = "grace@example.com"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def _register(client, email=EMAIL, headers=None):
    response = client.post("/shop/register", headers=headers or {}, data={
        "email": email, "password": PASSWORD, "first_name": "Grace", "last_name": "Hopper"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _verify_paths(smtp, address=EMAIL) -> list[str]:
    run_jobs(current_app)
    return [re.search(r"/shop/account/verify/\S+",
                      m.get_body(("plain",)).get_content()).group(0)
            for m in smtp.to(address) if "/shop/account/verify/" in
            m.get_body(("plain",)).get_content()]


def _verified_at():
    db.session.expire_all()
    return db.session.scalar(select(Account.email_verified_at).where(Account.email == EMAIL))


def _book_as_guest(client, store, email=EMAIL) -> str:
    page = client.get(f"/shop/offerings/{store.offering_id}/review?slot_id={store.slot_id}"
                      "&quantity=1").get_data(as_text=True)
    token = re.search(r'name="submission" value="([0-9a-f]+)"', page).group(1)
    response = client.post(f"/shop/offerings/{store.offering_id}/book-as-guest", data={
        "slot_id": store.slot_id, "quantity": 1, "submission": token, "first_name": "Grace",
        "last_name": "Hopper", "email": email, "phone": ""})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[1]


def _book_signed_in(client, store) -> str:
    page = client.get(f"/shop/offerings/{store.offering_id}/review?slot_id={store.slot_id}"
                      "&quantity=1").get_data(as_text=True)
    token = re.search(r'name="submission" value="([0-9a-f]+)"', page).group(1)
    response = client.post(f"/shop/offerings/{store.offering_id}/book", data={
        "slot_id": store.slot_id, "quantity": 1, "submission": token})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[1]


def test_the_mailed_link_verifies_the_address_once(app, client, store, smtp):
    _register(client)
    (path,) = _verify_paths(smtp)
    sign_in(client, EMAIL, PASSWORD)
    page = client.get("/shop/bookings").get_data(as_text=True)
    assert "Your address is not verified yet" in page and "Send the link again" in page

    opened = client.get(path)

    assert opened.status_code == 200
    assert f"{EMAIL} is verified" in opened.get_data(as_text=True)
    assert _verified_at() is not None
    assert "not verified yet" not in client.get("/shop/bookings").get_data(as_text=True)
    again = app.test_client().get(path)
    assert again.status_code == 422
    assert "it was used already" in again.get_data(as_text=True)


def test_an_expired_or_forged_link_gets_a_clear_page(app, client, store, smtp, monkeypatch):
    _register(client)
    (path,) = _verify_paths(smtp)
    later = int(time.time()) + current_app.config["EMAIL_VERIFICATION_MAX_AGE_HOURS"] * 3600 + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)

    expired = client.get(path)

    assert expired.status_code == 422
    assert "This link has expired" in expired.get_data(as_text=True)
    assert _verified_at() is None
    forged = client.get("/shop/account/verify/forged")
    assert forged.status_code == 422 and "This link does not work" in forged.get_data(
        as_text=True)


def test_send_the_link_again_is_limited_per_account(app, client, store, smtp, monkeypatch):
    monkeypatch.setitem(current_app.config, "EMAIL_VERIFICATION_RATE_LIMIT", "2 per hour")
    _register(client)
    sign_in(client, EMAIL, PASSWORD)

    first = client.post("/shop/account/verify")
    assert first.status_code == 302
    assert "We have emailed a new link" in client.get(first.headers["Location"]).get_data(
        as_text=True)
    answers = [client.post("/shop/account/verify") for _ in range(2)]

    assert [a.status_code for a in answers] == [302, 429]
    assert "Too many attempts" in answers[1].get_data(as_text=True)
    paths = _verify_paths(smtp)
    assert len(paths) == 3  # registration + two
    assert client.get(paths[-1]).status_code == 200


def test_the_pages_speak_german(app, client, store, smtp):
    _register(client, headers=GERMAN)
    (path,) = _verify_paths(smtp)
    (message,) = smtp.to(EMAIL)
    assert message["Subject"] == "Bestätigen Sie Ihre E-Mail-Adresse"
    sign_in(client, EMAIL, PASSWORD)
    page = client.get("/shop/bookings", headers=GERMAN).get_data(as_text=True)
    assert "Ihre Adresse ist noch nicht bestätigt" in page and "Link erneut senden" in page
    done = client.get(path, headers=GERMAN).get_data(as_text=True)
    assert "ist bestätigt" in done
    used = client.get(path, headers=GERMAN).get_data(as_text=True)
    assert "Dieser Link funktioniert nicht" in used


# --- bookings placed as a guest with the address -----------------------------------------

def test_guest_bookings_show_in_the_account_only_once_the_address_is_verified(
        app, client, store, smtp):
    _register(client)
    (path,) = _verify_paths(smtp)
    guest = app.test_client()  # someone booking as a guest with the address
    as_guest = _book_as_guest(guest, store)
    account = app.test_client()
    sign_in(account, EMAIL, PASSWORD)
    own = _book_signed_in(account, store)
    assert db.session.scalar(select(Booking.placed_as_guest).where(
        Booking.reference == as_guest)) is True

    listed = account.get("/shop/bookings").get_data(as_text=True)
    assert own in listed and as_guest not in listed
    assert "Bookings made as a guest with this address show here" in listed
    assert account.get(f"/shop/bookings/{as_guest}").status_code == 404
    assert account.post(f"/shop/bookings/{as_guest}/cancel").status_code == 404
    tokens = api_login(client, EMAIL, PASSWORD)
    api_list = client.get("/api/v1/bookings", headers=bearer(tokens["access_token"]))
    assert [b["reference"] for b in api_list.get_json()] == [own]
    assert_error_shape(client.get(f"/api/v1/bookings/{as_guest}",
                                  headers=bearer(tokens["access_token"])), 404)
    assert_error_shape(client.post(f"/api/v1/bookings/{as_guest}/cancel",
                                   headers=bearer(tokens["access_token"])), 404)
    export = client.get("/api/v1/me/export", headers=bearer(tokens["access_token"])).get_json()
    assert [b["reference"] for b in export["bookings"]] == [own]
    assert not any(as_guest in (m["body"] or "") for m in export["messages"])
    db.session.expire_all()
    assert db.session.scalar(select(Booking.status).where(
        Booking.reference == as_guest)) == "pending"  # nothing changed
    # The guest's own browser and the mailed manage link still open it.
    assert guest.get(f"/shop/bookings/{as_guest}").status_code == 200
    booking = db.session.scalar(select(Booking).where(Booking.reference == as_guest))
    opened = app.test_client().get(manage_links.manage_path(booking), follow_redirects=True)
    assert opened.status_code == 200 and as_guest in opened.get_data(as_text=True)

    assert account.get(path).status_code == 200  # the address is verified

    listed = account.get("/shop/bookings").get_data(as_text=True)
    assert own in listed and as_guest in listed
    assert account.get(f"/shop/bookings/{as_guest}").status_code == 200
    api_list = client.get("/api/v1/bookings", headers=bearer(tokens["access_token"]))
    assert sorted(b["reference"] for b in api_list.get_json()) == sorted([own, as_guest])


def test_with_the_action_not_configured_guest_bookings_show_at_once(
        app, client, store, smtp, monkeypatch):
    monkeypatch.setitem(current_app.config, "VERIFIED_EMAIL_REQUIRED_FOR",
                        ("link_social", "change_email"))
    _register(client)
    as_guest = _book_as_guest(app.test_client(), store)
    sign_in(client, EMAIL, PASSWORD)
    listed = client.get("/shop/bookings").get_data(as_text=True)
    assert as_guest in listed
    assert "Bookings made as a guest" not in listed  # nothing waits
    assert client.get(f"/shop/bookings/{as_guest}").status_code == 200


def test_a_guest_finishing_the_account_from_the_mailed_link_is_verified(app, store, smtp):
    details = guest_checkout.checked_guest(email=EMAIL, first_name="Grace",
                                           last_name="Hopper")
    guest_id = guest_checkout.guest_customer_id(details)
    token = manage_links.finish_account_token(db.session.get(Account, guest_id))

    account = guest_checkout.finish_guest_account(token, password=PASSWORD)

    assert account.email_verified_at is not None


def test_changing_the_address_in_the_shop_waits_for_a_verified_one_then_mails_the_new(
        client, app_ctx, smtp):
    _register(client)
    (first_link,) = _verify_paths(smtp)
    sign_in(client, EMAIL, PASSWORD)
    page = client.get("/shop/account/sessions").get_data(as_text=True)
    assert "Not verified yet" in page and "Change email address" in page
    refused = client.post("/shop/account/email", data={"email": "grace.new@example.com"})
    assert refused.status_code == 302
    assert db.session.scalar(select(Account.email)) == EMAIL  # unproven: unchanged
    client.get(first_link)
    client.post("/shop/account/email", data={"email": "grace.new@example.com"})
    db.session.expire_all()
    account = db.session.scalars(select(Account)).one()
    assert (account.email, account.email_verified_at) == ("grace.new@example.com", None)
    assert _verify_paths(smtp, "grace.new@example.com")  # the new address gets a link
    page = client.get("/shop/account/sessions").get_data(as_text=True)
    assert "grace.new@example.com" in page
    bad = client.post("/shop/account/email", data={"email": "not-an-address"})
    assert bad.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Account.email)) == "grace.new@example.com"
