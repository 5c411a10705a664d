"""Times and money on storefront pages, in the page's language (the rules are
:mod:`app.services.display_formats`, shared with the customer's messages).

In templates: ``money(amount_minor, currency)``; ``moment|local_time(zone)`` (date, time and
zone: "Fri, Dec 4, 2026, 05:44 CET (Europe/Berlin)"), ``moment|local_date(zone)``,
``moment|local_clock(zone)`` ("05:44") and ``moment|zone_label(zone)`` ("CET
(Europe/Berlin)") for pages that name the zone once above a list of times.
"""
from __future__ import annotations

from app.services import display_formats
from views.storefront.blueprint import bp, current_language, money


@bp.app_template_filter("local_time")
def local_time(moment, zone: str | None) -> str:
    return display_formats.format_local_time(moment, zone, current_language())


@bp.app_template_filter("local_date")
def local_date(moment, zone: str | None) -> str:
    return display_formats.format_local_date(moment, zone, current_language())


@bp.app_template_filter("local_clock")
def local_clock(moment, zone: str | None) -> str:
    return display_formats.format_local_clock(moment, zone, current_language())


@bp.app_template_filter("zone_label")
def zone_label(moment, zone: str | None) -> str:
    return display_formats.zone_label(moment, zone)


@bp.context_processor
def format_helpers():
    return {"money": money}  # pages need not pass it
