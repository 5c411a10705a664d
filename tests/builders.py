"""Small builders for test data. Each commits and returns ids."""
from __future__ import annotations

import itertools

from app.extensions import db
from app.models import Provider
from app.services.roles import ADMIN, CUSTOMER, PROVIDER
from app.services.users import ensure_user

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def provider(**fields) -> int:
    n = next(_counter)
    values = dict(name=f"Provider {n}", slug=f"provider-{n}", timezone="Europe/Berlin",
                  currency="EUR", contact_email=f"p{n}@example.com")
    values.update(fields)
    row = Provider(**values)
    db.session.add(row)
    db.session.commit()
    return row.id


def _user(role: str, provider_id: int | None = None, email: str | None = None) -> int:
    n = next(_counter)
    user, _ = ensure_user(
        email=email or f"{role.lower()}{n}@example.com", password=PASSWORD, role=role,
        first_name=role, last_name=str(n), provider_id=provider_id,
    )
    return user.id


def admin(email: str | None = None) -> int:
    return _user(ADMIN, email=email)


def staff(provider_id: int, email: str | None = None) -> int:
    return _user(PROVIDER, provider_id=provider_id, email=email)


def customer(email: str | None = None) -> int:
    return _user(CUSTOMER, email=email)


def email_of(user_id: int) -> str:
    from app.models import Account

    return db.session.get(Account, user_id).email
