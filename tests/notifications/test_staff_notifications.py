"""Emails to a provider's staff about its bookings, over real SMTP: once per event and
address, to the addresses the provider chose, never to another provider's staff."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app import events
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Account, Booking, Notification, OutboxEvent, StaffNotificationSetting
from app.services import bookings, staff_notifications
from app.services.scopes import Scope
from tests.notifications.conftest import customer, run_jobs

STAFF_KEYS = ("staff_booking_new", "staff_booking_awaiting_confirmation",
              "staff_booking_cancelled", "staff_booking_rescheduled")
START = datetime(2031, 1, 15, 13, 30, tzinfo=timezone.utc)  # 14:30 CET in Berlin


def studio(build, name="Alpha Spa", staff=("desk@alpha.example",)):
    provider_id = build.provider(name=name, timezone="Europe/Berlin")
    for email in staff:
        build.staff(provider_id, email=email)
    return provider_id


def place(app, build, provider_id, *, price_minor=4200, pay_at_venue=True, starts_at=START,
          customer_id=None):
    offering = build.offering(provider_id, price_minor=price_minor, currency="EUR",
                              pay_at_venue=pay_at_venue, name="Deep tissue massage")
    slot = build.slot(offering, starts_at, capacity=5)
    customer_id = customer_id or customer(build, sms=False, email=f"c{offering}@example.com")
    placed = bookings.place_booking(customer_id=customer_id, offering_id=offering,
                                    slot_id=slot)
    run_jobs(app)
    return placed.reference, offering


def staff_rows(**where):
    query = select(Notification).where(Notification.template_key.in_(STAFF_KEYS))
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return db.session.scalars(query.order_by(Notification.id)
                              .execution_options(populate_existing=True)).all()


def subjects_to(smtp, address):
    return [message["Subject"] for message in smtp.to(address)]


STAFF = Scope.all_providers()
ACTOR = bookings.Actor(None, "test")


def test_pay_at_venue_booking_asks_staff_to_confirm_once(app, build, smtp):
    alpha = studio(build, staff=("desk@alpha.example", "owner@alpha.example"))
    reference, _ = place(app, build, alpha)

    for address in ("desk@alpha.example", "owner@alpha.example"):
        (message,) = smtp.to(address)
        assert message["Subject"] == (f"Please confirm: Deep tissue massage, Wed, Jan 15, 2031, "
                                      f"14:30 CET (Europe/Berlin) ({reference})")
        text = message.get_body(("plain",)).get_content()
        assert "waits for your confirmation" in text and "€42.00" in text
        booking_id = db.session.scalar(select(Booking.id).where(Booking.reference == reference))
        assert f"/bookingview/show/{booking_id}" in text
        html = message.get_body(("html",)).get_content()
        assert f"/bookingview/show/{booking_id}" in html
    assert {row.status for row in staff_rows()} == {"sent"}

    # Staff confirm it themselves: no "new booking" mail on top.
    bookings.confirm_booking(reference, actor=ACTOR, scope=STAFF)
    run_jobs(app)
    assert staff_rows(template_key="staff_booking_new") == []
    assert len(smtp.to("desk@alpha.example")) == 1


def test_an_event_delivered_twice_mails_each_address_once(app, build, smtp):
    alpha = studio(build)
    reference, _ = place(app, build, alpha)
    bookings.cancel_booking(reference, actor=ACTOR, scope=STAFF)
    run_jobs(app)
    event_id = db.session.scalar(select(OutboxEvent.id).where(
        OutboxEvent.topic == "booking.cancelled"))
    payload = db.session.get(OutboxEvent, event_id).payload
    assert len(staff_rows(template_key="staff_booking_cancelled")) == 1

    events.deliver(event_id)  # delivered again: the consumer's claim skips it
    # Even a consumer run again without its claim writes no second row (dedupe key).
    staff_notifications.notify_staff_of_cancellation(event_id=event_id,
                                                     topic="booking.cancelled",
                                                     payload=dict(payload))
    run_jobs(app)
    assert len(staff_rows(template_key="staff_booking_cancelled")) == 1
    cancelled = [s for s in subjects_to(smtp, "desk@alpha.example")
                 if s.startswith("Booking cancelled")]
    assert len(cancelled) == 1


def test_free_booking_is_announced_as_new(app, build, smtp):
    alpha = studio(build)
    reference, _ = place(app, build, alpha, price_minor=0, pay_at_venue=False)
    (message,) = smtp.to("desk@alpha.example")
    assert message["Subject"].startswith("New booking: Deep tissue massage, Wed, Jan 15, 2031, "
                                         "14:30 CET")
    assert reference in message["Subject"]
    assert "Ada Lovelace" in message.get_body(("plain",)).get_content()


def test_online_booking_is_announced_only_once_paid(app, build, smtp):
    alpha = studio(build)
    reference, _ = place(app, build, alpha, pay_at_venue=False)
    run_jobs(app)
    assert staff_rows() == []  # a hold waiting for its payment is nobody's work yet
    # Its payment went through (the payment service calls the same verb).
    from app.services import booking_lifecycle
    from app.services.transactions import unit_of_work

    with unit_of_work():
        booking = booking_lifecycle.get_booking_for_update(reference, scope=STAFF)
        booking_lifecycle.confirm_paid(booking, actor=ACTOR)
    run_jobs(app)
    (row,) = staff_rows()
    assert row.template_key == "staff_booking_new" and row.status == "sent"


def test_cancellation_by_the_customer_and_reschedule(app, build, smtp):
    alpha = studio(build)
    customer_id = customer(build, sms=False, email="ada@example.com")
    reference, offering = place(app, build, alpha, customer_id=customer_id,
                                starts_at=datetime.now(timezone.utc).replace(
                                    second=0, microsecond=0) + timedelta(days=10))
    later = build.slot(offering, START + timedelta(days=1), capacity=5)
    bookings.reschedule_booking(reference, new_slot_id=later, actor=ACTOR, scope=STAFF)
    run_jobs(app)
    (moved,) = staff_rows(template_key="staff_booking_rescheduled")
    assert "Thu, Jan 16, 2031, 14:30 CET (Europe/Berlin)" in moved.body_text
    assert "Was: " in moved.body_text and "Now: Thu, Jan 16, 2031" in moved.body_text

    bookings.cancel_own_booking(reference, customer_id=customer_id, actor=ACTOR)
    run_jobs(app)
    (cancelled,) = staff_rows(template_key="staff_booking_cancelled")
    assert "was cancelled by the customer" in cancelled.body_text
    assert subjects_to(smtp, "desk@alpha.example")[-1].startswith("Booking cancelled")


def test_settings_are_honoured(app, build, smtp):
    alpha = studio(build)
    studio(build, name="Beta Barbers", staff=("desk@beta.example",))
    staff_notifications.update_settings(
        alpha, scope=Scope.of_provider(alpha), events={"cancelled"},
        to_staff_accounts=False, extra_addresses="Front@Alpha.example\nowner@alpha.example")
    reference, _ = place(app, build, alpha)
    assert staff_rows() == []  # "waiting for confirmation" switched off
    bookings.cancel_booking(reference, actor=ACTOR, scope=STAFF)
    run_jobs(app)
    assert len(smtp.to("front@alpha.example")) == 1
    assert len(smtp.to("owner@alpha.example")) == 1
    assert smtp.to("desk@alpha.example") == []  # staff accounts switched off
    assert smtp.to("desk@beta.example") == []  # another provider's staff: never


def test_another_providers_staff_never_hear(app, build, smtp):
    alpha = studio(build)
    studio(build, name="Beta Barbers", staff=("desk@beta.example",))
    place(app, build, alpha)
    assert len(smtp.to("desk@alpha.example")) == 1
    assert smtp.to("desk@beta.example") == []


def test_inactive_staff_and_their_language(app, build, smtp):
    alpha = studio(build, staff=("desk@alpha.example", "gone@alpha.example",
                                 "de@alpha.example"))
    accounts = {a.email: a for a in db.session.scalars(select(Account).where(
        Account.provider_id == alpha))}
    accounts["gone@alpha.example"].active = False
    accounts["de@alpha.example"].locale = "de"
    db.session.commit()
    place(app, build, alpha)
    assert smtp.to("gone@alpha.example") == []
    (german,) = smtp.to("de@alpha.example")
    assert german["Subject"].startswith("Bitte bestätigen: Deep tissue massage, Mi., 15. Jan. 2031")


def test_invalid_addresses_are_refused_and_nothing_is_saved(app, build):
    alpha = studio(build)
    with pytest.raises(ValidationFailed) as refused:
        staff_notifications.update_settings(
            alpha, scope=Scope.of_provider(alpha), events=set(), to_staff_accounts=False,
            extra_addresses="ok@example.com, not-an-address")
    assert "not-an-address" in refused.value.errors["extra_addresses"][0]
    settings = staff_notifications.get_settings(alpha, scope=Scope.of_provider(alpha))
    assert settings.events == frozenset(staff_notifications.EVENTS)
    assert settings.to_staff_accounts and settings.extra_addresses == ()


def test_another_providers_settings_are_not_found(app, build):
    alpha, beta = studio(build), studio(build, name="Beta", staff=("b@beta.example",))
    with pytest.raises(NotFound):
        staff_notifications.get_settings(beta, scope=Scope.of_provider(alpha))
    with pytest.raises(NotFound):
        staff_notifications.update_settings(beta, scope=Scope.of_provider(alpha), events=set(),
                                            to_staff_accounts=False, extra_addresses="")
    assert db.session.scalar(select(func.count()).select_from(StaffNotificationSetting)) == 0
