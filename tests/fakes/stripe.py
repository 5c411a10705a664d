"""The local Stripe test server (localstripe, see devservices/stripe_server.py) for tests.

One server per test process, started on first use on 127.0.0.1 (a free port) and stopped
at exit; localstripe keeps its objects in module-level state, so a second server in the
same process would share them anyway. Talk to it with the real client::

    server = local_stripe()
    client = stripe_client(server)
    intent = client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "eur", "payment_method": VISA, "confirm": True})
    assert intent.status == "succeeded"

Objects from other tests stay until :meth:`LocalStripe.flush`; tests should look up what
they created by id rather than count what is there.
"""
from __future__ import annotations

import atexit
import threading

import stripe

from devservices.stripe_server import API_KEY, LocalStripe

#: Test payment methods localstripe knows: one charges, one is declined (402 card_declined).
VISA = "pm_card_visa"
DECLINED = "pm_card_chargeCustomerFail"

_server: LocalStripe | None = None
_lock = threading.Lock()


def local_stripe() -> LocalStripe:
    """The process-wide local Stripe server, started on first use."""
    global _server
    with _lock:
        if _server is None or not _server.running:
            _server = LocalStripe().start()
            atexit.register(_server.stop)
        return _server


def stripe_client(server: LocalStripe | None = None) -> stripe.StripeClient:
    """A stripe-python client pointed at ``server`` (default: :func:`local_stripe`)."""
    server = server or local_stripe()
    return stripe.StripeClient(API_KEY, base_addresses={"api": server.url},
                               max_network_retries=0)
