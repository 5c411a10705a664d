"""Customers pay for their own pending bookings."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user

from api.blueprint import Blueprint
from api.errors import ErrorSchema
from api.idempotency import idempotent
from api.payments.schemas import (
    CustomerPaymentSchema,
    PaymentStartSchema,
    PayPalReturnedSchema,
    PayPalReturnSchema,
    StartedPaymentSchema,
    TestCardSchema,
)
from app.services import account_bookings, payments, paypal_checkout

blp = Blueprint("payments", __name__, url_prefix="/bookings",
                description="Pay for your bookings")


@blp.route("/<reference>/payment")
class BookingPaymentViews(MethodView):
    @blp.login_required()
    @idempotent
    @blp.arguments(PaymentStartSchema, required=False)
    @blp.response(201, StartedPaymentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema,
                      description="Not pending, paid already, paid at the venue, started "
                                  "with another method, not set up, or busy")
    @blp.alt_response(503, schema=ErrorSchema,
                      description="The payment provider did not answer; nothing was charged")
    def post(self, data, reference):
        """Start paying: creates (or reuses) the booking's one PaymentIntent or PayPal order"""
        account_bookings.require_shown(reference, account_id=current_user.id)
        return payments.start_payment(reference, customer_id=current_user.id,
                                      method=data.get("method"),
                                      return_url=data.get("return_url"),
                                      cancel_url=data.get("cancel_url"))

    @blp.login_required()
    @blp.response(200, CustomerPaymentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No payment for this booking")
    def get(self, reference):
        """Where the payment stands"""
        account_bookings.require_shown(reference, account_id=current_user.id)
        return payments.payment_for_customer(reference, customer_id=current_user.id)


@blp.route("/<reference>/payment/paypal-return")
class PayPalReturnViews(MethodView):
    @blp.login_required()
    @blp.arguments(PayPalReturnSchema)
    @blp.response(200, PayPalReturnedSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or no payment")
    @blp.alt_response(409, schema=ErrorSchema,
                      description="Not a PayPal payment, another order, or not payable")
    @blp.alt_response(503, schema=ErrorSchema, description="PayPal did not answer")
    def post(self, data, reference):
        """Back from PayPal: capture the approved order; paid only once PayPal has captured
        it (repeating this is harmless)"""
        account_bookings.require_shown(reference, account_id=current_user.id)
        return paypal_checkout.capture_on_return(reference, customer_id=current_user.id,
                                                 order_id=data["order_id"])


@blp.route("/<reference>/payment/test-card")
class TestCardViews(MethodView):
    @blp.login_required()
    @blp.arguments(TestCardSchema)
    @blp.response(200, CustomerPaymentSchema)
    @blp.alt_response(404, schema=ErrorSchema,
                      description="Not yours, or test cards are off (a real gateway)")
    def post(self, data, reference):
        """Demo only: pay server-side with a test card against the local test server"""
        account_bookings.require_shown(reference, account_id=current_user.id)
        return payments.pay_with_test_card(reference, customer_id=current_user.id,
                                           card=data["card"])
