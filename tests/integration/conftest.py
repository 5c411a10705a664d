"""Fixtures of the PayPal refund, reversal and dispute tests
(tests/integration/paypal_events.py), the shop they pay in (tests/payments/conftest.py),
and the webhook tests' receiver (tests/integration/webhook_support.py)."""
from __future__ import annotations

from tests.integration.paypal_events import paid_with_paypal, paypal_deliveries
from tests.integration.webhook_support import receiver
from tests.payments.conftest import shop

__all__ = ["paid_with_paypal", "paypal_deliveries", "receiver", "shop"]
