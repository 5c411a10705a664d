"""Where an address typed by a provider may lead: the check every outbound call shares.

Outside calendars (:mod:`app.gateways.calendar_fetch`) and outgoing webhooks
(:mod:`app.gateways.webhook_post`) both connect to addresses that provider staff type, so
neither may become a way into the platform's own network:

- only ``http`` and ``https`` (:meth:`Target.of`);
- the host is resolved here and every address it resolves to is checked
  (:func:`checked_addresses`): private, loopback, link-local, multicast, reserved,
  unspecified and shared (carrier-grade NAT) addresses are refused, and so are IPv6
  addresses that carry such an IPv4 address (mapped, 6to4, Teredo), unless the host or
  the address is in the caller's allow-list (host names, addresses or networks);
- the connection is made to the address that was checked (:func:`connection_pool`; TLS
  still verifies the host name), so a second DNS answer (rebinding) cannot swap in
  another one. Redirects are the caller's business: each new address is checked again.

``requests`` offers no way to connect to a checked address, so this uses urllib3, the
library under it; outbound proxies are not used (a proxy would make the check meaningless).
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

# IPv4 shared address space (RFC 6598), which Python counts as neither private nor global.
SHARED = ipaddress.ip_network("100.64.0.0/10")


class AddressRefused(Exception):
    """The address may not be called. ``kind``: refused (not http(s), not a web address,
    or a private or local network) or not_found (the host does not resolve);
    ``address``: the refused IP address, when one was."""

    def __init__(self, message: str, *, kind: str, address: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.address = address


def allow_list(value) -> tuple[str, ...]:
    """The configured allow-list as entries: a comma-separated string or a sequence."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(item.strip().lower() for item in items if item and item.strip())


def host_in_allow_list(host: str, allowed: tuple[str, ...]) -> bool:
    """The host is allowed by name, or is a literal address in an allowed network."""
    host = host.lower().strip("[]")
    if host in allowed:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address.version == net.version and address in net
               for net in networks(allowed))


@dataclass(frozen=True)
class Target:
    """An http(s) address split into what a connection to a checked address needs."""

    scheme: str
    host: str
    port: int
    path: str
    host_header: str

    @classmethod
    def of(cls, url: str) -> Target:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise AddressRefused("The address is not a web address.", kind="refused") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise AddressRefused("Only http and https addresses are called.", kind="refused")
        default = 443 if scheme == "https" else 80
        try:  # a host name in another script travels as its IDNA (punycode) form
            host = parts.hostname.lower().encode("idna").decode("ascii")
        except UnicodeError:
            raise AddressRefused("The address's host name is not valid.",
                                 kind="refused") from None
        shown = f"[{host}]" if ":" in host else host
        return cls(scheme, host, port or default,
                   (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                   shown if port in (None, default) else f"{shown}:{port}")


def checked_addresses(host: str, port: int, allowed: tuple[str, ...],
                      resolve=socket.getaddrinfo) -> list[str]:
    """The addresses ``host`` resolves to, every one of them allowed; else AddressRefused."""
    nets = networks(allowed)
    host_allowed = host.lower() in allowed
    try:
        found = resolve(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise AddressRefused(f"The host {host} could not be found.", kind="not_found") from None
    addresses = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not host_allowed and not address_allowed(address, nets):
            raise AddressRefused(f"The address leads to a private or local network "
                                 f"({address}).", kind="refused", address=str(address))
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise AddressRefused(f"The host {host} could not be found.", kind="not_found")
    return addresses


def address_allowed(address, nets=()) -> bool:
    if any(address.version == net.version and address in net for net in nets):
        return True
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour or (
            address.teredo[1] if address.teredo else None)
        if embedded is not None and not address_allowed(embedded, nets):
            return False
    return not (address.is_private or address.is_loopback or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified
                or getattr(address, "is_site_local", False)
                or (address.version == 4 and address in SHARED)) and address.is_global


def networks(allowed: tuple[str, ...]) -> list:
    found = []
    for entry in allowed:
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # a host name
    return found


def connection_pool(target: Target, address: str, *, connect_timeout: float,
                    read_timeout: float):
    """A pool of one connection to ``address`` (checked), speaking for ``target.host``."""
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address, target.port, timeout=timeout, maxsize=1, retries=False,
            server_hostname=target.host, assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED", ca_certs=_ca_certs())
    return urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, maxsize=1,
                                      retries=False)


def _ca_certs() -> str | None:
    try:
        import certifi
    except ImportError:  # the system's trust store then
        return None
    return certifi.where()
