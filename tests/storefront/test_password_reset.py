"""A customer who forgot their password, in the shop: the link under the sign-in form, the
mail from a local SMTP server, a new password, the old shop session ended; in German too."""
from __future__ import annotations

import re
import time

from flask import current_app

from tests.notifications.conftest import run_jobs
from tests.storefront.conftest import sign_in

NEW_PASSWORD = "a-fresh-harbour-lantern"


def _reset_path(smtp, address) -> str:
    run_jobs(current_app)
    (message,) = smtp.to(address)
    return re.search(r"/shop/password/reset/\S+",
                     message.get_body(("plain",)).get_content()).group(0)


def test_a_customer_chooses_a_new_password_from_the_mailed_link(app, store, shopper, smtp):
    time.sleep(1.05)  # the shopper's session starts a second before the reset
    visitor = app.test_client()
    assert "/shop/password/forgot" in visitor.get("/shop/login").get_data(as_text=True)
    asked = visitor.post("/shop/password/forgot", data={"email": store.customer_email})
    assert asked.status_code == 302
    assert "we have emailed it a link" in visitor.get(asked.headers["Location"]).get_data(
        as_text=True)
    path = _reset_path(smtp, store.customer_email)

    weak = visitor.post(path, data={"password": "short"})
    assert weak.status_code == 422 and 'aria-invalid="true"' in weak.get_data(as_text=True)
    assert visitor.post(path, data={"password": NEW_PASSWORD}).status_code == 302

    assert shopper.get("/shop/bookings").status_code == 302  # the old session has ended
    sign_in(visitor, store.customer_email, NEW_PASSWORD)
    assert visitor.get("/shop/bookings").status_code == 200
    again = visitor.get(path)
    assert again.status_code == 422 and "/shop/password/forgot" in again.get_data(as_text=True)


def test_the_pages_speak_german(app, store, smtp):
    visitor = app.test_client()
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    page = visitor.get("/shop/password/forgot", headers=german).get_data(as_text=True)
    assert "Passwort vergessen?" in page and "Link per E-Mail senden" in page
    visitor.post("/shop/password/forgot", data={"email": "nobody@example.com"},
                 headers=german)
    run_jobs(current_app)
    assert smtp.messages == []
