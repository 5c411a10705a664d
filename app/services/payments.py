"""Taking payment for a booking, and settling it from what the gateway says.

``start_payment`` stores the ``Payment`` row before it calls the gateway and updates it
after, so a crash in between leaves a row for reconciliation. One request at a time
creates a payment's intent (``intent_requested_at``); a concurrent start answers 409
``payment.busy`` until it is stored, then every start returns that intent. Every change of a payment's
state goes through :func:`settle` with the gateway's *current* answer (never a webhook's
copy of it), so events that arrive twice or out of order change nothing twice: settling
is a function of the latest truth, and a payment that has succeeded stays succeeded.

Locks: the booking's row before its payment's (:func:`lock_payment`), as everywhere (see
:mod:`app.services.transactions`); each transaction here is retried if PostgreSQL aborts
it as a deadlock victim, and answers 409 ``payment.busy`` when that keeps happening.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app import events
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.gateways.payments import GatewayError, IntentState, ManualGateway, StripeGateway
from app.models import Booking, Provider
from app.models.bookings import CONFIRMED, PENDING
from app.models.payments import (
    CANCELED,
    CREATED,
    FAILED,
    MANUAL,
    PAYPAL,
    REQUIRES_PAYMENT,
    STRIPE,
    SUCCEEDED,
    UNSETTLED,
    Payment,
)
from app.models.types import utcnow
from app.services import bookings, event_payloads
from app.services.booking_lifecycle import facts_of
from app.services.booking_states import check_staff_action
from app.services.scopes import SYSTEM, Actor, Scope, require_scope
from app.services.transactions import end_read, retrying, unit_of_work

log = logging.getLogger(__name__)

TERMINAL = (SUCCEEDED, FAILED, CANCELED)
NOT_STARTED = "payment_not_started"  # failure_code: the gateway could not be reached


class GatewayUnavailable(DomainError):
    """The payment provider could not be reached; nothing was charged. Try again."""

    status = 503


class IntentBeingCreated(Conflict):
    """Another request is creating this payment's intent right now."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("payment.busy", "This payment is being started by another request; "
                                         "try again in a moment.")
        self.headers = {"Retry-After": str(retry_after_seconds)}


@dataclass(frozen=True)
class StartedPayment:
    payment_id: int
    gateway: str
    status: str
    amount_minor: int
    currency: str
    client_secret: str | None
    publishable_key: str | None
    approval_url: str | None = None  # PayPal: where the customer approves the order
    order_id: str | None = None  # PayPal: the order's id (what PayPal's JS SDK buttons need)

#: What a customer may choose to pay with, and the gateway that takes it.
METHODS = {"card": STRIPE, "paypal": PAYPAL}


# --- gateways ----------------------------------------------------------------------------

def stripe_gateway() -> StripeGateway:
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        raise Conflict("payment.not_configured",
                       "Online payment is not set up on this platform; pay at the venue.")
    cache = current_app.extensions.setdefault("bookwell_payment_gateways", {})
    key = (config["STRIPE_SECRET_KEY"], config.get("STRIPE_API_BASE"))
    if key not in cache:
        cache[key] = StripeGateway(config["STRIPE_SECRET_KEY"],
                                   publishable_key=config.get("STRIPE_PUBLISHABLE_KEY"),
                                   api_base=config.get("STRIPE_API_BASE"),
                                   timeout=config.get("STRIPE_TIMEOUT", 10.0))
    return cache[key]


def paypal_gateway():
    from app.gateways.paypal import PayPalGateway

    config = current_app.config
    if not (config.get("PAYPAL_CLIENT_ID") and config.get("PAYPAL_CLIENT_SECRET")):
        raise Conflict("payment.not_configured",
                       "PayPal is not set up on this platform; pay by card or at the venue.")
    cache = current_app.extensions.setdefault("bookwell_payment_gateways", {})
    key = (PAYPAL, config["PAYPAL_CLIENT_ID"], config["PAYPAL_CLIENT_SECRET"],
           config.get("PAYPAL_API_BASE"), config.get("PAYPAL_WEBHOOK_ID"))
    if key not in cache:
        cache[key] = PayPalGateway(config["PAYPAL_CLIENT_ID"], config["PAYPAL_CLIENT_SECRET"],
                                   api_base=config["PAYPAL_API_BASE"],
                                   webhook_id=config.get("PAYPAL_WEBHOOK_ID"),
                                   timeout=config.get("PAYPAL_TIMEOUT", 10.0))
    return cache[key]


def gateway_named(name: str):
    if name == MANUAL:
        return ManualGateway()
    return paypal_gateway() if name == PAYPAL else stripe_gateway()


def paypal_key(payment: Payment) -> str:
    """The payment's name at PayPal: its id and when it was stored, so that a database
    started afresh (ids counted from 1 again) never reuses an earlier one's."""
    return f"{payment.id}-{payment.created_at:%Y%m%d%H%M%S%f}"


def paypal_request_key(key: str, purpose: str) -> str:
    """A PayPal-Request-Id or invoice id of ours: PayPal keeps them per account (invoice
    ids for good), so they carry this installation's prefix (PAYPAL_INVOICE_PREFIX)."""
    return f"{current_app.config.get('PAYPAL_INVOICE_PREFIX', 'bookwell-')}{purpose}{key}"


def gateway_name_for(booking: Booking) -> str:
    """Paid at the venue → manual; otherwise the provider's choice or the platform's."""
    if booking.pay_at_venue:
        return MANUAL
    chosen = db.session.scalar(select(Provider.payment_gateway).where(
        Provider.id == booking.provider_id))
    return chosen or current_app.config.get("PAYMENT_GATEWAY", STRIPE)


def lock_payment(payment_id: int) -> Payment | None:
    """The payment, row-locked, its booking locked first (the lock order, see
    :mod:`app.services.transactions`) and read as ``payment.booking``. None when there is
    no such payment."""
    booking_id = db.session.scalar(select(Payment.booking_id).where(Payment.id == payment_id))
    if booking_id is None:
        return None
    booking = db.session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    payment = db.session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    # Held by the payment: settling reads it there instead of querying it again.
    set_committed_value(payment, "booking", booking)
    return payment


# --- starting a payment ------------------------------------------------------------------

def start_payment(reference: str, *, customer_id: int, method: str | None = None,
                  return_url: str | None = None,
                  cancel_url: str | None = None) -> StartedPayment:
    """Create, or reuse, the one payment of the customer's pending booking.

    ``method``: "card" (Stripe) or "paypal"; by default the provider's or platform's
    gateway. PayPal sends the customer back to ``return_url`` (or ``cancel_url``) after
    its approval page; the booking's page on this site by default."""
    if method is not None and method not in METHODS:
        raise ValidationFailed("payment.unknown_method", f"{method} is not a way to pay here.",
                               {"method": [f"Choose one of: {', '.join(METHODS)}."]})
    urls = _paypal_urls(reference, return_url, cancel_url)  # checked before anything is stored
    gateway, stored = retrying(_store_payment, reference, customer_id, method,
                               busy_code="payment.busy")
    try:
        if stored.provider_reference:
            state = gateway.retrieve_intent(stored.provider_reference)
        elif stored.gateway == PAYPAL:
            state = gateway.create_intent(
                amount_minor=stored.amount_minor, currency=stored.currency,
                metadata={**stored.metadata, "payment_id": stored.payment_id,
                          "invoice_id": paypal_request_key(stored.paypal_key, ""),
                          "brand_name": stored.brand_name},
                idempotency_key=paypal_request_key(stored.paypal_key, "payment-"), **urls)
        else:
            state = gateway.create_intent(
                amount_minor=stored.amount_minor, currency=stored.currency,
                metadata={**stored.metadata, "payment_id": stored.payment_id},
                idempotency_key=f"bookwell-payment-{stored.payment_id}")
    except GatewayError as exc:
        _note_failure(stored.payment_id, exc.message)
        raise GatewayUnavailable("payment.gateway_unavailable",
                                 "The payment provider did not answer; nothing was charged. "
                                 "Please try again.") from exc

    status, state = retrying(_record_intent, stored.payment_id, state, gateway,
                             busy_code="payment.busy")
    return StartedPayment(payment_id=stored.payment_id, gateway=stored.gateway,
                          status=status,
                          amount_minor=stored.amount_minor, currency=stored.currency,
                          client_secret=state.client_secret,
                          publishable_key=gateway.publishable_key,
                          approval_url=state.approval_url if stored.gateway == PAYPAL
                          else None,
                          order_id=state.reference if stored.gateway == PAYPAL else None)


def paypal_configured() -> bool:
    config = current_app.config
    return bool(config.get("PAYPAL_CLIENT_ID") and config.get("PAYPAL_CLIENT_SECRET"))


def methods_open(payment: Payment | None) -> tuple[str, ...]:
    """The ways (METHODS keys) a customer may still pay a payable booking with. A payment
    already started at a gateway continues there (:func:`_store_payment` refuses another):
    a PayPal order the customer approved could still be captured, so no card may be
    charged beside it. PayPal only when it is set up."""
    if payment is not None and payment.provider_reference and payment.status != SUCCEEDED:
        return ("paypal",) if payment.gateway == PAYPAL else ("card",)
    return ("card", "paypal") if paypal_configured() else ("card",)


def _paypal_urls(reference: str, return_url: str | None,
                 cancel_url: str | None) -> dict[str, str]:
    """Where PayPal sends the customer back: only to this site (PUBLIC_BASE_URL)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    page = f"{base}/shop/bookings/{reference}"  # the storefront's pages for the booking
    urls = {"return_url": return_url or f"{page}/paypal-return",
            "cancel_url": cancel_url or f"{page}/paypal-cancel"}
    for field, url in urls.items():
        if url != base and not url.startswith(base + "/"):
            raise ValidationFailed("payment.foreign_return_url",
                                   "PayPal may only send customers back to this site.",
                                   {field: [f"Use an address under {base}/."]})
    return urls


@dataclass(frozen=True)
class _StoredPayment:
    payment_id: int
    gateway: str
    paypal_key: str
    provider_reference: str | None
    amount_minor: int
    currency: str
    metadata: dict
    brand_name: str | None  # PayPal: the provider's name, whom its approval page says is paid


@unit_of_work()
def _store_payment(reference: str, customer_id: int, method: str | None):
    """One transaction: check the booking can be paid online and store its payment row
    (before the gateway is called). Locks the booking, then the payment."""
    booking = bookings.get_own_booking_for_update(reference, customer_id=customer_id)
    payment = _payment_of(booking.id)
    if payment is not None and payment.status == SUCCEEDED:
        raise Conflict("payment.already_paid", "This booking is paid.",
                       {"status": [payment.status]})
    if booking.status != PENDING:
        raise Conflict("payment.not_payable",
                       f"A {booking.status} booking cannot be paid online.",
                       {"status": [booking.status]})
    gateway_name = gateway_name_for(booking)
    if gateway_name == MANUAL or booking.total_minor == 0:
        raise Conflict("payment.pay_at_venue",
                       "This booking is paid at the venue; nothing to pay online.")
    if method is not None:
        gateway_name = METHODS[method]
    elif gateway_name != PAYPAL:
        gateway_name = STRIPE
    gateway = gateway_named(gateway_name)
    if payment is None:
        payment = Payment(provider_id=booking.provider_id, booking_id=booking.id,
                          gateway=gateway_name, amount_minor=booking.total_minor,
                          currency=booking.currency, status=CREATED)
        db.session.add(payment)
    elif method is None:
        gateway_name, gateway = payment.gateway, gateway_named(payment.gateway)
    if payment.provider_reference is None:
        _request_intent(payment)
        payment.gateway = gateway_name  # nothing at any gateway yet: the customer may switch
    elif payment.gateway != gateway_name:
        raise Conflict("payment.other_method",
                       f"This booking's payment was started with {payment.gateway}; "
                       "continue with it.", {"method": [payment.gateway]})
    db.session.flush()
    stored = _StoredPayment(
        payment_id=payment.id, gateway=payment.gateway, paypal_key=paypal_key(payment),
        provider_reference=payment.provider_reference,
        amount_minor=payment.amount_minor, currency=payment.currency,
        metadata={"booking_reference": booking.reference, "booking_id": booking.id,
                  "provider_id": booking.provider_id},
        # Read for PayPal only: two more queries on every card payment's start otherwise.
        brand_name=booking.offering.provider.name if payment.gateway == PAYPAL else None)
    return gateway, stored


def intent_request_seconds() -> int:
    """How long a request creating an intent may take: three gateway timeouts."""
    return math.ceil(3 * current_app.config.get("STRIPE_TIMEOUT", 10.0))


def _request_intent(payment: Payment) -> None:
    """Make this request the one that creates the locked payment's intent, unless another
    is doing so: two concurrent creations would make two intents (the gateway's
    idempotency key refuses a concurrent repeat rather than waiting for it). A request
    that died, or failed, while creating it holds it no longer."""
    now = utcnow()
    requested = payment.intent_requested_at
    if requested is not None:
        left = (requested - now).total_seconds() + intent_request_seconds()
        if left > 0:
            raise IntentBeingCreated(math.ceil(left))
    payment.intent_requested_at = now


@unit_of_work()
def _record_intent(payment_id: int, state: IntentState, gateway):
    """One transaction: keep the intent's id on the payment and settle from its state.
    Returns the payment's status, read before the commit expires the row, and the state."""
    payment = lock_payment(payment_id)
    # Two first attempts racing store one reference; the other is reused.
    if payment.provider_reference is None:
        payment.provider_reference = state.reference
    elif payment.provider_reference != state.reference:
        state = gateway.retrieve_intent(payment.provider_reference)
    settle(payment, state, reason="payment started")
    return payment.status, state


def payment_for_customer(reference: str, *, customer_id: int) -> Payment:
    payment = db.session.scalar(
        select(Payment).join(Booking, Booking.id == Payment.booking_id)
        .where(Booking.reference == reference, Booking.customer_id == customer_id))
    if payment is None:
        raise NotFound("payment.not_found", f"No payment for booking {reference}.")
    return payment


def pay_with_test_card(reference: str, *, customer_id: int,
                       card: str = "pm_card_visa") -> Payment:
    """The demo's "pay with a test card" step, server-side; only against a test server."""
    if not current_app.config.get("PAYMENT_TEST_CARDS"):
        raise NotFound("payment.test_cards_off", "Test card payments are not enabled.")
    if not card.startswith("pm_card_"):
        raise ValidationFailed("payment.bad_test_card", "Not a test card.",
                               {"card": ["Use a test payment method such as pm_card_visa."]})
    started = start_payment(reference, customer_id=customer_id, method="card")
    payment = db.session.get(Payment, started.payment_id)
    gateway = stripe_gateway()
    try:
        state = gateway.confirm_with_test_card(payment.provider_reference, card)
    except GatewayError as exc:
        if exc.retryable:
            raise GatewayUnavailable("payment.gateway_unavailable", exc.message) from exc
        state = gateway.retrieve_intent(payment.provider_reference)  # a declined card
    payment_id = payment.id
    settle_by_id(payment_id, state, reason="paid with a test card")
    # Inline consumers (no Redis) end the session on their way: read the outcome afresh.
    return db.session.get(Payment, payment_id, populate_existing=True)


@unit_of_work()
def _note_failure(payment_id: int, message: str) -> None:
    """The intent could not be created or read: say why, and let the next start try."""
    db.session.execute(update(Payment).where(Payment.id == payment_id).values(
        failure_reason=message[:1000], failure_code=NOT_STARTED, intent_requested_at=None,
        updated_at=utcnow()))


def _payment_of(booking_id: int) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.booking_id == booking_id)
                             .with_for_update())


# --- settling ----------------------------------------------------------------------------

def settle_by_id(payment_id: int, state: IntentState, *, reason: str) -> Payment:
    return retrying(_settle_by_id, payment_id, state, reason, busy_code="payment.busy")


@unit_of_work()
def _settle_by_id(payment_id: int, state: IntentState, reason: str) -> Payment:
    payment = lock_payment(payment_id)
    settle(payment, state, reason=reason)
    return payment


def settle(payment: Payment, state: IntentState, *, reason: str) -> str:
    """Bring a payment locked by :func:`lock_payment` (which locked and read its booking
    first, in this transaction), and that booking, in line with the gateway's current
    state.

    Returns what happened, for the webhook inbox and the logs. Runs in the caller's
    transaction; the caller's unit of work commits.
    """
    now = utcnow()
    payment.checked_at = now
    if state.reference != payment.provider_reference:
        raise ValueError(f"{state.reference} is not the intent of payment {payment.id}")
    if payment.status in TERMINAL and payment.status == state.status:
        return f"already {payment.status}"
    if payment.status == SUCCEEDED:
        return f"already succeeded; the gateway now says {state.status}"  # never undone
    booking = payment.booking  # locked and read by lock_payment
    payment.method = state.method or payment.method

    if state.status == SUCCEEDED:
        payment.status = SUCCEEDED
        payment.received_minor = state.received_minor
        payment.succeeded_at = now
        payment.failure_reason = payment.failure_code = None
        problem = _mismatch(payment, booking, state)
        if problem:
            return _flag(payment, booking, problem)
        if booking.status == PENDING:
            bookings.confirm_paid(booking, actor=SYSTEM.because(reason))
        elif booking.status != CONFIRMED:
            return _flag(payment, booking,
                         f"Paid while the booking was {booking.status}: refund the customer "
                         "or rebook.")
        events.publish("payment.succeeded", event_payloads.payment(payment, booking),
                       provider_id=payment.provider_id)
        return "succeeded; booking confirmed"

    if state.status in (FAILED, CANCELED):
        payment.status = state.status
        if state.failure_reason:
            payment.failure_reason, payment.failure_code = \
                state.failure_reason, state.failure_code
        if booking.status == PENDING:
            bookings.expire_unpaid(booking, actor=SYSTEM.because(
                f"payment {state.status}: {state.failure_reason or 'no reason given'}"))
        events.publish("payment.failed", event_payloads.payment(payment, booking),
                       provider_id=payment.provider_id)
        return f"{state.status}; hold released"

    if state.status == REQUIRES_PAYMENT and state.failure_reason:
        return _declined(payment, booking, state)
    payment.status = state.status  # on its way: requires_payment / action / processing
    if state.status != REQUIRES_PAYMENT:
        payment.failure_reason = payment.failure_code = None  # a new attempt is under way
    return f"now {state.status}"


def _declined(payment: Payment, booking: Booking, state: IntentState) -> str:
    """An attempt was declined: the payment waits for another card and the booking keeps
    its hold until it expires. The customer is told once per decline (a replayed webhook
    or a second read of the same decline changes nothing)."""
    already_told = payment.status == REQUIRES_PAYMENT and \
        payment.failure_reason == state.failure_reason
    payment.status = REQUIRES_PAYMENT
    payment.failure_reason, payment.failure_code = state.failure_reason, state.failure_code
    if already_told:
        return "declined; already recorded"
    if booking.status == PENDING:
        events.publish("payment.declined", event_payloads.payment(payment, booking),
                       provider_id=payment.provider_id)
    return "declined; the hold stays until it expires"


def _mismatch(payment: Payment, booking: Booking, state: IntentState) -> str | None:
    if state.currency != booking.currency or state.amount_minor != booking.total_minor \
            or state.received_minor != booking.total_minor:
        return (f"The gateway reports {state.received_minor} {state.currency} received for "
                f"{state.amount_minor} {state.currency}; the booking is "
                f"{booking.total_minor} {booking.currency}. Not confirmed: check and refund.")
    return None


def _flag(payment: Payment, booking: Booking, problem: str) -> str:
    payment.attention = problem
    events.publish("payment.flagged", event_payloads.payment(payment, booking, problem=problem),
                   provider_id=payment.provider_id)
    log.warning("payment %s flagged: %s", payment.id, problem)
    return f"flagged: {problem}"


# --- pay at the venue --------------------------------------------------------------------

def mark_paid(reference: str, *, actor_id: int | None, scope: Scope,
              method: str = "cash") -> Payment:
    """Staff record a payment taken at the venue; a pending booking is confirmed by it."""
    return retrying(_mark_paid, reference, actor_id, require_scope(scope), method,
                    busy_code="payment.busy")


@unit_of_work()
def _mark_paid(reference: str, actor_id: int | None, scope: Scope,
               method: str) -> Payment:
    booking = bookings.get_booking_for_update(reference, scope=scope)
    now = utcnow()
    check_staff_action("mark_paid", facts_of(booking), now)
    payment = Payment(provider_id=booking.provider_id, booking_id=booking.id,
                      gateway=MANUAL, amount_minor=booking.total_minor,
                      received_minor=booking.total_minor, currency=booking.currency,
                      status=SUCCEEDED, method=(method or "cash")[:40],
                      marked_paid_by_id=actor_id, succeeded_at=now, checked_at=now)
    db.session.add(payment)
    if booking.status == PENDING:
        bookings.confirm_paid(booking, actor=Actor(actor_id, "paid at the venue"))
    db.session.flush()
    events.publish("payment.succeeded", event_payloads.payment(payment, booking),
                   provider_id=payment.provider_id)
    return payment


# --- reconciliation ----------------------------------------------------------------------

def reconcile_unsettled(*, now=None, limit: int = 200) -> dict:
    """Re-read payments left unsettled for a while (a missed webhook must not leave a paid
    booking unconfirmed) and settle them, for every online gateway set up here (PayPal's
    approved orders are captured or left: :func:`app.services.paypal_checkout.reconciled_order`).
    Returns counts for the job's log."""
    now = now or utcnow()
    minutes = current_app.config.get("PAYMENT_RECONCILE_AFTER_MINUTES", 10)
    cutoff = now - timedelta(minutes=minutes)
    rows = db.session.execute(
        select(Payment.id, Payment.gateway, Payment.provider_reference)
        .where(Payment.gateway.in_(reconciled_gateways()), Payment.status.in_(UNSETTLED),
               Payment.provider_reference.is_not(None), Payment.updated_at < cutoff,
               (Payment.checked_at.is_(None)) | (Payment.checked_at < cutoff))
        .order_by(Payment.id).limit(limit)).all()
    end_read()  # no transaction stays open across the gateway calls
    counts = {"checked": 0, "settled": 0, "errors": 0}
    for payment_id, gateway_name, provider_reference in rows:
        counts["checked"] += 1
        try:
            state = _current_state(payment_id, gateway_name, provider_reference)
        except GatewayError as exc:
            counts["errors"] += 1
            log.warning("reconciling payment %s: %s", payment_id, exc.message)
            continue
        before = state.status
        try:
            payment = settle_by_id(payment_id, state, reason="reconciled with the gateway")
        except Conflict as exc:  # busy: the next run settles it
            counts["errors"] += 1
            log.warning("reconciling payment %s: %s", payment_id, exc.message)
            continue
        if payment.status in TERMINAL:
            counts["settled"] += 1
        log.info("reconciled payment %s: gateway says %s", payment_id, before)
    return counts


def reconciled_gateways() -> tuple[str, ...]:
    """The online gateways set up here, whose unsettled payments reconciliation re-reads."""
    config = current_app.config
    return tuple(name for name, set_up in (
        (STRIPE, config.get("STRIPE_SECRET_KEY")),
        (PAYPAL, config.get("PAYPAL_CLIENT_ID") and config.get("PAYPAL_CLIENT_SECRET")))
        if set_up)


def _current_state(payment_id: int, gateway_name: str, reference: str) -> IntentState:
    if gateway_name == PAYPAL:
        from app.services.paypal_checkout import reconciled_order  # it builds on this module

        return reconciled_order(payment_id, reference)
    return stripe_gateway().retrieve_intent(reference)


def holds_awaiting_gateway():
    """Bookings whose payment is on its way (processing, or waiting for the customer's
    bank): their hold must not expire before reconciliation has heard from the gateway."""
    from app.models.payments import PROCESSING, REQUIRES_ACTION

    return select(Payment.booking_id).where(Payment.status.in_((PROCESSING, REQUIRES_ACTION)))
