"""A declined card is told in the customer's language: the gateway's code becomes a short
sentence from the catalogues, on the booking page and in the "declined" message; staff
keep the gateway's own words."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.gateways.payments import _intent
from app.models import Account, Booking, Notification
from app.models.payments import Payment
from app.services import bookings, decline_reasons
from tests.notifications.conftest import run_jobs

CODES = ["card_declined", "generic_decline", "insufficient_funds", "expired_card",
         "incorrect_cvc", "processing_error", "lost_card", "stolen_card"]


def _placed(store) -> str:
    return bookings.place_booking(customer_id=store.customer_id, offering_id=store.offering_id,
                                  slot_id=store.slot_id).reference


def _payment(reference: str) -> Payment:
    db.session.expire_all()
    return db.session.scalar(select(Payment).join(Booking, Booking.id == Payment.booking_id)
                             .where(Booking.reference == reference))


def _speaks_german(store) -> None:
    db.session.get(Account, store.customer_id).locale = "de"
    db.session.commit()


@pytest.mark.parametrize("code", CODES)
def test_every_gateway_code_has_a_sentence_in_english_and_german(app_ctx, code):
    english = decline_reasons.customer_reason_in(code, "en")
    german = decline_reasons.customer_reason_in(code, "de")

    assert english.endswith(".") and german.endswith(".")
    assert english != german and english != str(decline_reasons.GENERAL)


def test_lost_and_stolen_cards_read_like_any_declined_card(app_ctx):
    declined = decline_reasons.customer_reason("card_declined")
    assert decline_reasons.customer_reason("lost_card") == declined
    assert decline_reasons.customer_reason("stolen_card") == declined


def test_a_code_without_a_sentence_gets_the_general_one_in_the_language(app_ctx):
    assert decline_reasons.customer_reason_in("something_new", "en") == \
        "The card's bank did not accept the payment."
    assert decline_reasons.customer_reason_in(None, "de") == \
        "Die Bank der Karte hat die Zahlung nicht angenommen."
    with force_locale("de"):
        assert decline_reasons.customer_reason("insufficient_funds") == \
            "Auf der Karte ist nicht genug Guthaben."


def test_the_banks_reason_comes_before_the_errors_code():
    state = _intent({"id": "pi_1", "status": "requires_payment_method", "amount": 4200,
                     "currency": "eur", "last_payment_error": {
                         "code": "card_declined", "decline_code": "insufficient_funds",
                         "message": "Your card has insufficient funds."}})
    assert state.failure_code == "insufficient_funds"
    assert state.failure_reason == "Your card has insufficient funds."


def test_a_german_customer_reads_why_in_german_and_staff_keep_the_gateways_words(
        app, shopper, store, stripe_on):
    _speaks_german(store)
    reference = _placed(store)

    page = shopper.post(f"/shop/bookings/{reference}/pay-test-card", data={"card": "declined"},
                        follow_redirects=True).get_data(as_text=True)

    assert "Der letzte Versuch ist nicht durchgegangen: Ihre Bank hat die Karte abgelehnt." \
        in page, page
    assert "Your card was declined" not in page and page.count("nicht durchgegangen") == 1
    payment = _payment(reference)
    assert payment.failure_code == "card_declined"
    assert payment.failure_reason == "Your card was declined."  # for the console


def test_the_declined_email_says_why_in_the_customers_language(app, shopper, store,
                                                                stripe_on):
    _speaks_german(store)
    reference = _placed(store)
    shopper.post(f"/shop/bookings/{reference}/pay-test-card", data={"card": "declined"})
    run_jobs(app)

    db.session.expire_all()
    email = db.session.scalar(select(Notification).where(
        Notification.template_key == "payment_declined", Notification.channel == "email"))
    assert email is not None and email.locale == "de"
    assert "ist nicht durchgegangen: Ihre Bank hat die Karte abgelehnt." in email.body_text
    assert "Your card was declined" not in email.body_text
    assert "Your card was declined" not in (email.body_html or "")
