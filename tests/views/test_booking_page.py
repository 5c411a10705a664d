"""The console's booking page: everything about one booking, its state actions, the move
to another slot and the refund form.

The actions offered and the services' answers come from one table
(``booking_states.STAFF_ACTIONS``): a test walks every status through both.
"""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.errors import DomainError
from app.extensions import db
from app.models import Booking, Notification, Payment, Receipt, Refund, Slot
from app.models.bookings import STATUSES
from app.models.types import utcnow
from app.services import booking_details, payments
from app.services.booking_states import STAFF_ACTIONS
from app.services.bookings import (
    Actor,
    Scope,
    cancel_booking,
    complete_booking,
    confirm_booking,
    mark_no_show,
    place_booking,
)
from tests.views.console import signed_in

PRICE = 4200


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def _slot_at(offering_id: int, starts_at: datetime, capacity: int = 5) -> int:
    from tests import builders
    return builders.slot(offering_id, starts_at, capacity=capacity)


def _book(build, provider_id: int, *, price: int = PRICE, pay_at_venue: bool = True,
          starts_at: datetime | None = None, currency: str = "EUR",
          offering_id: int | None = None) -> Booking:
    if offering_id is None:
        offering_id = build.offering(provider_id, price_minor=price, pay_at_venue=pay_at_venue,
                                     currency=currency, name="Deep tissue massage")
    # Three days ahead at 10:00 UTC: a slot within one local day, whatever the time of the run.
    start = starts_at or (utcnow() + timedelta(days=3)).replace(hour=10, minute=0, second=0,
                                                                microsecond=0)
    slot_id = _slot_at(offering_id, start)
    return place_booking(customer_id=build.customer(), offering_id=offering_id,
                         slot_id=slot_id, quantity=1,
                         now=min(utcnow(), start - timedelta(hours=1)))


def _pay(booking: Booking, *, amount: int | None = None, gateway: str = "manual") -> int:
    amount = booking.total_minor if amount is None else amount
    payment = Payment(provider_id=booking.provider_id, booking_id=booking.id, gateway=gateway,
                      amount_minor=amount, received_minor=amount, currency=booking.currency,
                      status="succeeded", method="cash", succeeded_at=utcnow())
    db.session.add(payment)
    db.session.commit()
    return payment.id


def _status(booking_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Booking, booking_id).status


# --- the page -----------------------------------------------------------------------------

def test_page_shows_payments_refunds_documents_messages(app, build, tenant_a):
    booking = _book(build, tenant_a.provider_id)
    payment_id = _pay(booking)
    db.session.add(Refund(provider_id=booking.provider_id, payment_id=payment_id,
                          amount_minor=500, currency="EUR", status="succeeded",
                          reason="late start"))
    db.session.add(Receipt(provider_id=booking.provider_id, kind="receipt", number=7,
                           display_number="R-000007", booking_id=booking.id,
                           customer_id=booking.customer_id, payment_id=payment_id,
                           total_minor=PRICE, currency="EUR"))
    db.session.add(Notification(provider_id=booking.provider_id, booking_id=booking.id,
                                customer_id=booking.customer_id,
                                dedupe_key=f"page-test-{booking.id}",
                                template_key="booking_confirmed", channel="email",
                                recipient="jo@example.com", status="sent",
                                sent_at=utcnow()))
    db.session.commit()
    staff = signed_in(app, tenant_a.staff_email)
    response = staff.get(f"/bookingview/show/{booking.id}")
    assert response.status_code == 200
    text = _text(response)
    assert "Deep tissue massage" in text
    assert "42.00 EUR" in text and "5.00 EUR" in text  # the payment and its refund
    assert "37.00 EUR" in text  # what can still be refunded
    assert "At the venue" in text
    assert "R-000007" in text and "/receiptview/download/" in text
    assert "Booking confirmed" in text and "jo@example.com" in text and "Email" in text
    assert "mailto:" in text
    assert re.search(r"\d\d:\d\d–\d\d:\d\d [A-Z]{3,4}", text), "slot without zone"
    assert "None" not in text and "True" not in text and "no_show" not in text
    assert not re.search(r"\d\d:\d\d:\d\d\.\d{6}", text), "microseconds"


def test_a_paypal_payment_reads_paypal(app, build, tenant_a):
    booking = _book(build, tenant_a.provider_id)
    payment_id = _pay(booking, gateway="paypal")
    db.session.get(Payment, payment_id).method = "paypal"
    db.session.commit()
    text = _text(signed_in(app, tenant_a.staff_email).get(f"/bookingview/show/{booking.id}"))
    assert "PayPal" in text
    assert "Paypal" not in text and "(paypal)" not in text


def test_other_providers_booking_is_404(app, build, tenant_a, tenant_b):
    foreign = _book(build, tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)
    assert staff.get(f"/bookingview/show/{foreign.id}").status_code == 404
    assert staff.post(f"/bookingview/page-action/{foreign.id}/cancel").status_code == 404
    assert staff.post(f"/bookingview/move/{foreign.id}", data={"slot_id": "1"}
                      ).status_code == 404
    assert _status(foreign.id) == "pending"
    with pytest.raises(DomainError):
        booking_details.booking_details(foreign.id,
                                        scope=Scope.of_provider(tenant_a.provider_id))


def test_page_offers_only_allowed_actions(app, build, tenant_a):
    future = _book(build, tenant_a.provider_id)
    _pay(future)
    confirm_booking(future.reference, actor=Actor(None, "test"), scope=Scope.all_providers())
    staff = signed_in(app, tenant_a.staff_email)
    text = _text(staff.get(f"/bookingview/show/{future.id}"))
    assert "Mark paid" not in text  # paid already
    assert "Mark completed" not in text and "Mark no-show" not in text  # still to come
    assert ">Cancel<" in text


def test_mark_completed_from_the_page(app, build, tenant_a):
    started = _book(build, tenant_a.provider_id, price=0,
                    starts_at=(utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0))
    staff = signed_in(app, tenant_a.staff_email)
    assert "Mark completed" in _text(staff.get(f"/bookingview/show/{started.id}"))
    response = staff.post(f"/bookingview/page-action/{started.id}/complete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/bookingview/show/{started.id}")
    assert _status(started.id) == "completed"
    assert ("success", f"{started.reference}: completed.") in _flashes(staff)


def test_refused_action_is_flashed_and_changes_nothing(app, build, tenant_a):
    future = _book(build, tenant_a.provider_id, price=0)
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"/bookingview/page-action/{future.id}/complete")
    assert _status(future.id) == "confirmed"
    assert any(c == "danger" and "ended" in m for c, m in _flashes(staff))


# --- one table for what is offered and what the services accept ---------------------------

def _run(name: str, reference: str) -> None:
    actor, scope = Actor(None, "test"), Scope.all_providers()
    if name == "mark_paid":
        payments.mark_paid(reference, actor_id=None, scope=scope)
        return
    service = {"confirm": confirm_booking, "cancel": cancel_booking,
               "complete": complete_booking, "no_show": mark_no_show}[name]
    service(reference, actor=actor, scope=scope)


@pytest.mark.parametrize("when", ["future", "over"])
@pytest.mark.parametrize("pay_at_venue,paid", [(True, False), (True, True), (False, False),
                                               (False, True)])
def test_offered_actions_are_exactly_the_accepted_ones(build, tenant_a, when, pay_at_venue,
                                                       paid):
    start = utcnow() + timedelta(days=2) if when == "future" else utcnow() - timedelta(hours=3)
    start = start.replace(second=0, microsecond=0)
    offering_id = build.offering(tenant_a.provider_id, price_minor=PRICE,
                                 pay_at_venue=pay_at_venue)
    for i, (status, name) in enumerate((s, n) for s in STATUSES for n in STAFF_ACTIONS):
        booking = _book(build, tenant_a.provider_id, offering_id=offering_id,
                        starts_at=start - timedelta(minutes=i))  # one slot each
        if paid:
            _pay(booking, gateway="manual" if pay_at_venue else "stripe")
        db.session.execute(update(Booking).where(Booking.id == booking.id)
                           .values(status=status))
        db.session.commit()
        offered = name in {a.name for a in booking_details.booking_details(
            booking.id, scope=Scope.of_provider(tenant_a.provider_id)).actions}
        try:
            _run(name, booking.reference)
        except DomainError:
            accepted = False
        else:
            accepted = True
        assert offered == accepted, (status, name, when, pay_at_venue, paid)


# --- moving to another slot ----------------------------------------------------------------

def test_reschedule_from_the_page(app, build, tenant_a):
    booking = _book(build, tenant_a.provider_id, price=0)
    later = (booking.starts_at + timedelta(days=1)).replace(second=0, microsecond=0)
    target = _slot_at(booking.offering_id, later)
    staff = signed_in(app, tenant_a.staff_email)
    page = _text(staff.get(f"/bookingview/show/{booking.id}"))
    assert f'value="{target}"' in page and "5 places left" in page
    response = staff.post(f"/bookingview/move/{booking.id}", data={"slot_id": str(target)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).slot_id == target
    assert any(c == "success" and "moved to" in m for c, m in _flashes(staff))


def test_reschedule_to_a_full_slot_is_refused_and_changes_nothing(app, build, tenant_a):
    booking = _book(build, tenant_a.provider_id, price=0)
    old_slot = booking.slot_id
    full = _slot_at(booking.offering_id, booking.starts_at + timedelta(days=1), capacity=1)
    db.session.execute(update(Slot).where(Slot.id == full).values(booked=1))
    db.session.commit()
    staff = signed_in(app, tenant_a.staff_email)
    assert f'value="{full}"' not in _text(staff.get(f"/bookingview/show/{booking.id}"))
    staff.post(f"/bookingview/move/{booking.id}", data={"slot_id": str(full)})
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).slot_id == old_slot
    assert db.session.get(Slot, old_slot).booked == 1
    assert db.session.get(Slot, full).booked == 1
    assert any(c == "danger" for c, _ in _flashes(staff))


# --- refunds -------------------------------------------------------------------------------

def _refunds(payment_id: int) -> list[Refund]:
    db.session.expire_all()
    return list(db.session.scalars(select(Refund).where(Refund.payment_id == payment_id)))


def test_refund_over_the_refundable_amount_is_refused(app, build, tenant_a):
    booking = _book(build, tenant_a.provider_id)
    payment_id = _pay(booking)
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"/bookingview/refund/{booking.id}/{payment_id}", data={"amount": "42.01"})
    assert _refunds(payment_id) == []
    assert any(c == "danger" and "42.00 EUR" in m for c, m in _flashes(staff))


@pytest.mark.parametrize("currency,typed,minor,refused", [
    ("KWD", "1.234", 1234, "1.2345"), ("JPY", "1500", 1500, "15.5"), ("EUR", "12.50", 1250,
                                                                      "1.234")])
def test_refund_in_major_units_uses_the_currency_exponent(app, build, tenant_a, currency,
                                                          typed, minor, refused):
    booking = _book(build, tenant_a.provider_id, price=4200, currency=currency)
    payment_id = _pay(booking)
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"/bookingview/refund/{booking.id}/{payment_id}", data={"amount": refused})
    assert _refunds(payment_id) == []
    staff.post(f"/bookingview/refund/{booking.id}/{payment_id}",
               data={"amount": typed, "reason": "goodwill"})
    assert [r.amount_minor for r in _refunds(payment_id)] == [minor]


def test_refund_of_a_foreign_payment_is_404(app, build, tenant_a, tenant_b):
    own = _book(build, tenant_a.provider_id)
    foreign = _book(build, tenant_b.provider_id)
    foreign_payment = _pay(foreign)
    staff = signed_in(app, tenant_a.staff_email)
    assert staff.post(f"/bookingview/refund/{own.id}/{foreign_payment}",
                      data={"amount": "1.00"}).status_code == 404
    assert _refunds(foreign_payment) == []
