"""Demo data for `make run`: idempotent, so running it again changes nothing new."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Provider
from app.services import audit
from app.services.roles import ADMIN, CUSTOMER, PROVIDER
from app.services.users import ensure_user

DEMO_PROVIDERS = [
    dict(name="Harbor Yoga Studio", slug="harbor-yoga", timezone="Europe/Berlin",
         currency="EUR", contact_email="hello@harbor-yoga.example", contact_phone="+4930901820"),
    dict(name="Northside Barbers", slug="northside-barbers", timezone="America/New_York",
         currency="USD", contact_email="desk@northside.example", contact_phone="+12125550143"),
]


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str
    provider: str | None = None


def load_demo_data(password: str) -> list[DemoLogin]:
    logins = []
    with audit.acting_as(None):
        user, _ = ensure_user(email="admin@bookwell.example", password=password, role=ADMIN,
                              first_name="Ada", last_name="Admin", reset_password=False)
        logins.append(DemoLogin(ADMIN, user.email, password))
        for spec in DEMO_PROVIDERS:
            provider = db.session.scalar(select(Provider).where(Provider.slug == spec["slug"]))
            if provider is None:
                provider = Provider(**spec)
                db.session.add(provider)
                db.session.commit()
            local = spec["slug"].split("-")[0]
            user, _ = ensure_user(email=f"staff@{local}.example", password=password,
                                  role=PROVIDER, first_name="Sam", last_name=provider.name,
                                  provider_id=provider.id, reset_password=False)
            logins.append(DemoLogin(PROVIDER, user.email, password, provider.name))
        user, _ = ensure_user(email="customer@bookwell.example", password=password,
                              role=CUSTOMER, first_name="Cleo", last_name="Customer",
                              reset_password=False)
        logins.append(DemoLogin(CUSTOMER, user.email, password))
    return logins
