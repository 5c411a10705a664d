"""The outside-calendar fetch's address guard: which addresses a provider's calendar
address may lead to, checked before any connection."""
from __future__ import annotations

import ipaddress
import socket

import pytest

from app.gateways.calendar_fetch import (
    FetchFailed,
    FetchLimits,
    address_allowed,
    allow_list,
    checked_addresses,
    fetch,
)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",  # metadata
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1",
    "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1",  # 6to4 of 127.0.0.1
])
def test_inside_addresses_are_refused(address):
    assert not address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "142.250.74.46", "2607:f8b0:4005:80b::200e"])
def test_internet_addresses_are_allowed(address):
    assert address_allowed(ipaddress.ip_address(address))


def test_the_allow_list_takes_hosts_addresses_and_networks():
    allowed = allow_list(" Calendar.Intranet.example , 10.1.0.0/16,127.0.0.1,")
    assert allowed == ("calendar.intranet.example", "10.1.0.0/16", "127.0.0.1")
    assert allow_list(("127.0.0.1",)) == ("127.0.0.1",) and allow_list(None) == ()

    def resolve(answer):
        return lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                          (answer, port))]

    assert checked_addresses("calendar.intranet.example", 443, allowed,
                             resolve("192.168.5.5")) == ["192.168.5.5"]
    assert checked_addresses("cal.example", 443, allowed, resolve("10.1.9.9")) == ["10.1.9.9"]
    with pytest.raises(FetchFailed) as refused:
        checked_addresses("cal.example", 443, allowed, resolve("10.2.0.1"))
    assert refused.value.kind == "refused" and "10.2.0.1" in refused.value.message


def test_one_inside_address_among_others_refuses_the_host():
    def resolve(host, port, **kw):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    with pytest.raises(FetchFailed) as refused:
        checked_addresses("rebind.example", 80, (), resolve)
    assert "127.0.0.1" in refused.value.message


@pytest.mark.parametrize("url, words", [
    ("ftp://example.com/a.ics", "Only http and https"),
    ("file:///etc/passwd", "Only http and https"),
    ("http://example.com:99999/a.ics", "not a web address"),
])
def test_only_web_addresses_are_fetched(url, words):
    with pytest.raises(FetchFailed) as refused:
        fetch(url, limits=FetchLimits())
    assert words in refused.value.message


def test_an_unknown_host_is_said_in_words():
    def resolve(host, port, **kw):
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(FetchFailed) as missing:
        fetch("https://no-such-host.example/a.ics", limits=FetchLimits(), resolve=resolve)
    assert missing.value.message == "The host no-such-host.example could not be found."
