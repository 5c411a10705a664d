"""A local PayPal-compatible test server on 127.0.0.1, kept in memory (standard library).

It answers what PayPal's REST API answers for a checkout with intent ``CAPTURE``, so the
official SDK (``paypal-server-sdk``) can be pointed at it::

    with LocalPayPal(webhook_url="http://127.0.0.1:5000/api/v1/webhooks/paypal",
                     webhook_id="WH-LOCAL") as server:
        ... PAYPAL_API_BASE = server.url, PAYPAL_CLIENT_ID = CLIENT_ID, ...

Or in the foreground::

    python -m devservices.paypal_server --host 127.0.0.1 --port 8421 \\
        --webhook-url http://127.0.0.1:5000/api/v1/webhooks/paypal --webhook-id WH-LOCAL

- ``POST /v1/oauth2/token``: client credentials (HTTP Basic) → a Bearer token, which
  every other API call needs (401 ``AUTHENTICATION_FAILURE`` without it).
- ``POST /v2/checkout/orders`` (a repeated ``PayPal-Request-Id`` answers the order it
  made first), ``GET /v2/checkout/orders/{id}``, ``POST /v2/checkout/orders/{id}/capture``.
- ``GET /checkoutnow?token={id}``: the approval page (merchant, amount, the sandbox buyer,
  **Approve** and **Cancel**; see ``devservices/paypal_pages.py``). Opening it approves
  nothing: the buyer's ``POST /checkoutnow`` does (``token``, ``action=approve``), then
  redirects to the order's ``return_url`` with ``token`` and ``PayerID`` as PayPal does;
  with ``decline=1`` the capture will be declined (422 ``INSTRUMENT_DECLINED``).
  ``action=cancel`` (or ``GET /checkoutnow/cancel?token={id}``) goes back to
  ``cancel_url`` with ``token``, the order left unapproved.
- ``GET /sdk/js?client-id=...``: a minimal compatible double of PayPal's JS SDK
  (``paypal.Buttons``), which opens the approval page in a popup.
- ``GET /v2/payments/captures/{id}``, ``POST /v2/payments/captures/{id}/refund`` (none
  over what is left of the capture), ``GET /v2/payments/refunds/{id}``.
- ``GET /v1/customer/disputes/{id}``: a dispute's details (Disputes API v1).
- ``POST /v1/notifications/verify-webhook-signature``: ``SUCCESS`` only for a delivery
  of this server, unchanged (see ``devservices/paypal_webhooks.py``).

Webhooks ``CHECKOUT.ORDER.APPROVED``, ``PAYMENT.CAPTURE.COMPLETED``,
``PAYMENT.CAPTURE.REFUNDED`` (a refund completed), ``PAYMENT.REFUND.PENDING``,
``PAYMENT.REFUND.FAILED``, ``PAYMENT.CAPTURE.REVERSED`` and ``CUSTOMER.DISPUTE.CREATED``,
``UPDATED`` and ``RESOLVED`` go to the configured URL, signed for the configured webhook
id. What happens at PayPal without the API (a held refund completing, a dashboard refund,
a reversal, disputes) is done by the methods of :class:`LocalPayPal` (tests) and posts
the same events. Errors are in PayPal's shape (``name``, ``message``, ``debug_id``,
``details``).
"""
from __future__ import annotations

import argparse
import base64
import json
import logging
import re
import secrets
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from devservices import paypal_pages
from devservices.paypal_ledger import (
    Ledger,
    PayPalError,
    invalid_request,
    not_found,
    now_text,
)
from devservices.paypal_webhooks import CERT_PATH, WebhookSender, WebhookSigner, new_event
from devservices.ports import STAND_INS

log = logging.getLogger(__name__)

CLIENT_ID = "local-paypal-client"
CLIENT_SECRET = "local-paypal-secret"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = STAND_INS["paypal"].default_port  # 8421
TOKEN_SECONDS = 32400

_ROUTES = [
    ("POST", r"/v1/oauth2/token", "token"),
    ("POST", r"/v2/checkout/orders", "create_order"),
    ("GET", r"/v2/checkout/orders/(?P<id>[^/]+)", "get_order"),
    ("POST", r"/v2/checkout/orders/(?P<id>[^/]+)/capture", "capture_order"),
    ("GET", r"/checkoutnow", "approve_page"),
    ("POST", r"/checkoutnow", "approve_form"),
    ("GET", r"/checkoutnow/cancel", "cancel_page"),
    ("GET", r"/v2/payments/captures/(?P<id>[^/]+)", "get_capture"),
    ("POST", r"/v2/payments/captures/(?P<id>[^/]+)/refund", "refund_capture"),
    ("GET", r"/v2/payments/refunds/(?P<id>[^/]+)", "get_refund"),
    ("GET", r"/v1/customer/disputes/(?P<id>[^/]+)", "get_dispute"),
    ("POST", r"/v1/notifications/verify-webhook-signature", "verify_webhook"),
    ("GET", re.escape(CERT_PATH), "certificate"),
    ("GET", r"/sdk/js", "sdk_js"),
]
# No Bearer token needed: the buyer's browser and the OAuth call itself.
_OPEN = {"token", "approve_page", "approve_form", "cancel_page", "certificate", "sdk_js"}
_HTML = {"Content-Type": "text/html; charset=utf-8"}


class _Answer(Exception):
    """A finished response: status, headers and body (JSON, text or nothing)."""

    def __init__(self, status: int, body=None, headers: dict | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class LocalPayPal:
    def __init__(self, *, clients: dict[str, str] | None = None,
                 webhook_url: str | None = None, webhook_id: str | None = None,
                 webhook_delay: float = 0.5) -> None:
        self.clients = clients or {CLIENT_ID: CLIENT_SECRET}
        self._webhook = (webhook_url, webhook_id, webhook_delay)
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.ledger: Ledger | None = None
        self.signer: WebhookSigner | None = None
        self.webhooks: WebhookSender | None = None
        self.errors: list[Exception] = []  # unexpected failures (answered as 500)

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the local PayPal server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self, host: str = DEFAULT_HOST, port: int = 0) -> LocalPayPal:
        if self.running:
            raise RuntimeError(f"the local PayPal server is already running on {self.url}")
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the stdlib's name)
                stand_in._handle(self, "GET")

            def do_POST(self):  # noqa: N802
                stand_in._handle(self, "POST")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self.ledger = Ledger(self.url)
        self.signer = WebhookSigner(self.url)
        url, webhook_id, delay = self._webhook
        self.webhooks = WebhookSender(self.signer, delay=delay)
        self.webhooks.configure(url, webhook_id)
        threading.Thread(target=self._server.serve_forever, name="local-paypal",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        self.webhooks.stop()

    def __enter__(self) -> LocalPayPal:
        return self if self.running else self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def configure_webhook(self, url: str | None, webhook_id: str | None) -> None:
        """Where events go from now on, signed for ``webhook_id`` (None: nowhere)."""
        self.webhooks.configure(url, webhook_id)

    def approve(self, order_id: str, *, decline_capture: bool = False) -> dict:
        """The buyer approving ``order_id`` (what the approval page does); its JSON."""
        with self._lock:
            order = self.ledger.approve(order_id, decline_capture=decline_capture)
            body = self.ledger.order_json(order)
        self.webhooks.send(new_event("CHECKOUT.ORDER.APPROVED", "checkout-order", body,
                                     f"An order has been approved by buyer {order_id}",
                                     self.url))
        return body

    # --- what happens at PayPal without the API --------------------------------------------

    def hold_next_refund(self, count: int = 1) -> None:
        """The next ``count`` refunds are answered PENDING (an eCheck-funded payment), until
        :meth:`complete_refund` or :meth:`fail_refund`."""
        with self._lock:
            self.ledger.refunds_held = count

    def complete_refund(self, refund_id: str, *, notify: bool = True) -> dict:
        """A PENDING refund completes; PayPal says so with ``PAYMENT.CAPTURE.REFUNDED``
        (``notify=False``: that delivery is lost)."""
        return self._finish_refund(refund_id, "COMPLETED", notify)

    def fail_refund(self, refund_id: str, *, notify: bool = True) -> dict:
        """A PENDING refund fails (``PAYMENT.REFUND.FAILED``)."""
        return self._finish_refund(refund_id, "FAILED", notify)

    def refund_in_dashboard(self, capture_id: str, value: str | None = None) -> dict:
        """The merchant refunding in PayPal's dashboard (all that is left, or ``value`` in
        major units): no PayPal-Request-Id of ours, only the event."""
        body = {} if value is None else {"amount": {"value": value}}
        return self._refund_outside(capture_id, body, reversal=False)

    def reverse(self, capture_id: str, value: str | None = None) -> dict:
        """PayPal taking the money back (a chargeback, a dispute lost): a reversal of all
        that is left, or of ``value``; ``PAYMENT.CAPTURE.REVERSED``."""
        return self._refund_outside(capture_id, {} if value is None else
                                    {"amount": {"value": value}}, reversal=True)

    def open_dispute(self, capture_id: str, *, value: str | None = None,
                     reason: str = "MERCHANDISE_OR_SERVICE_NOT_RECEIVED") -> dict:
        """The buyer disputing the capture (``CUSTOMER.DISPUTE.CREATED``)."""
        with self._lock:
            dispute = self.ledger.open_dispute(capture_id, reason, value)
            body = self.ledger.dispute_json(dispute)
        self._send_dispute("CUSTOMER.DISPUTE.CREATED", body, "A new dispute opened")
        return body

    def update_dispute(self, dispute_id: str, *, status: str = "UNDER_REVIEW",
                       stage: str | None = None) -> dict:
        """The dispute moving on (``CUSTOMER.DISPUTE.UPDATED``)."""
        with self._lock:
            dispute = self.ledger.dispute(dispute_id)
            dispute.status, dispute.update_time = status, now_text()
            dispute.stage = stage or dispute.stage
            body = self.ledger.dispute_json(dispute)
        self._send_dispute("CUSTOMER.DISPUTE.UPDATED", body, "A dispute was updated")
        return body

    def resolve_dispute(self, dispute_id: str, *,
                        outcome: str = "RESOLVED_SELLER_FAVOUR") -> dict:
        """PayPal deciding the dispute (``CUSTOMER.DISPUTE.RESOLVED``). Money moves only by
        :meth:`reverse`, as at PayPal, where a decision for the buyer reverses the capture."""
        with self._lock:
            dispute = self.ledger.dispute(dispute_id)
            dispute.status, dispute.outcome, dispute.update_time = \
                "RESOLVED", outcome, now_text()
            body = self.ledger.dispute_json(dispute)
        self._send_dispute("CUSTOMER.DISPUTE.RESOLVED", body, "A dispute was resolved")
        return body

    def _finish_refund(self, refund_id: str, status: str, notify: bool) -> dict:
        with self._lock:
            body = self.ledger.refund_json(self.ledger.finish_refund(refund_id, status))
        if notify:
            self._send_refund(body)
        return body

    def _refund_outside(self, capture_id: str, body: dict, *, reversal: bool) -> dict:
        with self._lock:
            capture = self.ledger.capture_of(capture_id)
            if "amount" in body:
                body["amount"]["currency_code"] = capture.currency
            answer = self.ledger.refund_json(self.ledger.refund(capture_id, body,
                                                                reversal=reversal))
        self._send_refund(answer, reversed_=reversal)
        return answer

    def _send_refund(self, refund: dict, *, reversed_: bool = False) -> None:
        """The event PayPal sends for a refund in this state."""
        amount = f"{refund['amount']['value']} {refund['amount']['currency_code']}"
        event_type, summary = {
            "COMPLETED": ("PAYMENT.CAPTURE.REFUNDED",
                          f"A {amount} capture payment was refunded"),
            "PENDING": ("PAYMENT.REFUND.PENDING", f"A {amount} refund is pending"),
            "FAILED": ("PAYMENT.REFUND.FAILED", f"A {amount} refund failed"),
        }[refund["status"]]
        if reversed_:
            event_type, summary = ("PAYMENT.CAPTURE.REVERSED",
                                   f"A {amount} capture payment was reversed")
        self.webhooks.send(new_event(event_type, "refund", refund, summary, self.url))

    def _send_dispute(self, event_type: str, dispute: dict, summary: str) -> None:
        self.webhooks.send(new_event(event_type, "dispute", dispute,
                                     f"{summary}: {dispute['dispute_id']}", self.url,
                                     resource_version="1.0"))

    # --- HTTP -----------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        try:
            name, params = _route(method, parts.path)
            if name not in _OPEN:
                self._check_bearer(request.headers.get("Authorization", ""))
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            getattr(self, f"_{name}")(request, params.get("id"), query)
            raise _Answer(500, {"name": "INTERNAL_SERVER_ERROR", "message": "no answer"})
        except _Answer as answer:
            _respond(request, answer.status, answer.body, answer.headers)
        except PayPalError as error:
            _respond(request, error.status, error.body(), {})
        except Exception as exc:  # answered like PayPal's 500, and kept for the tests
            self.errors.append(exc)
            log.exception("local PayPal server failed on %s %s", method, parts.path)
            _respond(request, 500, PayPalError(500, "INTERNAL_SERVER_ERROR",
                                               "An internal server error occurred.").body(), {})

    def _check_bearer(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token not in self._tokens:
            raise PayPalError(401, "AUTHENTICATION_FAILURE", "Authentication failed due to "
                              "invalid authentication credentials or a missing "
                              "Authorization header.")

    def _token(self, request, _id, _query) -> None:
        form = {k: v[0] for k, v in parse_qs(_read(request).decode("utf-8", "replace")).items()}
        client_id, secret = _basic(request.headers.get("Authorization", ""))
        if self.clients.get(client_id) != secret or secret is None:
            # The OAuth endpoint answers in OAuth's error shape, not the REST one.
            raise _Answer(401, {"error": "invalid_client",
                                "error_description": "Client Authentication failed"})
        if form.get("grant_type") != "client_credentials":
            raise _Answer(400, {"error": "unsupported_grant_type",
                                "error_description": "Grant Type is not supported"})
        token = "A21AA" + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens.add(token)
        raise _Answer(200, {"scope": "https://uri.paypal.com/services/payments/payment",
                            "access_token": token, "token_type": "Bearer",
                            "app_id": "APP-LOCAL", "expires_in": TOKEN_SECONDS,
                            "nonce": secrets.token_hex(16)})

    def _create_order(self, request, _id, _query) -> None:
        body = _json(request)
        with self._lock:
            order, repeated = self._once(request, "create", lambda: self.ledger.create_order(
                body).id)
            answer = self.ledger.order_json(self.ledger.order(order))
        raise _Answer(200 if repeated else 201, _shaped(request, answer))

    def _get_order(self, _request, order_id, _query) -> None:
        with self._lock:
            raise _Answer(200, self.ledger.order_json(self.ledger.order(order_id)))

    def _capture_order(self, request, order_id, _query) -> None:
        _json(request, optional=True)
        with self._lock:
            _, repeated = self._once(request, f"capture:{order_id}",
                                     lambda: self.ledger.capture(order_id).id)
            order = self.ledger.order(order_id)
            answer = self.ledger.order_json(order)
            capture = self.ledger.capture_json(self.ledger.captures[order.capture_id])
        if not repeated:
            self.webhooks.send(new_event("PAYMENT.CAPTURE.COMPLETED", "capture", capture,
                                         f"Payment completed for order {order_id}", self.url))
        raise _Answer(200 if repeated else 201, _shaped(request, answer))

    def _approve_page(self, _request, _id, query) -> None:
        """Shows the order; approving is the form's POST (:meth:`_approve_form`)."""
        order_id = query.get("token") or ""
        opener = _origin(query.get("opener_origin") or "")
        with self._lock:
            order = self.ledger.orders.get(order_id)
            if order is None:
                raise _Answer(404, paypal_pages.not_found_page(order_id), _HTML)
            raise _Answer(200, paypal_pages.approval_page(order, opener_origin=opener), _HTML)

    def _approve_form(self, request, _id, _query) -> None:
        form = {k: v[0] for k, v in parse_qs(_read(request).decode("utf-8", "replace")).items()}
        order_id, action = form.get("token") or "", form.get("action")
        opener = _origin(form.get("opener_origin") or "")
        with self._lock:
            order = self.ledger.orders.get(order_id)
        if order is None:
            raise _Answer(404, paypal_pages.not_found_page(order_id), _HTML)
        if action == "cancel":
            if opener:
                raise _Answer(200, paypal_pages.opener_page(opener, {
                    "source": "local-paypal", "orderID": order_id, "approved": False}), _HTML)
            self._cancel_page(request, None, {"token": order_id})
        if action != "approve":
            raise _Answer(400, "Choose Approve or Cancel.")
        body = self.approve(order_id, decline_capture=form.get("decline") == "1")
        payer_id = body["payer"]["payer_id"]
        if opener:
            raise _Answer(200, paypal_pages.opener_page(opener, {
                "source": "local-paypal", "orderID": order_id, "payerID": payer_id,
                "approved": True}), _HTML)
        if not order.return_url:
            raise _Answer(200, f"Order {order_id} approved ({body['status']}).")
        # 303: the browser follows a form's answer with a GET, as from PayPal's page.
        raise _Answer(303, headers={"Location": _with_query(order.return_url, {
            "token": order_id, "PayerID": payer_id})})

    def _sdk_js(self, _request, _id, query) -> None:
        if query.get("client-id") not in self.clients:
            # PayPal answers an unknown client id with a 400 and no script.
            raise _Answer(400, "throw new Error(\"Expected client-id to be passed\");",
                          {"Content-Type": "application/javascript; charset=utf-8"})
        raise _Answer(200, paypal_pages.SDK_JS,
                      {"Content-Type": "application/javascript; charset=utf-8",
                       "Cache-Control": "no-cache"})

    def _cancel_page(self, _request, _id, query) -> None:
        order_id = query.get("token") or ""
        with self._lock:
            cancel_url = self.ledger.order(order_id).cancel_url
        if not cancel_url:
            raise _Answer(200, f"Order {order_id} not approved.")
        raise _Answer(302, headers={"Location": _with_query(cancel_url, {"token": order_id})})

    def _get_capture(self, _request, capture_id, _query) -> None:
        with self._lock:
            raise _Answer(200, self.ledger.capture_json(self.ledger.capture_of(capture_id)))

    def _refund_capture(self, request, capture_id, _query) -> None:
        body = _json(request, optional=True)
        with self._lock:
            refund_id, repeated = self._once(request, f"refund:{capture_id}",
                                             lambda: self.ledger.refund(capture_id, body).id)
            answer = self.ledger.refund_json(self.ledger.refund_of(refund_id))
        if not repeated:
            self._send_refund(answer)
        raise _Answer(200 if repeated else 201, _shaped(request, answer))

    def _get_refund(self, _request, refund_id, _query) -> None:
        with self._lock:
            raise _Answer(200, self.ledger.refund_json(self.ledger.refund_of(refund_id)))

    def _get_dispute(self, _request, dispute_id, _query) -> None:
        with self._lock:
            raise _Answer(200, self.ledger.dispute_json(self.ledger.dispute(dispute_id)))

    def _verify_webhook(self, request, _id, _query) -> None:
        verified = self.signer.verify(_json(request))
        raise _Answer(200, {"verification_status": "SUCCESS" if verified else "FAILURE"})

    def _certificate(self, _request, _id, _query) -> None:
        raise _Answer(200, self.signer.cert_pem.decode("ascii"))

    def _once(self, request, operation: str, act) -> tuple[str, bool]:
        """Run ``act`` (which returns the id of what it made) once per PayPal-Request-Id;
        a repeated id answers the first one's id. (id, repeated)"""
        request_id = request.headers.get("PayPal-Request-Id")
        key = (operation, request_id)
        if request_id and key in self.ledger.answered:
            return self.ledger.answered[key], True
        made = act()
        if request_id:
            self.ledger.answered[key] = made
        return made, False


def _route(method: str, path: str) -> tuple[str, dict]:
    for route_method, pattern, name in _ROUTES:
        match = re.fullmatch(pattern, path)
        if match and route_method == method:
            return name, match.groupdict()
    raise not_found("resource", path)


def _read(request) -> bytes:
    length = int(request.headers.get("Content-Length") or 0)
    return request.rfile.read(length) if length else b""


def _json(request, *, optional: bool = False) -> dict:
    raw = _read(request)
    if not raw.strip() and optional:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise invalid_request("MALFORMED_REQUEST_JSON", "The request JSON is not well "
                              "formed.")
    return body


def _basic(authorization: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode("utf-8").partition(":")
    except ValueError:
        return None, None
    return client_id, secret


def _shaped(request, body: dict) -> dict:
    """``Prefer: return=minimal`` answers only id, status and links, as PayPal does."""
    if "return=minimal" in (request.headers.get("Prefer") or ""):
        return {key: body[key] for key in ("id", "status", "links") if key in body}
    return body


def _with_query(url: str, params: dict) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) address; "" for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def _respond(request, status: int, body, headers: dict) -> None:
    headers = dict(headers)
    if isinstance(body, (dict, list)):
        data, content_type = json.dumps(body).encode("utf-8"), "application/json"
    else:
        data, content_type = (body or "").encode("utf-8"), "text/plain; charset=utf-8"
    content_type = headers.pop("Content-Type", content_type)
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(data)))
    request.send_header("Paypal-Debug-Id", secrets.token_hex(7))
    for name, value in headers.items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devservices.paypal_server",
        description="Run a local PayPal-compatible test server (orders, captures, refunds).")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--client-id", default=CLIENT_ID)
    parser.add_argument("--client-secret", default=CLIENT_SECRET)
    parser.add_argument("--webhook-url", help="where to post signed events")
    parser.add_argument("--webhook-id", help="the webhook id the events are signed for")
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_id):
        parser.error("--webhook-url and --webhook-id go together")

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())
    try:
        server = LocalPayPal(clients={args.client_id: args.client_secret},
                             webhook_url=args.webhook_url,
                             webhook_id=args.webhook_id).start(args.host, args.port)
    except OSError as exc:
        log.error("cannot listen on %s port %s: %s", args.host, args.port, exc)
        return 1
    try:
        log.info("local PayPal test server on %s%s", server.url,
                 f" (webhooks to {args.webhook_url})" if args.webhook_url else "")
        stop_requested.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
