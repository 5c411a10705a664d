"""A customer with data in every part of the schema, and another one beside them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Booking, LinkedIdentity, Notification
from app.errors import Unauthorized
from app.services import accounts, audit, bookings, refunds, sign_in_sessions, social_sign_in
from app.services.scopes import Actor, Scope
from tests.receipts import conftest as receipt_fixtures
from tests.receipts.conftest import run_event_jobs

# The receipts suite's fixtures: a shop, a storage folder per test, credit notes unlinked.
shop = receipt_fixtures.shop
receipt_folder = receipt_fixtures.receipt_folder
unlink_credit_notes = receipt_fixtures.unlink_credit_notes


def person(user_id: int, *, first: str, last: str, email: str, phone: str) -> None:
    account = db.session.get(Account, user_id)
    account.first_name, account.last_name = first, last
    account.email = account.username = email
    account.phone = phone
    db.session.commit()


def give_data(app, build, shop, user_id: int, *, tag: str) -> dict:
    """Sessions, a linked Google sign-in, a paid and part-refunded booking with notes,
    messages, audit entries made from the person's address; ``tag`` makes every value findable."""
    address = f"203.0.113.{len(tag)}"
    with audit.acting_as(Actor(user_id=user_id, ip=address)):
        session_id = sign_in_sessions.start(user_id, "api", user_agent=f"{tag}Client/1.0",
                                            address=address)
        slot = build.future_slot(shop["offering"], days=3 + len(tag), capacity=50)
        reference = bookings.place_booking(customer_id=user_id, offering_id=shop["offering"],
                                           slot_id=slot, notes=f"{tag} arrives late").reference
    with audit.acting_as(Actor(user_id=None, ip=address)):  # a failed sign-in, audited
        with pytest.raises(Unauthorized):
            accounts.authenticate(email=db.session.get(Account, user_id).email,
                                  password="not the password")
    _, payment_id = _pay(reference)
    run_event_jobs(app)
    refunds.request_refund(payment_id, amount_minor=500, reason="late",
                           actor_id=None, scope=Scope.all_providers())
    run_event_jobs(app)
    account = db.session.get(Account, user_id)
    # A Google sign-in linked with the person's address, and an app code waiting for them.
    db.session.add(LinkedIdentity(account_id=user_id, provider="google",
                                  subject=f"{tag}-google", email=account.email))
    social_sign_in.issue_app_code(user_id)
    booking_id = db.session.scalar(select(Booking.id).where(Booking.reference == reference))
    db.session.add(Notification(
        provider_id=shop["provider"], booking_id=booking_id, customer_id=user_id,
        dedupe_key=f"test:{user_id}", template_key="booking_confirmed", channel="sms",
        recipient=account.phone, subject=None, status="sent",
        body_text=f"Hi {account.first_name}, see you soon"))
    db.session.add(Notification(
        provider_id=shop["provider"], booking_id=booking_id, customer_id=None,
        dedupe_key=f"test:staff:{user_id}", template_key="staff_booking_new", channel="email",
        recipient="front-desk@example.com", subject=f"New booking: {account.first_name} "
        f"{account.last_name}", status="sent",
        body_text=f"{account.first_name} {account.last_name} ({account.email}) booked"))
    db.session.commit()
    return {"reference": reference, "session": session_id, "address": address}


def _pay(reference):
    from app.services import payments
    from app.models import Payment
    payments.mark_paid(reference, actor_id=None, method="cash", scope=Scope.all_providers())
    return reference, db.session.scalar(select(Payment.id).join(
        Booking, Booking.id == Payment.booking_id).where(Booking.reference == reference))


@pytest.fixture
def two_customers(app, build, shop):
    other = build.customer()
    person(shop["customer"], first="Zebedee", last="Quarrington",
           email="zebedee.quarrington@example.com", phone="+4915112398765")
    person(other, first="Ottilie", last="Brunswick", email="ottilie.brunswick@example.com",
           phone="+4917655501234")
    return {"customer": shop["customer"], "other": other,
            "mine": give_data(app, build, shop, shop["customer"], tag="Zebphone"),
            "theirs": give_data(app, build, shop, other, tag="Otterphone")}
