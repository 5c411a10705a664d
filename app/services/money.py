"""Money shown to people: integer minor units with an ISO currency, in its own decimals."""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_precision


def major_units(amount_minor: int, currency: str) -> Decimal:
    """2500 EUR → Decimal("25.00"); 2500 JPY → Decimal("2500")."""
    return Decimal(amount_minor).scaleb(-get_currency_precision(currency))


def format_money(amount_minor: int | None, currency: str | None) -> str:
    """2500 EUR → "25.00 EUR"; 2500 JPY → "2500 JPY": the currency's own decimals."""
    if amount_minor is None:
        return ""
    currency = currency or "EUR"
    digits = get_currency_precision(currency)
    return f"{major_units(amount_minor, currency):.{digits}f} {currency}"
