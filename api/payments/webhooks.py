"""Webhooks from payment providers: verified on the raw body, stored, then processed."""
from __future__ import annotations

from flask import request
from flask.views import MethodView

from api.blueprint import Blueprint
from api.errors import ErrorSchema
from api.payments.schemas import WebhookAckSchema
from app.services import payment_webhooks, paypal_webhooks

blp = Blueprint("webhooks", __name__, url_prefix="/webhooks",
                description="Payment provider callbacks (signed; not for people)")


@blp.route("/stripe")
class StripeWebhookViews(MethodView):
    @blp.response(200, WebhookAckSchema)
    @blp.alt_response(400, schema=ErrorSchema,
                      description="Missing, tampered or stale signature: nothing stored")
    def post(self):
        """Stripe events, checked against `Stripe-Signature` and `STRIPE_WEBHOOK_SECRET`"""
        received = payment_webhooks.receive(request.get_data(cache=False),
                                            request.headers.get("Stripe-Signature"))
        return {"received": True, "duplicate": received.row_id is None,
                "event_id": received.event_id}


@blp.route("/paypal")
class PayPalWebhookViews(MethodView):
    @blp.response(200, WebhookAckSchema)
    @blp.alt_response(400, schema=ErrorSchema,
                      description="Not confirmed by PayPal's verify call: nothing stored")
    @blp.alt_response(503, schema=ErrorSchema,
                      description="PayPal's verify call did not answer: nothing stored "
                                  "(PayPal delivers again)")
    def post(self):
        """PayPal events, confirmed by PayPal's verify-webhook-signature call for
        `PAYPAL_WEBHOOK_ID`"""
        received = paypal_webhooks.receive(request.get_data(cache=False), request.headers)
        return {"received": True, "duplicate": received.row_id is None,
                "event_id": received.event_id}
