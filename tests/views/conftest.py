"""Two tenants with one staff member each: the cast of every console isolation test; the
webhook tests' local receiver (tests/integration/webhook_support.py) for the Webhooks
screen."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.integration.webhook_support import receiver


@dataclass(frozen=True)
class Tenant:
    provider_id: int
    name: str
    staff_id: int
    staff_email: str


def _tenant(build, name: str) -> Tenant:
    provider_id = build.provider(name=name)
    staff_id = build.staff(provider_id)
    return Tenant(provider_id, name, staff_id, build.email_of(staff_id))


@pytest.fixture
def tenant_a(build) -> Tenant:
    return _tenant(build, "Alpha Spa")


@pytest.fixture
def tenant_b(build) -> Tenant:
    return _tenant(build, "Beta Barbers")


@pytest.fixture
def admin_email(build) -> str:
    return build.email_of(build.admin())


__all__ = ["Tenant", "admin_email", "receiver", "tenant_a", "tenant_b"]
