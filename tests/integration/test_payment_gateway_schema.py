"""The database admits a payment through each known gateway, and no other."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.payments import GATEWAYS, Payment
from tests.payments.conftest import place


@pytest.fixture
def booking_id(build):
    from sqlalchemy import select

    from app.models import Booking

    provider = build.provider()
    shop = {"a": {"offering": build.offering(provider, price_minor=4200, currency="EUR")},
            "customer": build.customer()}
    reference = place(build, shop)
    return db.session.scalar(select(Booking.id).where(Booking.reference == reference))


def _payment(booking_id, gateway):
    from app.models import Booking

    booking = db.session.get(Booking, booking_id)
    return Payment(provider_id=booking.provider_id, booking_id=booking_id, gateway=gateway,
                   amount_minor=4200, currency="EUR", status="created")


def test_a_paypal_payment_is_stored(app_ctx, booking_id):
    assert "paypal" in GATEWAYS
    db.session.add(_payment(booking_id, "paypal"))
    db.session.commit()
    assert db.session.query(Payment).filter_by(gateway="paypal").count() == 1


def test_an_unknown_gateway_is_refused_by_the_database(app_ctx, booking_id):
    db.session.add(_payment(booking_id, "bitcoin"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
