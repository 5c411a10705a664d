"""SMS: Twilio's REST API through the official client, or text files without Twilio.

``send_sms`` returns the message sid, or raises ``SmsError`` saying whether trying again
may help: Twilio 5xx, 429 and network failures may; a refused number (21211 invalid,
21610 unsubscribed, 21614 not a mobile, ...) never will.
"""
from __future__ import annotations

import uuid

from flask import current_app

from app.gateways.mail import outbox_dir

# Twilio error codes that no retry will fix.
PERMANENT_CODES = {
    21211,  # invalid 'To' number
    21408,  # region not enabled
    21602,  # body required
    21606,  # 'From' cannot send to this number
    21610,  # the recipient replied STOP
    21612,  # 'To' not reachable from this 'From'
    21614,  # 'To' is not a mobile number
    21617,  # body too long
    30003, 30004, 30005, 30006, 30007,  # unreachable, blocked, unknown, landline, filtered
}
REQUEST_TIMEOUT = 15  # seconds


class SmsError(Exception):
    def __init__(self, message: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code


def configured() -> bool:
    config = current_app.config
    return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")
                and config.get("TWILIO_FROM_NUMBER"))


def twilio_client():
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    config = current_app.config
    client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                    http_client=TwilioHttpClient(timeout=REQUEST_TIMEOUT))
    base = config.get("TWILIO_API_BASE")
    if base:
        # A stand-in server: TWILIO_REGION / TWILIO_EDGE would rewrite its host name.
        client.region = None
        client.edge = None
        client.api.base_url = base.rstrip("/")
    return client


def send_sms(*, to: str, body: str, status_callback: str | None = None) -> str:
    if not configured():
        return _write_text(to, body)
    from twilio.base.exceptions import TwilioException, TwilioRestException

    params = {"to": to, "from_": current_app.config["TWILIO_FROM_NUMBER"], "body": body}
    if status_callback:
        params["status_callback"] = status_callback
    try:
        message = twilio_client().messages.create(**params)
    except TwilioRestException as exc:
        raise classify_rest_error(exc) from exc
    except TwilioException as exc:
        raise SmsError(f"Twilio: {exc}", permanent=False) from exc
    except Exception as exc:  # requests' connection errors and timeouts
        raise SmsError(f"Twilio unreachable: {type(exc).__name__}: {exc}",
                       permanent=False) from exc
    return message.sid


def classify_rest_error(exc) -> SmsError:
    code = exc.code
    text = f"Twilio {exc.status}" + (f" error {code}" if code else "") + f": {exc.msg}"
    if code in PERMANENT_CODES:
        return SmsError(text, permanent=True, code=code)
    if exc.status == 429 or exc.status >= 500 or exc.status in (401, 403):
        # Busy, down, or our credentials (fixed in the settings, the retry succeeds).
        return SmsError(text, permanent=False, code=code)
    return SmsError(text, permanent=True, code=code)


def _write_text(to: str, body: str) -> str:
    sid = f"local-{uuid.uuid4().hex}"
    (outbox_dir() / f"{sid}.sms.txt").write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
    return sid


def valid_signature(url: str, params: dict, signature: str | None) -> bool:
    """Whether ``X-Twilio-Signature`` signs this URL and these form fields with our token."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token or not signature:
        return False
    from twilio.request_validator import RequestValidator

    return RequestValidator(token).validate(url, params, signature)
