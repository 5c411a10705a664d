"""The storefront's language: from the browser, the switcher's cookie or the customer's
account; registration keeps it, so the customer's messages use it. The console stays
English."""
from __future__ import annotations

from app.extensions import db
from app.models import Account
from app.services.accounts import find_user_by_email
from tests.builders import PASSWORD
from tests.notifications.conftest import confirmed_booking
from tests.storefront.conftest import sign_in

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def _page(client, path="/shop/", headers=None):
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_german_browser_gets_german_pages_with_german_money(client, store):
    page = _page(client, f"/shop/offerings/{store.offering_id}", GERMAN)
    assert '<html lang="de">' in page
    assert "Anmelden" in page and ">Sign in<" not in page
    assert "42,00\xa0€" in page  # Babel's German currency format


def test_an_english_or_unsupported_browser_gets_english(client, store):
    for headers in (ENGLISH, {"Accept-Language": "fr-FR,fr;q=0.9"}, {}):
        page = _page(client, f"/shop/offerings/{store.offering_id}", headers)
        assert '<html lang="en">' in page and ">Sign in<" in page
        assert "€42.00" in page


def test_the_switcher_remembers_the_choice_in_a_cookie(client, store):
    response = client.post("/shop/language", data={"language": "de",
                                                   "next": "/shop/?q=yoga"})
    assert response.status_code == 302 and response.headers["Location"] == "/shop/?q=yoga"
    cookie = client.get_cookie("bw_language")
    assert cookie.value == "de" and cookie.http_only
    # The choice wins over the browser's language, page after page.
    assert '<html lang="de">' in _page(client, "/shop/", ENGLISH)
    assert '<html lang="de">' in _page(client, "/shop/login", ENGLISH)

    client.post("/shop/language", data={"language": "en"})
    assert '<html lang="en">' in _page(client, "/shop/", GERMAN)


def test_the_switcher_ignores_unknown_languages_and_foreign_targets(client, store):
    response = client.post("/shop/language", data={"language": "xx",
                                                   "next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/shop/"
    assert client.get_cookie("bw_language") is None


def test_the_switcher_shows_every_language_and_marks_the_current_one(client, store):
    page = " ".join(_page(client, "/shop/", GERMAN).split())
    assert 'value="de" lang="de" aria-pressed="true">Deutsch</button>' in page
    assert 'value="en" lang="en" aria-pressed="false">English</button>' in page


def test_a_signed_in_customers_choice_is_stored_in_the_account(app, client, store):
    sign_in(client, store.customer_email)
    client.post("/shop/language", data={"language": "de"})
    with app.app_context():
        assert db.session.get(Account, store.customer_id).locale == "de"

    # Another browser, English, no cookie: the account's language.
    other = app.test_client()
    sign_in(other, store.customer_email)
    assert '<html lang="de">' in _page(other, "/shop/", ENGLISH)


def test_an_account_language_the_shop_lacks_falls_back_to_the_browser(app, client, store):
    with app.app_context():
        db.session.get(Account, store.customer_id).locale = "fr_CA"
        db.session.commit()
    sign_in(client, store.customer_email)
    assert '<html lang="de">' in _page(client, "/shop/", GERMAN)
    with app.app_context():
        db.session.get(Account, store.customer_id).locale = "de_AT"
        db.session.commit()
    assert '<html lang="de">' in _page(client, "/shop/", ENGLISH)


def test_registration_keeps_the_language_and_the_emails_use_it(app, client, build, smtp):
    response = client.post("/shop/register", headers=GERMAN, data={
        "first_name": "Grete", "last_name": "Weber", "email": "grete@example.com",
        "password": PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        customer = find_user_by_email("grete@example.com")
        assert customer.locale == "de"
        reference = confirmed_booking(app, build, customer.id)

    # The link to verify the address (mailed on registration), in German too; then the
    # booking's confirmation.
    verification, message = smtp.to("grete@example.com")
    assert verification["Subject"] == "Bestätigen Sie Ihre E-Mail-Adresse"
    assert message["Subject"].startswith("Buchung bestätigt: Deep tissue massage am ")
    text = message.get_body(("plain",)).get_content()
    assert f"Ihre Buchung {reference}" in text and "42,00\xa0€" in text
    assert "(Europe/Berlin)" in text


def test_the_console_stays_english(client):
    console = client.get("/login/", headers=GERMAN).get_data(as_text=True)
    assert "Anmelden" not in console and 'lang="de"' not in console


def test_pages_say_they_vary_by_language(client, store):
    response = client.get("/shop/")
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_refusals_and_field_errors_speak_the_pages_language(client, store):
    wrong = client.post("/shop/login", headers=GERMAN,
                        data={"email": store.customer_email, "password": "not-it"})
    assert wrong.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in wrong.get_data(as_text=True)

    short = client.post("/shop/register", headers=GERMAN, data={
        "first_name": "Grete", "last_name": "Weber", "email": "grete@example.com",
        "password": "kurz"})
    page = short.get_data(as_text=True)
    assert short.status_code == 422
    assert "Das Passwort ist zu kurz." in page
    assert '<p class="field-error" id="password-error">Verwenden Sie mindestens 8 Zeichen.</p>' \
        in page
    assert 'aria-invalid="true" aria-describedby="password-hint password-error"' in page
    assert 'value="grete@example.com"' in page  # what was typed is kept, but no password

    done = client.post("/shop/register", headers=GERMAN, follow_redirects=True, data={
        "first_name": "Grete", "last_name": "Weber", "email": "grete@example.com",
        "password": PASSWORD})
    assert "Registrierung erhalten" in done.get_data(as_text=True)


def test_a_refused_booking_is_told_in_the_pages_language(build, shopper, store):
    full = build.future_slot(store.offering_id, days=4, capacity=1, booked=1)
    shopper.set_cookie("bw_language", "de")  # the account says English; the switcher wins
    response = shopper.post(f"/shop/offerings/{store.offering_id}/book",
                            data={"slot_id": full, "quantity": 1})
    assert response.status_code == 409
    assert "Dieser Termin wurde gerade von jemand anderem gebucht." in response.get_data(
        as_text=True)
