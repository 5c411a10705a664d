"""The first-touch and booking-attribution rules, on plain values."""
from __future__ import annotations

from app.services.attribution_capture import booking_attribution, first_touch
from app.services.bookings import ATTRIBUTION_FIELDS

LANDING = "https://shop.example/shop/?utm_source=tiktok&ttclid=E.C.P.abc"


def test_a_campaign_visit_is_the_first_touch():
    touch = first_touch(None, {"utm_source": "tiktok", "ttclid": "E.C.P.abc", "q": "yoga"},
                        LANDING, "https://www.tiktok.com/")
    assert touch == {"utm_source": "tiktok", "ttclid": "E.C.P.abc", "landing_url": LANDING,
                     "referrer": "https://www.tiktok.com/"}


def test_the_first_touch_wins():
    first = first_touch(None, {"utm_source": "tiktok"}, LANDING, None)
    assert first_touch(first, {"utm_source": "newsletter"}, "https://x/shop/?b", "r") == first


def test_a_visit_without_campaign_parameters_keeps_nothing():
    assert first_touch(None, {"q": "yoga", "utm_source": "  "}, LANDING, "r") is None


def test_booking_attribution_has_exactly_the_stored_fields():
    touch = first_touch(None, {"utm_campaign": "x" * 500}, "https://x/" + "u" * 3000, None)
    values = booking_attribution(touch, {"_ttp": "ttp-1"}, "granted", "203.0.113.9",
                                 "Browser/1 " + "a" * 600)
    assert tuple(values) == ATTRIBUTION_FIELDS
    assert values["utm_campaign"] == "x" * 200 and len(values["landing_url"]) == 2000
    assert len(values["user_agent"]) == 500
    assert (values["ttp"], values["consent"], values["ip"]) == ("ttp-1", True, "203.0.113.9")
    assert values["utm_source"] is None and values["referrer"] is None


def test_consent_is_only_an_explicit_yes():
    for choice in ("denied", None, "", "GRANTED", "yes"):
        assert booking_attribution(None, {}, choice, None, None)["consent"] is False
