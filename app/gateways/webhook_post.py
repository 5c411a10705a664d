"""One signed webhook POST (Standard Webhooks), to an address checked like every other.

The body is sent as given (the bytes stored at fan-out) with ``webhook-id``,
``webhook-timestamp`` (the sending time) and ``webhook-signature``: one ``v1,<base64>``
per secret, space-separated, so during a rotation's overlap both the new and the old
secret verify (``standardwebhooks.Webhook.sign``).

The address is resolved and checked by :mod:`app.gateways.outbound_address` (no private,
loopback or link-local address unless allow-listed) and the connection goes to the
checked address. No redirect is followed: a 3xx is a failed attempt, its ``Location``
checked the same way so the log can say when it pointed inside. Short connect and read
timeouts; at most ``EXCERPT_BYTES`` of the answer are read. Never raises for anything the
receiver or the network does: the answer is a :class:`PostResult`.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urljoin

from standardwebhooks import Webhook
from urllib3.exceptions import HTTPError, NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from app.gateways import outbound_address
from app.gateways.outbound_address import AddressRefused

USER_AGENT = "Bookwell-Webhooks/1.0"
EXCERPT_BYTES = 2048
REDIRECTS = (301, 302, 303, 307, 308)
# kinds of failure
TIMEOUT, NETWORK, REFUSED, HTTP, REDIRECT = "timeout", "network", "refused", "http", "redirect"


@dataclass(frozen=True)
class PostLimits:
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    allowed: tuple[str, ...] = ()  # host names, addresses or networks (CIDR)

    @classmethod
    def from_config(cls, config) -> PostLimits:
        return cls(connect_timeout=float(config.get("WEBHOOK_CONNECT_TIMEOUT", 3)),
                   read_timeout=float(config.get("WEBHOOK_READ_TIMEOUT", 10)),
                   allowed=outbound_address.allow_list(config.get("WEBHOOK_ALLOWED_HOSTS")))


@dataclass(frozen=True)
class PostResult:
    """What became of one attempt. ``kind`` is None for a 2xx."""

    status: int | None
    duration_ms: int
    request_headers: dict = field(default_factory=dict)
    excerpt: str | None = None
    error: str | None = None
    kind: str | None = None
    retry_after: float | None = None  # seconds, from a 429's or 503's Retry-After

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def signature_header(secrets: list[str], message_id: str, timestamp: datetime,
                     body: bytes) -> str:
    """``v1,<sig>`` for each secret, space-separated (the first is the current one)."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets)


def post(url: str, body: bytes, *, message_id: str, secrets: list[str], limits: PostLimits,
         resolve=socket.getaddrinfo) -> PostResult:
    started = time.monotonic()
    sent_at = datetime.now(timezone.utc)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature_header(secrets, message_id, sent_at, body),
    }
    logged = {**headers, "webhook-signature": _shortened(headers["webhook-signature"])}

    def result(**values) -> PostResult:
        return PostResult(duration_ms=int((time.monotonic() - started) * 1000),
                          request_headers=logged, **values)

    try:
        target = outbound_address.Target.of(url)
        addresses = outbound_address.checked_addresses(target.host, target.port,
                                                       limits.allowed, resolve)
    except AddressRefused as refused:
        return result(status=None, error=_refusal_words(refused), kind=REFUSED)
    logged["Host"] = target.host_header
    failure = None
    for address in addresses:
        pool = outbound_address.connection_pool(target, address,
                                                 connect_timeout=limits.connect_timeout,
                                                 read_timeout=limits.read_timeout)
        try:
            response = pool.urlopen("POST", target.path, body=body,
                                    headers={**headers, "Host": target.host_header},
                                    retries=False, redirect=False, preload_content=False)
            try:
                excerpt = _excerpt(response)
            finally:
                response.release_conn()
            return _answered(result, response, excerpt, url, limits, resolve)
        except NewConnectionError as exc:  # a subclass of urllib3's timeout: first
            refused = "refused" in str(exc).lower()
            failure = dict(error="Connection refused." if refused
                           else "The receiver could not be reached.", kind=NETWORK)
        except Urllib3Timeout:
            failure = dict(error=f"Timed out: no answer within "
                                 f"{limits.connect_timeout + limits.read_timeout:g} seconds.",
                           kind=TIMEOUT)
        except SSLError:
            failure = dict(error="A secure connection could not be made (the certificate "
                                 "did not check out).", kind=NETWORK)
        except (HTTPError, OSError):
            failure = dict(error="The receiver could not be reached.", kind=NETWORK)
        finally:
            pool.close()
    return result(status=None, **failure)


def _answered(result, response, excerpt: str, url: str, limits: PostLimits,
              resolve) -> PostResult:
    status = response.status
    if 200 <= status < 300:
        return result(status=status, excerpt=excerpt)
    if status in REDIRECTS:
        location = response.headers.get("Location") or ""
        words = f"Answered {status} (redirect): redirects are not followed"
        if location:
            try:
                target = outbound_address.Target.of(urljoin(url, location))
                outbound_address.checked_addresses(target.host, target.port, limits.allowed,
                                                   resolve)
                words += f"; it pointed to {location[:200]}."
            except AddressRefused as refused:
                words += f"; it pointed to a refused address ({_refusal_words(refused)})"
        return result(status=status, excerpt=excerpt, error=words, kind=REDIRECT)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return result(status=status, excerpt=excerpt, error=f"Answered {status} {phrase}".rstrip()
                  + ".", kind=HTTP, retry_after=_retry_after(response.headers.get("Retry-After")))


def _excerpt(response) -> str:
    """The first ``EXCERPT_BYTES`` of the answer as text (the rest is not read)."""
    data = b""
    try:
        for chunk in response.stream(1024, decode_content=True):
            data += chunk
            if len(data) >= EXCERPT_BYTES:
                break
    except (HTTPError, OSError):
        pass  # what arrived is enough for the log
    return data[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


def _refusal_words(refused: AddressRefused) -> str:
    if refused.address is not None:
        return (f"Refused address: the host leads to a private or local network "
                f"({refused.address}).")
    return f"Refused address: {refused.message}"


def _shortened(signatures: str) -> str:
    """Signatures in the log only as far as telling them apart needs."""
    return " ".join(f"{sig[:12]}…" for sig in signatures.split(" "))
