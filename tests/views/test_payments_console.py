"""Payments in the console: payments, refunds and the webhook inbox, and "Mark paid".

Payments are built as rows: a succeeded manual payment (money taken at the venue) needs no
gateway, so its refunds complete locally. Staff see and act on their own provider's rows
only; admins on all. Every refund goes through the refund service, so a refusal is
flashed and stores nothing.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from app import jobqueue
from app.extensions import db
from app.models import Booking, Payment, PaymentEvent, Refund
from app.models.types import utcnow
from app.redis import redis_client
from app.services import refunds
from app.services.bookings import place_booking
from app.services.scopes import Scope
from tests.builders import PASSWORD
from tests.views.console import (
    console_client,
    csrf_token,
    is_signed_in,
    page_text,
    second_app,
    signed_in,
)

PRICE = 4200  # 42.00 EUR


@dataclass(frozen=True)
class Paid:
    booking_id: int
    reference: str
    payment_id: int


def _booking(build, provider_id: int, *, pay_at_venue: bool = True) -> tuple[int, str]:
    offering_id = build.offering(provider_id, price_minor=PRICE, pay_at_venue=pay_at_venue)
    placed = place_booking(customer_id=build.customer(), offering_id=offering_id,
                           slot_id=build.future_slot(offering_id))
    return placed.id, placed.reference


def _paid(build, provider_id: int, *, attention: str | None = None) -> Paid:
    """A pay-at-venue booking with a succeeded manual payment of the whole price."""
    booking_id, reference = _booking(build, provider_id)
    payment = Payment(provider_id=provider_id, booking_id=booking_id, gateway="manual",
                      amount_minor=PRICE, received_minor=PRICE, currency="EUR",
                      status="succeeded", method="cash", succeeded_at=utcnow(),
                      attention=attention)
    db.session.add(payment)
    db.session.commit()
    return Paid(booking_id, reference, payment.id)


def _refund(paid: Paid, amount_minor: int = 500) -> int:
    return refunds.request_refund(paid.payment_id, amount_minor=amount_minor,
                                  reason="service refund", actor_id=None,
                                  scope=Scope.all_providers()).id


def _inbox_event(provider_id: int | None, *, status: str = "failed",
                 event_type: str = "customer.created") -> PaymentEvent:
    n = db.session.scalar(select(func.count()).select_from(PaymentEvent)) + 1
    event = PaymentEvent(event_id=f"evt_console_{n}_{provider_id}", type=event_type,
                         payload={"id": f"evt_console_{n}", "type": event_type,
                                  "data": {"object": {"id": f"cus_{n}", "note": "<b>x</b>"}}},
                         provider_id=provider_id, status=status, attempts=5,
                         outcome="re-reading from Stripe failed: timeout")
    db.session.add(event)
    db.session.commit()
    return event


def _fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def _refund_rows(payment_id: int) -> list[Refund]:
    db.session.expire_all()
    return list(db.session.scalars(select(Refund).where(Refund.payment_id == payment_id)
                                   .order_by(Refund.id)))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


# --- who sees what --------------------------------------------------------------------------

def test_staff_list_payments_of_their_provider_only(app, build, tenant_a, tenant_b):
    own = _paid(build, tenant_a.provider_id)
    foreign = _paid(build, tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/paymentview/list/")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert own.reference in page and "42.00 EUR" in page and "manual" in page
    assert foreign.reference not in page
    assert staff.get(f"/paymentview/show/{own.payment_id}").status_code == 200
    assert staff.get(f"/paymentview/show/{foreign.payment_id}").status_code == 404
    assert staff.get("/paymentview/show/99999999999").status_code == 404


def test_staff_list_refunds_of_their_provider_only(app, build, tenant_a, tenant_b):
    own = _paid(build, tenant_a.provider_id)
    foreign = _paid(build, tenant_b.provider_id)
    own_refund, foreign_refund = _refund(own, 700), _refund(foreign, 900)
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get("/refundview/list/").get_data(as_text=True)

    assert own.reference in page and "7.00 EUR" in page
    assert foreign.reference not in page and "9.00 EUR" not in page
    assert staff.get(f"/refundview/show/{own_refund}").status_code == 200
    assert staff.get(f"/refundview/show/{foreign_refund}").status_code == 404


def test_staff_inbox_shows_events_of_their_provider_only(app, build, tenant_a, tenant_b):
    own = _inbox_event(tenant_a.provider_id)
    foreign = _inbox_event(tenant_b.provider_id)
    unmatched = _inbox_event(None)
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get("/paymenteventview/list/").get_data(as_text=True)

    assert own.event_id in page
    assert foreign.event_id not in page and unmatched.event_id not in page
    assert staff.get(f"/paymenteventview/show/{own.id}").status_code == 200
    assert staff.get(f"/paymenteventview/show/{foreign.id}").status_code == 404
    assert staff.get(f"/paymenteventview/show/{unmatched.id}").status_code == 404


def test_admin_sees_every_provider(app, build, tenant_a, tenant_b, admin_email):
    first, second = _paid(build, tenant_a.provider_id), _paid(build, tenant_b.provider_id)
    _refund(first), _refund(second)
    events = [_inbox_event(tenant_a.provider_id), _inbox_event(None)]
    admin = signed_in(app, admin_email)

    payments_page = admin.get("/paymentview/list/").get_data(as_text=True)
    refunds_page = admin.get("/refundview/list/").get_data(as_text=True)
    inbox_page = admin.get("/paymenteventview/list/").get_data(as_text=True)

    for page in (payments_page, refunds_page):
        assert first.reference in page and second.reference in page
    assert all(event.event_id in inbox_page for event in events)


@pytest.mark.parametrize("url", ["/paymentview/list/", "/refundview/list/",
                                 "/paymenteventview/list/", "/paymentview/refund/1"])
def test_anonymous_is_sent_to_login(app, client, url):
    response = client.get(url)

    assert response.status_code == 302 and "/login/" in response.headers["Location"]


def test_staff_menu_offers_payments(app, tenant_a):
    page = page_text(signed_in(app, tenant_a.staff_email).get("/paymentview/list/"))

    for url in ("/paymentview/list/", "/refundview/list/", "/receiptview/list/"):
        assert url in page
    # The webhook inbox is the platform's (admins' Platform menu); staff keep read access.
    assert "/paymenteventview/list/" not in page
    assert "Refund in full" in page


def test_payments_are_read_only(app, build, tenant_a):
    paid = _paid(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    for url in (f"/paymentview/edit/{paid.payment_id}", f"/paymentview/delete/{paid.payment_id}",
                "/paymentview/add", "/refundview/add", "/paymenteventview/add"):
        assert staff.post(url, data={"status": "failed"}).status_code in (302, 403, 404)
    assert _fresh(Payment, paid.payment_id).status == "succeeded"


# --- filters and the show page ---------------------------------------------------------------

def test_filters_by_attention_status_and_gateway(app, build, tenant_a):
    flagged = _paid(build, tenant_a.provider_id, attention="Disputed by the cardholder")
    calm = _paid(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    def listed(query: str) -> set[str]:
        page = staff.get(f"/paymentview/list/?{query}").get_data(as_text=True)
        return {paid.reference for paid in (flagged, calm) if paid.reference in page}

    assert listed("_flt_0_attention=yes") == {flagged.reference}
    assert listed("_flt_0_attention=no") == {calm.reference}
    assert listed("_flt_0_status=succeeded") == {flagged.reference, calm.reference}
    assert listed("_flt_0_status=failed") == set()
    assert listed("_flt_0_gateway=manual") == {flagged.reference, calm.reference}
    assert listed("_flt_0_gateway=stripe") == set()
    assert "Disputed by the cardholder" in staff.get("/paymentview/list/").get_data(
        as_text=True)


def test_show_page_lists_refunds_and_links_the_refund_form(app, build, tenant_a):
    paid = _paid(build, tenant_a.provider_id, attention="Amount does not match")
    _refund(paid, 1200)
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(f"/paymentview/show/{paid.payment_id}").get_data(as_text=True)

    assert paid.reference in page and "Amount does not match" in page
    assert "Refunds" in page and "12.00 EUR" in page and "service refund" in page
    assert f'href="/paymentview/refund/{paid.payment_id}"' in page


def test_inbox_show_page_has_the_payload_pretty_printed(app, build, admin_email):
    event = _inbox_event(None)
    admin = signed_in(app, admin_email)

    page = admin.get(f"/paymenteventview/show/{event.id}").get_data(as_text=True)

    assert '<pre class="event-payload">' in page
    assert "customer.created" in page and "timeout" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


# --- refunds -------------------------------------------------------------------------------

def test_partial_refund_through_the_form(app, build, tenant_a):
    paid = _paid(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    form = staff.get(f"/paymentview/refund/{paid.payment_id}")
    response = staff.post(f"/paymentview/refund/{paid.payment_id}",
                          data={"amount": "12.50", "reason": "started late"})

    assert form.status_code == 200 and "42.00 EUR" in form.get_data(as_text=True)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/paymentview/show/{paid.payment_id}")
    [refund] = _refund_rows(paid.payment_id)
    assert (refund.amount_minor, refund.status, refund.reason, refund.actor_id) == (
        1250, "succeeded", "started late", tenant_a.staff_id)
    assert _fresh(Payment, paid.payment_id).refunded_minor == 1250
    assert ("success", f"{paid.reference}: refund of 12.50 EUR succeeded.") in _flashes(staff)
    assert "29.50 EUR" in staff.get(f"/paymentview/refund/{paid.payment_id}").get_data(
        as_text=True)  # what is left to refund


def test_refund_over_the_paid_amount_is_refused_and_stores_nothing(app, build, tenant_a):
    paid = _paid(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(f"/paymentview/refund/{paid.payment_id}",
                          data={"amount": "42.01", "reason": "too much"})

    assert response.status_code == 200  # the form again, with the refusal flashed
    assert f"{paid.reference}: At most 42.00 EUR can still be refunded." in \
        _text(response)
    assert _refund_rows(paid.payment_id) == []
    assert _fresh(Payment, paid.payment_id).refunded_minor == 0


@pytest.mark.parametrize("amount", ["abc", "1.234", "NaN", "Infinity", "1e400", ""])
def test_amounts_that_are_no_amount_are_form_errors(app, build, tenant_a, amount):
    paid = _paid(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(f"/paymentview/refund/{paid.payment_id}", data={"amount": amount})

    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.get_data(as_text=True)
    assert _refund_rows(paid.payment_id) == []


@pytest.mark.parametrize("amount", ["0", "-5.00"])
def test_refunds_of_nothing_are_refused_by_the_service(app, build, tenant_a, amount):
    paid = _paid(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(f"/paymentview/refund/{paid.payment_id}", data={"amount": amount})

    assert response.status_code == 200
    assert f"{paid.reference}: A refund must be more than zero." in _text(response)
    assert _refund_rows(paid.payment_id) == []


def test_foreign_payment_refund_page_is_404(app, build, tenant_a, tenant_b):
    foreign = _paid(build, tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    assert staff.get(f"/paymentview/refund/{foreign.payment_id}").status_code == 404
    response = staff.post(f"/paymentview/refund/{foreign.payment_id}",
                          data={"amount": "1.00", "reason": "x"})
    assert response.status_code == 404
    assert staff.get("/paymentview/refund/99999999999").status_code == 404
    assert _refund_rows(foreign.payment_id) == []


def test_refund_in_full_action(app, build, tenant_a):
    whole = _paid(build, tenant_a.provider_id)
    part = _paid(build, tenant_a.provider_id)
    _refund(part, 4000)
    done = _paid(build, tenant_a.provider_id)
    _refund(done, PRICE)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post("/paymentview/action_post", data={
        "action": "refund_in_full", "rowid": [whole.payment_id, part.payment_id,
                                              done.payment_id]})

    assert response.status_code == 302
    assert [(r.amount_minor, r.status) for r in _refund_rows(whole.payment_id)] == [
        (PRICE, "succeeded")]
    assert [r.amount_minor for r in _refund_rows(part.payment_id)] == [4000, 200]
    assert len(_refund_rows(done.payment_id)) == 1
    flashes = _flashes(staff)
    assert ("success", f"{whole.reference}: refund of 42.00 EUR succeeded.") in flashes
    assert ("success", f"{part.reference}: refund of 2.00 EUR succeeded.") in flashes
    assert ("danger", f"{done.reference}: At most 0.00 EUR can still be "
            "refunded.") in flashes
    assert _fresh(Booking, whole.booking_id).status == "refunded"


def test_staff_cannot_refund_foreign_payments(app, build, tenant_a, tenant_b):
    own = _paid(build, tenant_a.provider_id)
    foreign = _paid(build, tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    single = staff.post(f"/paymentview/action/refund_in_full/{foreign.payment_id}")
    multiple = staff.post("/paymentview/action_post", data={
        "action": "refund_in_full", "rowid": [own.payment_id, foreign.payment_id]})

    assert single.status_code == 404 and multiple.status_code == 404
    assert _refund_rows(foreign.payment_id) == [] and _refund_rows(own.payment_id) == []


def test_admin_refunds_any_provider(app, build, tenant_b, admin_email):
    foreign = _paid(build, tenant_b.provider_id)
    admin = signed_in(app, admin_email)

    admin.post(f"/paymentview/action/refund_in_full/{foreign.payment_id}")
    refused = admin.post(f"/paymentview/refund/{foreign.payment_id}", data={"amount": "1"})

    assert [r.amount_minor for r in _refund_rows(foreign.payment_id)] == [PRICE]
    assert f"{foreign.reference}: At most 0.00 EUR can still be refunded." in \
        _text(refused)


@pytest.fixture(scope="module")
def csrf_app(app, tmp_dir):
    return second_app(app, tmp_dir, WTF_CSRF_ENABLED=True)


def test_refund_form_needs_the_csrf_token(csrf_app, build, tenant_a):
    paid = _paid(build, tenant_a.provider_id)
    staff = console_client(csrf_app)
    staff.post("/login/", data={"username": tenant_a.staff_email, "password": PASSWORD,
                                "csrf_token": csrf_token(staff.get("/login/"))})
    assert is_signed_in(staff)
    url = f"/paymentview/refund/{paid.payment_id}"

    without = staff.post(url, data={"amount": "1.00"})
    token = csrf_token(staff.get(url))
    with_token = staff.post(url, data={"amount": "1.00", "csrf_token": token})

    assert without.status_code == 400
    assert with_token.status_code == 302
    assert [r.amount_minor for r in _refund_rows(paid.payment_id)] == [100]


# --- mark paid ------------------------------------------------------------------------------

def test_mark_paid_confirms_a_pay_at_venue_booking(app, build, tenant_a):
    booking_id, reference = _booking(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(f"/bookingview/action/mark_paid/{booking_id}")

    assert response.status_code == 302
    assert _fresh(Booking, booking_id).status == "confirmed"
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking_id))
    assert (payment.gateway, payment.status, payment.received_minor,
            payment.marked_paid_by_id) == ("manual", "succeeded", PRICE, tenant_a.staff_id)
    assert ("success", f"{reference}: marked paid.") in _flashes(staff)


def test_mark_paid_refuses_online_and_paid_bookings(app, build, tenant_a):
    online_id, online = _booking(build, tenant_a.provider_id, pay_at_venue=False)
    paid = _paid(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    staff.post("/bookingview/action_post", data={"action": "mark_paid",
                                                 "rowid": [online_id, paid.booking_id]})

    assert db.session.scalar(select(Payment).where(Payment.booking_id == online_id)) is None
    flashes = _flashes(staff)
    assert ("danger", f"{online}: This booking is paid online; its payment confirms it."
            ) in flashes
    assert ("danger", f"{paid.reference}: This booking is marked paid already.") in flashes


def test_staff_cannot_mark_foreign_bookings_paid(app, build, tenant_a, tenant_b):
    booking_id, _ = _booking(build, tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    assert staff.post(f"/bookingview/action/mark_paid/{booking_id}").status_code == 404
    assert db.session.scalar(select(Payment).where(Payment.booking_id == booking_id)) is None


# --- replaying the webhook inbox ----------------------------------------------------------

@pytest.mark.parametrize("queued", [False, True], ids=["inline", "queued"])
def test_admin_replays_a_failed_inbox_event(app, build, admin_email, monkeypatch, queued):
    # The app's Redis client is the run's (real Redis, or fakeredis); the URL only says
    # "Redis is configured".
    monkeypatch.setitem(app.config, "REDIS_URL", (app.config["REDIS_URL"] or
                                                  "redis://configured-for-this-test")
                        if queued else None)
    event = _inbox_event(None)
    admin = signed_in(app, admin_email)

    response = admin.post(f"/paymenteventview/action/replay/{event.id}")

    assert response.status_code == 302
    [(category, message)] = _flashes(admin)
    if queued:
        assert _fresh(PaymentEvent, event.id).status == "received"  # handed to the workers
        assert (category, message) == (
            "success", f"{event.event_id} (customer.created) replayed: received.")
        queue = jobqueue.get_queue("payments")
        assert queue.fetch_job(f"payment-event-{event.id}") is not None
        SimpleWorker([queue], connection=redis_client()).work(burst=True)
    else:
        assert (category, message) == (
            "success", f"{event.event_id} (customer.created) replayed: ignored.")
    replayed = _fresh(PaymentEvent, event.id)
    assert replayed.status == "ignored"
    assert replayed.outcome == "customer.created is not acted on"


def test_replay_skips_events_that_did_not_fail(app, build, admin_email, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    event = _inbox_event(None, status="processed")
    admin = signed_in(app, admin_email)

    admin.post("/paymenteventview/action_post", data={"action": "replay",
                                                      "rowid": [event.id]})

    assert _fresh(PaymentEvent, event.id).status == "processed"
    assert ("warning", f"{event.event_id}: processed, not failed; nothing to replay."
            ) in _flashes(admin)


def test_staff_cannot_replay(app, build, tenant_a, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    own = _inbox_event(tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    listing = staff.get("/paymenteventview/list/").get_data(as_text=True)
    single = staff.post(f"/paymenteventview/action/replay/{own.id}")
    multiple = staff.post("/paymenteventview/action_post", data={"action": "replay",
                                                                 "rowid": [own.id]})

    assert "Replay" not in listing
    assert single.status_code in (302, 403) and multiple.status_code in (302, 403)
    assert _fresh(PaymentEvent, own.id).status == "failed"
