"""The local PayPal stand-in's webhooks: signed like PayPal's, checked by its verify call.

PayPal signs ``<transmission id>|<transmission time>|<webhook id>|<CRC32 of the body>``
with SHA256withRSA and names the certificate in ``PAYPAL-CERT-URL``; a receiver asks
``POST /v1/notifications/verify-webhook-signature`` whether a delivery is genuine. Here
the key and a self-signed certificate are made at start (the certificate is served at
:attr:`WebhookSigner.cert_url`), and the verify call recomputes the CRC32 from the event
it is sent, serialised the way deliveries are, so any change to the event fails it.
"""
from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from devservices.paypal_ledger import new_id, now_text

log = logging.getLogger(__name__)

AUTH_ALGO = "SHA256withRSA"
CERT_PATH = "/v1/notifications/certs/CERT-local-stand-in"


def event_body(event: dict) -> bytes:
    """How a delivery's body is written, and how the verify call rewrites the event."""
    return json.dumps(event, separators=(",", ":")).encode("utf-8")


def new_event(event_type: str, resource_type: str, resource: dict, summary: str,
              base_url: str, resource_version: str = "2.0") -> dict:
    event_id = f"WH-{new_id()}-{new_id()[:8]}"
    return {"id": event_id, "event_version": "1.0", "create_time": now_text(),
            "resource_type": resource_type, "resource_version": resource_version,
            "event_type": event_type, "summary": summary, "resource": resource,
            "links": [{"href": f"{base_url}/v1/notifications/webhooks-events/{event_id}",
                       "rel": "self", "method": "GET"}]}


@dataclass(frozen=True)
class Delivery:
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # the receiver's HTTP status; None: not reached


class WebhookSigner:
    def __init__(self, base_url: str) -> None:
        self.cert_url = base_url + CERT_PATH
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cert_pem = _self_signed(self._key).public_bytes(serialization.Encoding.PEM)

    def headers(self, webhook_id: str, body: bytes) -> dict[str, str]:
        transmission_id = str(uuid.uuid4())
        transmission_time = now_text()
        signature = self._key.sign(_message(transmission_id, transmission_time,
                                            webhook_id, body),
                                   padding.PKCS1v15(), hashes.SHA256())
        return {"Content-Type": "application/json",
                "PAYPAL-AUTH-ALGO": AUTH_ALGO, "PAYPAL-CERT-URL": self.cert_url,
                "PAYPAL-TRANSMISSION-ID": transmission_id,
                "PAYPAL-TRANSMISSION-TIME": transmission_time,
                "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode("ascii")}

    def verify(self, request: dict) -> bool:
        """The verify-webhook-signature call: True when ``request`` names our algorithm
        and certificate and its signature covers its event and webhook id."""
        fields = ("auth_algo", "cert_url", "transmission_id", "transmission_sig",
                  "transmission_time", "webhook_id")
        if not all(isinstance(request.get(name), str) for name in fields) \
                or not isinstance(request.get("webhook_event"), dict):
            return False
        if request["auth_algo"] != AUTH_ALGO or request["cert_url"] != self.cert_url:
            return False
        try:
            signature = base64.b64decode(request["transmission_sig"], validate=True)
            self._key.public_key().verify(
                signature, _message(request["transmission_id"], request["transmission_time"],
                                    request["webhook_id"],
                                    event_body(request["webhook_event"])),
                padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, InvalidSignature):
            return False
        return True


class WebhookSender:
    """Posts events, signed, to one URL, one after the other from a background thread,
    ``delay`` seconds after each happened (as PayPal's are, a moment later). Every
    delivery is kept in :attr:`deliveries`."""

    def __init__(self, signer: WebhookSigner, *, delay: float = 0.5) -> None:
        self.signer, self.delay = signer, delay
        self.url: str | None = None
        self.webhook_id: str | None = None
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    def configure(self, url: str | None, webhook_id: str | None) -> None:
        self.url, self.webhook_id = url, webhook_id

    def send(self, event: dict) -> None:
        if not self.url or not self.webhook_id:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="paypal-webhooks",
                                            daemon=True)
            self._thread.start()
        self._queue.put((time.monotonic() + self.delay, self.url, self.webhook_id, event))

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
            self._thread = None

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            due, url, webhook_id, event = item
            time.sleep(max(0.0, due - time.monotonic()))
            body = event_body(event)
            headers = self.signer.headers(webhook_id, body)
            self.deliveries.append(Delivery(url, headers, body, _post(url, headers, body)))


def _post(url: str, headers: dict[str, str], body: bytes) -> int | None:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:  # the receiver is down: PayPal would retry; we only log
        log.warning("webhook to %s not delivered: %s", url, exc)
        return None


def _message(transmission_id: str, transmission_time: str, webhook_id: str,
             body: bytes) -> bytes:
    crc = zlib.crc32(body) & 0xFFFFFFFF
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode("utf-8")


def _self_signed(key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local PayPal stand-in")])
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=365))
            .sign(key, hashes.SHA256()))
