"""A guest who registers later: the address's owner is emailed a link to choose a
password, and then every booking made as a guest is in the account."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Account, Booking, Notification
from app.services import bookings, guest_checkout, manage_links


def _guest_booking(store, email="grace@example.com"):
    details = guest_checkout.checked_guest(email=email, first_name="Grace",
                                           last_name="Hopper")
    guest_id = guest_checkout.guest_customer_id(details)
    placed = bookings.place_booking(customer_id=guest_id, offering_id=store.offering_id,
                                    slot_id=store.slot_id)
    return guest_id, placed.reference


def _finish_link(guest_id) -> str:
    db.session.expire_all()
    message = db.session.scalar(select(Notification).where(
        Notification.customer_id == guest_id, Notification.template_key ==
        "registration_attempt").order_by(Notification.id.desc()))
    assert message is not None, "no message to the guest"
    found = re.search(r"/shop/account/finish/[\w.\-]+", message.body_text)
    assert found, message.body_text
    return found.group(0)


def test_registering_a_guests_address_mails_a_link_to_choose_a_password(app, client, store):
    guest_id, reference = _guest_booking(store)

    client.post("/shop/register", data={"email": "grace@example.com", "password": "whatever-the-weather",
                                        "first_name": "Someone", "last_name": "Else"})

    db.session.expire_all()
    assert not db.session.get(Account, guest_id).password  # nothing changed by registering
    link = _finish_link(guest_id)
    short = client.post(link, data={"password": "short"})
    assert short.status_code == 422 and not db.session.get(Account, guest_id).password

    done = client.post(link, data={"password": "a-good-password"})

    assert done.status_code == 302 and done.headers["Location"].endswith("/shop/bookings")
    assert reference in client.get("/shop/bookings").get_data(as_text=True)
    assert client.get(link).status_code == 404  # used: the account has a password now
    signed_in = app.test_client()
    assert signed_in.post("/shop/login", data={"email": "grace@example.com",
                                               "password": "a-good-password"}
                          ).status_code == 302
    # The manage link mailed with the guest booking still opens it.
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    opened = app.test_client().get(manage_links.manage_path(booking), follow_redirects=True)
    assert reference in opened.get_data(as_text=True)


def test_a_forged_or_other_link_does_nothing(client, store):
    guest_id, _ = _guest_booking(store)

    assert client.get("/shop/account/finish/forged").status_code == 404
    assert client.post("/shop/account/finish/forged",
                       data={"password": "a-good-password"}).status_code == 404
    db.session.expire_all()
    assert not db.session.get(Account, guest_id).password
