"""Providers' local days: zones by name, a provider's zone, today on its clock, and the
providers an admin can pick from. Read-only; the calendar itself is
:mod:`app.services.booking_calendar`.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Provider
from app.models.types import utcnow

# Days outside this range are refused: nobody books there, and zone arithmetic near
# ``date.min`` / ``date.max`` overflows.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def zone_of(name: str | None) -> ZoneInfo:
    """The zone of that name; UTC for an empty or unknown name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def provider_zone(provider_id: int) -> str:
    zone = db.session.scalar(select(Provider.timezone).where(Provider.id == provider_id))
    if zone is None:
        raise NotFound("provider.not_found", f"No provider with id {provider_id}.")
    return zone


def provider_name(provider_id: int | None) -> str:
    """A provider's name for a platform-wide list ("" for none or an unknown id)."""
    if not provider_id:
        return ""
    return db.session.scalar(select(Provider.name).where(Provider.id == provider_id)) or ""


def local_today(zone: str | None, *, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(zone_of(zone)).date()


def agenda_providers() -> list[tuple[int, str]]:
    """(id, name) of every provider, for an admin to pick one."""
    return [(row.id, row.name) for row in db.session.execute(
        select(Provider.id, Provider.name).order_by(Provider.name, Provider.id))]
