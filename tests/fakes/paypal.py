"""The local PayPal stand-in (devservices/paypal_server.py) for tests, and what a test
needs around it: the real gateway pointed at it, a buyer's browser on its approval page,
and a receiver for its webhooks::

    with LocalPayPal() as server, WebhookReceiver() as receiver:
        server.configure_webhook(receiver.url, WEBHOOK_ID)
        gateway = paypal_gateway(server)
        ...
        delivery = receiver.next_delivery()

Each LocalPayPal keeps its own orders, so tests may start one per module or per test.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

from app.gateways.paypal import PayPalGateway
from devservices.paypal_server import CLIENT_ID, CLIENT_SECRET, LocalPayPal

WEBHOOK_ID = "WH-TEST-0001"
__all__ = ["LocalPayPal", "WEBHOOK_ID", "paypal_gateway", "approve", "WebhookReceiver"]


def paypal_gateway(server: LocalPayPal, *, client_secret: str = CLIENT_SECRET,
                   webhook_id: str | None = WEBHOOK_ID) -> PayPalGateway:
    return PayPalGateway(CLIENT_ID, client_secret, api_base=server.url,
                         webhook_id=webhook_id, timeout=5)


def approve(approval_url: str, *, decline: bool = False) -> dict[str, str]:
    """A buyer approving on PayPal's page, as a browser does it: the page opens (approving
    nothing), then its form is sent with Approve. The query PayPal sends them back to the
    shop with (``token``, ``PayerID``)."""
    page = requests.get(approval_url, timeout=10)
    assert page.status_code == 200 and "Approve" in page.text, page.text
    parts = urlsplit(approval_url)
    form = {"token": parse_qs(parts.query)["token"][0], "action": "approve"}
    if decline:
        form["decline"] = "1"
    answer = requests.post(f"{parts.scheme}://{parts.netloc}/checkoutnow", data=form,
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


@dataclass(frozen=True)
class ReceivedWebhook:
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A stdlib HTTP server on 127.0.0.1 that keeps every POST it gets (answers 200)."""

    def __init__(self) -> None:
        self._received: queue.Queue[ReceivedWebhook] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def __enter__(self) -> WebhookReceiver:
        received = self._received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.put(ReceivedWebhook(dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhooks/paypal"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_delivery(self, timeout: float = 10.0) -> ReceivedWebhook:
        return self._received.get(timeout=timeout)


@contextmanager
def caught_deliveries(server: LocalPayPal) -> Iterator[WebhookReceiver]:
    """The stand-in's signed deliveries from here on, caught (not sent to the app) so a
    test posts them itself, when and as often as it wants."""
    with WebhookReceiver() as receiver:
        server.configure_webhook(receiver.url, WEBHOOK_ID)
        try:
            yield receiver
        finally:
            server.configure_webhook(None, None)
