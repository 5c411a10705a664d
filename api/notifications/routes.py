"""Twilio's callbacks: delivery status of the SMS we sent, and customers' replies (STOP).

Both are signed: ``X-Twilio-Signature`` is checked with twilio's ``RequestValidator``
against the public URL (``PUBLIC_BASE_URL`` + path: what Twilio called, whatever proxy
stands in between) and the form fields. Anything unsigned or tampered is refused with a
400 and changes nothing.
"""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView

from api.blueprint import Blueprint
from api.errors import ErrorSchema
from app.errors import DomainError
from app.gateways import sms
from app.services import notifications

blp = Blueprint("twilio_webhooks", __name__, url_prefix="/webhooks/twilio",
                description="Twilio SMS callbacks (signed; not for people)")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class SignatureRejected(DomainError):
    status = 400


def _verified_form() -> dict:
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    params = request.form.to_dict()
    if not sms.valid_signature(url, params, request.headers.get("X-Twilio-Signature")):
        raise SignatureRejected("webhook.bad_signature",
                                "Missing or invalid X-Twilio-Signature: nothing was changed.")
    return params


@blp.route("/status")
class TwilioStatusViews(MethodView):
    @blp.response(204)
    @blp.alt_response(400, schema=ErrorSchema,
                      description="Missing or invalid signature: nothing changed")
    def post(self):
        """Delivery status of an SMS (`StatusCallback`): `MessageSid`, `MessageStatus`,
        `ErrorCode`; `failed`/`undelivered` mark the message failed"""
        notifications.record_sms_status(_verified_form())


@blp.route("/inbound")
class TwilioInboundViews(MethodView):
    @blp.alt_response(400, schema=ErrorSchema,
                      description="Missing or invalid signature: nothing changed")
    @blp.doc(responses={"200": {"description": "Empty TwiML (no reply is sent)",
                                "content": {"text/xml": {"schema": {"type": "string"}}}}})
    def post(self):
        """A customer's reply: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END or QUIT opts their
        number out of SMS; START or UNSTOP opts it back in"""
        notifications.record_sms_reply(_verified_form())
        return current_app.response_class(EMPTY_TWIML, mimetype="text/xml")
