from __future__ import annotations

import pytest

from app.services.validation import (
    check_currency,
    check_locale,
    check_timezone,
    normalise_email,
    normalise_phone,
)


def test_email_is_trimmed_and_lower_cased():
    assert normalise_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"


@pytest.mark.parametrize("raw", ["", "no-at-sign", "a@", "@example.com"])
def test_bad_email_is_refused(raw):
    with pytest.raises(ValueError):
        normalise_email(raw)


@pytest.mark.parametrize("raw, expected", [
    ("+49 151 1234 5678", "+4915112345678"),
    ("+1 (212) 555-0143", "+12125550143"),
])
def test_phone_becomes_e164(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["0151 12345678", "+49 1", "+999 123", "call me"])
def test_bad_phone_is_refused(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_timezone_and_locale_and_currency():
    assert check_timezone("America/New_York") == "America/New_York"
    assert check_locale("de_AT") == "de_AT"
    assert check_currency(" eur ") == "EUR"
    for check, bad in ((check_timezone, "Europe/Atlantis"), (check_locale, "zz_ZZ_ZZ"),
                       (check_currency, "EURO")):
        with pytest.raises(ValueError):
            check(bad)
