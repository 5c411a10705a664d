"""Console accounts: admins and provider staff, created from the command line or demo data."""
from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.models import Account
from app.services import password_hashing
from app.services.accounts import find_user_by_email
from app.services.transactions import unit_of_work
from app.services.validation import normalise_email


@unit_of_work()
def ensure_user(
    *,
    email: str,
    password: str,
    role: str,
    first_name: str,
    last_name: str,
    provider_id: int | None = None,
    reset_password: bool = True,
) -> tuple[Account, bool]:
    """Create the user, or bring an existing one to this role and provider. Commits."""
    email = normalise_email(email)
    sm = current_app.appbuilder.sm
    role_row = sm.find_role(role)
    if role_row is None:
        raise RuntimeError(f"Role {role} is missing: run `flask bookwell sync-roles` first.")
    user = find_user_by_email(email)
    created = user is None
    if created:
        user = Account(email=email, username=email, first_name=first_name, last_name=last_name)
        db.session.add(user)
    if created or reset_password:
        user.password = password_hashing.hash_password(password)
    user.active = True
    user.provider_id = provider_id
    if role_row not in user.roles:
        user.roles.append(role_row)
    return user, created
