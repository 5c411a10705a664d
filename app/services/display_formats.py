"""Times and money as people read them, in their language (Babel, CLDR data).

One rule for messages and storefront pages alike: a time is shown on the provider's wall
clock with its zone named ("Fri, Dec 4, 2026, 05:44 CET (Europe/Berlin)"; in German
"Fr., 4. Dez. 2026, 05:44 CET (Europe/Berlin)"), always as a 24-hour clock; an amount in
minor units in its currency's own decimals ("€42.00", "42,00 €"). An unknown locale is
read as English.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, get_datetime_format
from babel.numbers import format_currency, get_currency_precision

from app.services.agenda import zone_of

DEFAULT_LOCALE = "en"


def babel_locale(locale: str | None) -> Locale:
    try:
        return Locale.parse((locale or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def _local(moment: datetime, zone_name: str | None) -> datetime:
    if moment.tzinfo is None:  # stored UTC, read without its zone (SQLite)
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone_of(zone_name))


def format_local_date(moment: datetime | None, zone_name: str | None,
                      locale: str | None = DEFAULT_LOCALE) -> str:
    """The day on the provider's calendar: 'Fri, Dec 4, 2026' / 'Fr., 4. Dez. 2026'."""
    if moment is None:
        return ""
    return format_skeleton("yMMMEd", _local(moment, zone_name), locale=babel_locale(locale))


def format_local_clock(moment: datetime | None, zone_name: str | None,
                       locale: str | None = DEFAULT_LOCALE) -> str:
    """The time on the provider's clock, 24-hour, without the zone: '05:44'."""
    if moment is None:
        return ""
    return format_skeleton("Hm", _local(moment, zone_name), locale=babel_locale(locale))


def zone_label(moment: datetime | None, zone_name: str | None) -> str:
    """The zone of the provider's clock at that moment: 'CET (Europe/Berlin)'; a zone
    whose abbreviation is its name once: 'UTC'."""
    zone = zone_of(zone_name)
    if moment is None:
        return zone.key
    abbreviation = _local(moment, zone_name).strftime('%Z')
    return abbreviation if abbreviation == zone.key else f"{abbreviation} ({zone.key})"


def format_local_time(moment: datetime | None, zone_name: str | None,
                      locale: str | None = DEFAULT_LOCALE) -> str:
    """A UTC moment on the provider's clock, the zone named:
    'Mon, Aug 3, 2026, 09:00 CEST (Europe/Berlin)'."""
    if moment is None:
        return ""
    joined = get_datetime_format("medium", locale=babel_locale(locale))
    wall = joined.replace("{1}", format_local_date(moment, zone_name, locale)).replace(
        "{0}", format_local_clock(moment, zone_name, locale))
    return f"{wall} {zone_label(moment, zone_name)}"


def format_local_span(starts_at: datetime | None, ends_at: datetime | None,
                      zone_name: str | None, locale: str | None = DEFAULT_LOCALE) -> str:
    """From–to on the provider's clock, the zone named once:
    'Mon, Aug 3, 2026, 09:00–10:00 CEST (Europe/Berlin)'; the end's day too when it is
    another day."""
    if starts_at is None:
        return ""
    if ends_at is None:
        return format_local_time(starts_at, zone_name, locale)
    start = format_local_time(starts_at, zone_name, locale)
    label = zone_label(starts_at, zone_name)
    if _local(ends_at, zone_name).date() != _local(starts_at, zone_name).date():
        return f"{start} – {format_local_time(ends_at, zone_name, locale)}"
    clock = format_local_clock(ends_at, zone_name, locale)
    return f"{start[:-len(label) - 1]}–{clock} {zone_label(ends_at, zone_name)}"


def format_amount(amount_minor: int | None, currency: str | None,
                  locale: str | None = DEFAULT_LOCALE) -> str:
    """2500 EUR → '€25.00' (en), '25,00 €' (de); 2500 JPY → '¥2,500'."""
    if amount_minor is None or not currency:
        return ""
    value = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
    try:
        return format_currency(value, currency, locale=babel_locale(locale))
    except (UnknownLocaleError, ValueError):
        return f"{value} {currency}"
