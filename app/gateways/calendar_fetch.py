"""Fetching an outside calendar (an iCal address) without letting the address reach inside.

One GET, with the validators of the last answer (``If-None-Match``, ``If-Modified-Since``),
short timeouts and a body read in chunks up to a limit. The address is typed by a
provider's staff, so it must never become a way to reach the platform's own network:

- only ``http`` and ``https``;
- the host is resolved here and every address it resolves to is checked
  (:mod:`app.gateways.outbound_address`, shared with outgoing webhooks): private,
  loopback, link-local, multicast, reserved, unspecified and shared (carrier-grade NAT)
  addresses are refused, and so are IPv6 addresses that carry such an IPv4 address
  (mapped, 6to4, Teredo), unless the host or the address is in the allow-list
  (``OUTSIDE_CALENDAR_ALLOWED_HOSTS``: host names, addresses or networks);
- the connection is made to the address that was checked (TLS still verifies the host
  name), so a second DNS answer (rebinding) cannot swap in another one;
- redirects are followed by this code, at most ``MAX_REDIRECTS``, each new address checked
  the same way; urllib3 follows none by itself.

Left to the operator: the DNS lookup itself has no timeout of its own (the system
resolver's applies), and outbound proxies are not used (a proxy would make the check
meaningless). ``requests`` offers no way to connect to a checked address, so this uses
urllib3, the library under it.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urljoin

from urllib3.exceptions import HTTPError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from app.gateways import outbound_address
from app.gateways.outbound_address import AddressRefused, address_allowed, allow_list

__all__ = ["FetchFailed", "FetchLimits", "Fetched", "address_allowed", "allow_list",
           "checked_addresses", "fetch"]

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
USER_AGENT = "Bookwell-Calendar/1.0 (+busy times of staff and rooms)"
ACCEPT = "text/calendar, text/plain;q=0.5, */*;q=0.1"
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 5.0
    read_timeout: float = 15.0  # for the whole answer, about
    max_bytes: int = 5 * 1024 * 1024
    allowed: tuple[str, ...] = ()  # host names, addresses or networks (CIDR)

    @classmethod
    def from_config(cls, config) -> FetchLimits:
        return cls(connect_timeout=float(config.get("OUTSIDE_CALENDAR_CONNECT_TIMEOUT", 5)),
                   read_timeout=float(config.get("OUTSIDE_CALENDAR_READ_TIMEOUT", 15)),
                   max_bytes=int(config.get("OUTSIDE_CALENDAR_MAX_BYTES", cls.max_bytes)),
                   allowed=allow_list(config.get("OUTSIDE_CALENDAR_ALLOWED_HOSTS")))


@dataclass(frozen=True)
class Fetched:
    """A calendar's answer: its body (empty when not modified) and its validators."""

    not_modified: bool
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


class FetchFailed(Exception):
    """The calendar could not be fetched; ``message`` says why in words for staff.
    ``kind``: refused, not_found (host), network, timeout, http, too_large, redirects."""

    def __init__(self, message: str, *, kind: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status


def fetch(url: str, *, limits: FetchLimits, etag: str | None = None,
          last_modified: str | None = None, resolve=socket.getaddrinfo) -> Fetched:
    """GET the calendar at ``url``; raises :class:`FetchFailed`, never anything else."""
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + limits.connect_timeout + limits.read_timeout
    for _ in range(MAX_REDIRECTS + 1):
        target = _target(url)
        addresses = checked_addresses(target.host, target.port, limits.allowed, resolve)
        response, pool = _get(target, addresses, headers, limits)
        try:
            if response.status in REDIRECTS and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status == 304:
                return Fetched(True, etag=response.headers.get("ETag") or etag,
                               last_modified=response.headers.get("Last-Modified")
                               or last_modified)
            if response.status != 200:
                raise FetchFailed(_status_words(response.status), kind="http",
                                  status=response.status)
            body = _read_limited(response, limits, deadline)
            return Fetched(False, body, response.headers.get("ETag"),
                           response.headers.get("Last-Modified"))
        finally:
            response.release_conn()
            pool.close()
    raise FetchFailed("The address redirects too many times.", kind="redirects")


def checked_addresses(host: str, port: int, allowed: tuple[str, ...],
                      resolve=socket.getaddrinfo) -> list[str]:
    """The addresses ``host`` resolves to, every one of them allowed; else FetchFailed."""
    try:
        return outbound_address.checked_addresses(host, port, allowed, resolve)
    except AddressRefused as refused:
        raise _failed(refused) from None


def _target(url: str) -> outbound_address.Target:
    try:
        return outbound_address.Target.of(url)
    except AddressRefused as refused:
        raise _failed(refused) from None


def _failed(refused: AddressRefused) -> FetchFailed:
    message = refused.message
    if refused.address is not None:
        message = (f"The address leads to a private or local network ({refused.address}); "
                   "calendars are fetched from the internet only.")
    elif message.startswith("Only http"):
        message = "Only http and https addresses are fetched."
    return FetchFailed(message, kind=refused.kind)


def _get(target: outbound_address.Target, addresses: list[str], headers: dict, limits: FetchLimits):
    """The answer's headers, from the first of the checked addresses that connects."""
    failure: FetchFailed | None = None
    for address in addresses:
        pool = outbound_address.connection_pool(
            target, address, connect_timeout=limits.connect_timeout,
            read_timeout=limits.read_timeout)
        try:
            response = pool.urlopen("GET", target.path, headers={
                **headers, "Host": target.host_header}, retries=False, redirect=False,
                preload_content=False, decode_content=True)
            return response, pool
        except Urllib3Timeout:
            failure = FetchFailed(
                f"The calendar's server did not answer within "
                f"{_seconds(limits.connect_timeout + limits.read_timeout)}.", kind="timeout")
        except SSLError:
            failure = FetchFailed("A secure connection to the calendar's server could not "
                                  "be made (its certificate did not check out).",
                                  kind="network")
        except (HTTPError, OSError):
            failure = FetchFailed("The calendar's server could not be reached.",
                                  kind="network")
        pool.close()
    assert failure is not None
    raise failure


def _read_limited(response, limits: FetchLimits, deadline: float) -> bytes:
    too_large = FetchFailed(f"The calendar is larger than {_size(limits.max_bytes)}, "
                            "more than is fetched.", kind="too_large")
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limits.max_bytes:
        raise too_large
    chunks, size = [], 0
    try:
        for chunk in response.stream(CHUNK, decode_content=True):
            size += len(chunk)
            if size > limits.max_bytes:
                raise too_large
            if time.monotonic() > deadline:
                raise Urllib3Timeout("the whole answer took too long")
            chunks.append(chunk)
    except Urllib3Timeout:
        raise FetchFailed(f"The calendar's server did not send the calendar within "
                          f"{_seconds(limits.connect_timeout + limits.read_timeout)}.",
                          kind="timeout") from None
    except (HTTPError, OSError):
        raise FetchFailed("The calendar's server broke off while sending the calendar.",
                          kind="network") from None
    return b"".join(chunks)


def _status_words(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    answered = f"The calendar's server answered {status} {phrase}".rstrip()
    if status in (401, 403, 404, 410):
        return f"{answered}: the address may have been reset, removed or made private."
    if status >= 500 or status == 429:
        return f"{answered}; it is tried again later."
    return f"{answered}."


def _seconds(value: float) -> str:
    return f"{value:g} seconds" if value != 1 else "1 second"


def _size(max_bytes: int) -> str:
    megabytes = max_bytes / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{max_bytes // 1024} KB"

