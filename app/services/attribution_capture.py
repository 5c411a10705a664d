"""Where a storefront customer came from: the first touch, and what a booking keeps of it.

Pure functions over plain values (no request, no session), so the storefront stays thin
and the rules are tested on their own:

- :func:`first_touch` takes the landing page's query (UTM parameters and TikTok's
  ``ttclid``), its full URL and its referrer, once: the first touch wins, a later visit
  with other parameters changes nothing.
- :func:`booking_attribution` turns that, the cookies (TikTok's ``_ttp``), the consent
  choice and the booking request's IP and user agent into the ``attribution`` dict that
  ``bookings.place_booking`` stores, with exactly the keys of ``ATTRIBUTION_FIELDS``.
"""
from __future__ import annotations

from collections.abc import Mapping

from app.services.bookings import ATTRIBUTION_FIELDS

CAMPAIGN_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                       "ttclid")
TTP_COOKIE = "_ttp"
CONSENT_COOKIE = "bw_consent"
GRANTED, DENIED = "granted", "denied"
# The column sizes of ``Attribution``: longer values are cut, never refused.
SHORT, LONG, IP, USER_AGENT = 200, 2000, 64, 500


def _clip(value, size: int) -> str | None:
    value = (value or "").strip() if isinstance(value, str) else None
    return value[:size] if value else None


def first_touch(existing: Mapping | None, args: Mapping, url: str,
                referrer: str | None) -> dict | None:
    """What to keep as the first touch: ``existing`` if there is one, else the campaign
    parameters in ``args`` with the landing ``url`` and ``referrer``; None when the visit
    carries no campaign parameter (nothing to keep)."""
    if existing:
        return dict(existing)
    found = {name: _clip(args.get(name), SHORT) for name in CAMPAIGN_PARAMETERS}
    found = {name: value for name, value in found.items() if value}
    if not found:
        return None
    return {**found, "landing_url": _clip(url, LONG), "referrer": _clip(referrer, LONG)}


def consent_granted(consent) -> bool:
    """True only for an explicit yes: the ``bw_consent`` cookie's ``granted`` (or True)."""
    return consent is True or consent == GRANTED


def booking_attribution(first_touch: Mapping | None, cookies: Mapping, consent,
                        ip: str | None, user_agent: str | None) -> dict:
    """The booking's attribution, keyed exactly as ``bookings.ATTRIBUTION_FIELDS``."""
    touch = first_touch or {}
    values = {name: _clip(touch.get(name), SHORT) for name in CAMPAIGN_PARAMETERS}
    values.update(
        ttp=_clip(cookies.get(TTP_COOKIE), SHORT),
        landing_url=_clip(touch.get("landing_url"), LONG),
        referrer=_clip(touch.get("referrer"), LONG),
        consent=consent_granted(consent),
        ip=_clip(ip, IP),
        user_agent=_clip(user_agent, USER_AGENT),
    )
    return {name: values[name] for name in ATTRIBUTION_FIELDS}
