"""After a refund, the customer's booking page lists the credit note and downloads it: the
refund and the credit note's PDF are made by jobs (a worker with Redis, inline without),
worked here as production's worker does."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Booking
from app.models.payments import REFUND_RETRYING, Payment, Refund
from app.services import bookings, manage_links, refunds
from app.services.scopes import Scope
from tests.notifications.conftest import run_jobs

DOCUMENT = re.compile(r'href="(/shop/bookings/[^"]+/documents/\d+\.pdf)">(Credit note|Receipt) '
                      r'((?:CN|R)-\d+) \(PDF\)')


def _paid(app, shopper, store, *, quantity: int = 2) -> str:
    reference = bookings.place_booking(customer_id=store.customer_id,
                                       offering_id=store.offering_id, slot_id=store.slot_id,
                                       quantity=quantity).reference
    shopper.post(f"/shop/bookings/{reference}/pay-test-card", data={"card": "visa"})
    run_jobs(app)  # the receipt
    return reference


def _documents(client, reference: str) -> dict[str, tuple[str, str]]:
    """kind → (number, download address), as the booking page lists them."""
    page = client.get(f"/shop/bookings/{reference}", follow_redirects=True)
    assert page.status_code == 200
    return {kind: (number, href) for href, kind, number
            in DOCUMENT.findall(page.get_data(as_text=True))}


def _pdf_text(client, href: str) -> str:
    response = client.get(href)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def _payment_id(reference: str) -> int:
    return db.session.scalar(select(Payment.id).join(Booking, Booking.id == Payment.booking_id)
                             .where(Booking.reference == reference))


def test_a_partial_refund_lists_its_credit_note_to_download(app, shopper, store, stripe_on):
    reference = _paid(app, shopper, store)
    refunds.request_refund(_payment_id(reference), amount_minor=2000, reason="one place less",
                           actor_id=None, scope=Scope.of_provider(store.provider_id))
    run_jobs(app)  # payment.refunded → the credit note, then its PDF

    documents = _documents(shopper, reference)
    assert set(documents) == {"Receipt", "Credit note"}, documents
    number, href = documents["Credit note"]
    text = _pdf_text(shopper, href)
    assert number in text and "20.00" in text
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert "refunded €20.00" in page and "on its way" not in page


def test_a_refund_not_made_yet_is_on_its_way_not_refunded(app, shopper, store, stripe_on):
    """A refund the gateway has not made yet (say it is down and the refund waits for a
    retry) is told as on its way."""
    reference = _paid(app, shopper, store)
    db.session.add(Refund(payment_id=_payment_id(reference), provider_id=store.provider_id,
                          amount_minor=2000, currency="EUR", status=REFUND_RETRYING))
    db.session.commit()
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert "Paid €84.00 · <strong>a refund of €20.00 is on its way</strong>" in page
    assert "refunded €" not in page


def test_cancelling_with_a_full_refund_lists_the_credit_note_here_and_behind_the_link(
        app, shopper, store, stripe_on):
    reference = _paid(app, shopper, store)
    shopper.post(f"/shop/bookings/{reference}/cancel")
    run_jobs(app)  # booking.cancelled → the refund; payment.refunded → the credit note

    number, href = _documents(shopper, reference)["Credit note"]
    assert number in _pdf_text(shopper, href)
    # Whoever opens the booking's manage link (a guest's emailed link) sees it too.
    stranger = app.test_client()
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert stranger.get(manage_links.manage_path(booking), follow_redirects=True) \
        .status_code == 200
    assert _documents(stranger, reference)["Credit note"][0] == number
    assert number in _pdf_text(stranger, href)
