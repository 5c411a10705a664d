"""Amounts typed by people become minor units exactly, per the currency's decimals."""
from __future__ import annotations

import pytest

from app.services.money import AmountError, major_units_text, parse_major_units


@pytest.mark.parametrize("text, currency, minor", [
    ("18.50", "EUR", 1850), ("18.5", "EUR", 1850), ("18", "EUR", 1800), ("18,50", "EUR", 1850),
    (" 0.01 ", "EUR", 1), (".5", "EUR", 50), ("0", "EUR", 0), ("-3.25", "EUR", -325),
    ("1500", "JPY", 1500), ("1.234", "KWD", 1234), ("0.001", "KWD", 1),
    # Decimal, not float: 0.29 * 100 is 28.999999999999996 in binary floating point.
    ("0.29", "EUR", 29), ("999999999999999.99", "EUR", 99999999999999999),
])
def test_typed_amounts_convert_exactly(text, currency, minor):
    assert parse_major_units(text, currency) == minor
    assert isinstance(parse_major_units(text, currency), int)


@pytest.mark.parametrize("text, currency, message", [
    ("15.5", "JPY", "JPY has no decimals"), ("1.2345", "KWD", "KWD has 3 decimals at most"),
    ("18.505", "EUR", "EUR has 2 decimals at most"),
    ("NaN", "EUR", "Not an amount"), ("Infinity", "EUR", "Not an amount"),
    ("1e3", "EUR", "Not an amount"), ("", "EUR", "Not an amount"), ("abc", "EUR", "Not an amount"),
    ("1 000", "EUR", "Not an amount"), ("1.000,50", "EUR", "Not an amount"),
    ("--1", "EUR", "Not an amount"), ("+1", "EUR", "Not an amount"), ("1.", "EUR", "Not an amount"),
    ("١٢", "EUR", "Not an amount"),  # Arabic-Indic digits: not what the form asks for
    ("9" * 16, "EUR", "too large"),
])
def test_anything_else_is_refused_with_a_reason(text, currency, message):
    with pytest.raises(AmountError, match=message):
        parse_major_units(text, currency)


@pytest.mark.parametrize("minor, currency, shown", [
    (1850, "EUR", "18.50"), (1500, "JPY", "1500"), (1234, "KWD", "1.234"), (None, "EUR", ""),
])
def test_stored_amounts_are_shown_back_as_typed(minor, currency, shown):
    assert major_units_text(minor, currency) == shown
    if minor is not None:
        assert parse_major_units(shown, currency) == minor
