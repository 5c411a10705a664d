"""Fixtures of the PayPal refund, reversal and dispute tests
(tests/integration/paypal_events.py), and the shop they pay in (tests/payments/conftest.py)."""
from __future__ import annotations

from tests.integration.paypal_events import paid_with_paypal, paypal_deliveries
from tests.payments.conftest import shop

__all__ = ["paid_with_paypal", "paypal_deliveries", "shop"]
