"""Wall-clock times typed in a provider's zone, and back: the one conversion rule.

A typed local time that does not exist that day (the spring-forward gap) is refused; one
that happens twice (fall-back) is taken at its first occurrence, as slot generation does.
"""
from __future__ import annotations

from datetime import datetime, timezone

from app.services.agenda import zone_of


class NoSuchLocalTime(ValueError):
    """A wall-clock time the zone skips (the clocks go forward over it)."""


def utc_from_wall_clock(local: datetime, zone: str) -> datetime:
    """A naive wall-clock time in ``zone`` as an aware UTC moment."""
    tz = zone_of(zone)
    moment = local.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)
    if moment.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NoSuchLocalTime(
            f"{local:%Y-%m-%d %H:%M} does not exist in {zone}: the clocks go forward then.")
    return moment


def wall_clock(moment: datetime, zone: str) -> datetime:
    """An aware moment as a naive wall-clock time in ``zone``."""
    return moment.astimezone(zone_of(zone)).replace(tzinfo=None)
