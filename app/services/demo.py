"""Demo data for `make run`: three businesses with a few weeks of life, and the logins.

- The providers and their catalogs (``app.services.demo_catalog``): Harbor Yoga Studio
  (Berlin: classes, private sessions, a few products), Northside Barbers (New York:
  appointments done by three barbers) and Copper Kettle Coffee (London: a shop of
  products with variants and stock, and a workshop). Opening hours within 09:00–18:00
  local time, slots generated from them, a drawn picture for every offering and a logo.
- Their bookings (``app.services.demo_bookings``): two weeks behind today and one ahead,
  in every state (pending, confirmed, completed, no-show, cancelled, refunded, expired),
  with payments taken at the venue, refunds, receipts, messages, and campaign
  attribution (TikTok, a newsletter, Instagram, direct).
- The logins: an admin, one staff user per provider (a person's name) and a customer,
  all with ``DEMO_PASSWORD``.

Idempotent and relative to today: every step adds only what is missing, and a day that
has its bookings keeps them; a second run on the same day changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.extensions import db
from app.models import Account, Provider
from app.models.types import utcnow
from app.services import audit, demo_bookings, demo_catalog, email_verification
from app.services.roles import ADMIN, CUSTOMER, PROVIDER
from app.services.scopes import SYSTEM
from app.services.transactions import unit_of_work
from app.services.users import ensure_user

DEMO_PROVIDERS = demo_catalog.DEMO_PROVIDERS


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str
    provider: str | None = None


def load_demo_data(password: str, *, now: datetime | None = None) -> list[DemoLogin]:
    """Load what is missing (``now``: the moment "today" is taken from)."""
    now = now or utcnow()
    logins = []
    with audit.acting_as(SYSTEM):
        user, _ = ensure_user(email="admin@bookwell.example", password=password, role=ADMIN,
                              first_name="Ada", last_name="Admin", reset_password=False)
        logins.append(DemoLogin(ADMIN, user.email, password))
        desks = []
        for spec in DEMO_PROVIDERS:
            provider = demo_catalog.ensure_provider(spec)
            demo_catalog.load_catalog(provider, spec, now)
            staff = _staff_user(spec, provider, password)
            logins.append(DemoLogin(PROVIDER, staff.email, password, provider.name))
            desks.append((provider, spec, staff.id))
        user, _ = ensure_user(email="customer@bookwell.example", password=password,
                              role=CUSTOMER, first_name="Cleo", last_name="Customer",
                              reset_password=False)
        logins.append(DemoLogin(CUSTOMER, user.email, password))
        _verified(user.id)  # as if the demo customer had opened the mailed link
        customers = demo_bookings.ensure_customers() + [(user.id, False)]
        for provider, spec, staff_id in desks:
            demo_bookings.load_bookings(provider, spec, staff_id, customers, now)
    return logins


def _verified(account_id: int) -> None:
    with unit_of_work():
        email_verification.mark_verified(db.session.get(Account, account_id))


def _staff_user(spec: demo_catalog.DemoProvider, provider: Provider, password: str) -> Account:
    email, first_name, last_name = spec.staff_user
    user, _ = ensure_user(email=email, password=password, role=PROVIDER,
                          first_name=first_name, last_name=last_name,
                          provider_id=provider.id, reset_password=False)
    if user.last_name == provider.name:  # named after the shop by an earlier demo
        _rename(user.id, first_name, last_name)
    return user


@unit_of_work()
def _rename(account_id: int, first_name: str, last_name: str) -> None:
    account = db.session.get(Account, account_id)
    account.first_name, account.last_name = first_name, last_name
