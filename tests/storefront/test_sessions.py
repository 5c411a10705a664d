"""Where a customer is signed in, on the shop: each browser's session listed in the
customer's zone, one ended from another, or all the others; never another customer's."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, SignInSession
from tests.storefront.conftest import sign_in

PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def _browser(app, email, user_agent=""):
    client = app.test_client()
    if user_agent:
        client.environ_base["HTTP_USER_AGENT"] = user_agent
    sign_in(client, email)
    return client


def _session_ids(page: str) -> list[str]:
    return re.findall(r'data-session="(\w+)"', page)


def test_a_customer_sees_and_ends_the_other_browsers_session(app, store, build):
    laptop = _browser(app, store.customer_email)
    phone = _browser(app, store.customer_email, PHONE)

    page = laptop.get("/shop/account/sessions").get_data(as_text=True)
    assert len(_session_ids(page)) == 2
    assert "iPhone / iOS 17.0 / Mobile Safari 17.0" in page and "This browser" in page
    assert "Times in UTC." in page  # the customer's zone, named once per time:
    assert re.search(r"Signed in \w{3}, \w{3} \d+, \d{4}, \d\d:\d\d UTC<", page)
    assert "UTC (UTC)" not in page
    phone_id = db.session.scalar(select(SignInSession.id).where(
        SignInSession.device.like("iPhone%")))

    assert laptop.post(f"/shop/account/sessions/{phone_id}/end").status_code == 302
    assert phone.get("/shop/bookings").status_code == 302  # signed out there
    assert laptop.get("/shop/bookings").status_code == 200
    remaining = _session_ids(laptop.get("/shop/account/sessions").get_data(as_text=True))
    assert len(remaining) == 1 and phone_id not in remaining


def test_signing_out_everywhere_else_keeps_this_browser(app, store):
    others = [_browser(app, store.customer_email) for _ in range(2)]
    this = _browser(app, store.customer_email)
    done = this.post("/shop/account/sessions/end-others", follow_redirects=True)
    assert "Signed out of 2 other places." in done.get_data(as_text=True)
    assert all(other.get("/shop/bookings").status_code == 302 for other in others)
    assert this.get("/shop/bookings").status_code == 200


def test_another_customers_session_cannot_be_ended(app, store, build):
    other_email = build.email_of(build.customer())
    theirs = _browser(app, other_email)
    their_id = db.session.scalar(select(SignInSession.id))
    mine = _browser(app, store.customer_email)
    assert their_id not in mine.get("/shop/account/sessions").get_data(as_text=True)
    refused = mine.post(f"/shop/account/sessions/{their_id}/end", follow_redirects=True)
    assert "ended already" in refused.get_data(as_text=True)
    assert theirs.get("/shop/bookings").status_code == 200


def test_signing_out_ends_the_session_and_the_page_needs_a_sign_in(app, store):
    client = _browser(app, store.customer_email)
    client.post("/shop/logout")
    assert db.session.scalar(select(SignInSession.ended_at)) is not None
    assert client.get("/shop/account/sessions").status_code == 302


def test_a_wrong_password_on_the_shop_is_shown_and_audited(app, store):
    client = app.test_client()
    response = client.post("/shop/login", data={"email": store.customer_email,
                                                "password": "not-the-one"})
    assert response.status_code == 401
    assert "wrong" in response.get_data(as_text=True).lower()
    actions = db.session.scalars(select(AuditLog.action)).all()
    assert actions.count("account.sign_in_failed") == 1
    assert "account.signed_in" not in actions
