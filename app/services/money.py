"""Money shown to people: integer minor units with an ISO currency, in its own decimals."""
from __future__ import annotations

from dataclasses import dataclass
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


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (away from zero at .5), in integers."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


@dataclass(frozen=True)
class TaxBreakdown:
    net_minor: int
    tax_minor: int
    gross_minor: int


def tax_breakdown(amount_minor: int, rate_bp: int, inclusive: bool) -> TaxBreakdown:
    """Split (inclusive) or extend (exclusive) an amount by a tax rate in basis points.

    Inclusive: ``amount`` is the gross; tax = round_half_up(gross × rate / (10000 + rate)),
    net = gross − tax. Exclusive: ``amount`` is the net; tax = round_half_up(net × rate /
    10000), gross = net + tax. Negative amounts (credit notes) round symmetrically.
    """
    rate = max(0, int(rate_bp or 0))
    if inclusive:
        tax = _half_up(amount_minor * rate, 10_000 + rate)
        return TaxBreakdown(amount_minor - tax, tax, amount_minor)
    tax = _half_up(amount_minor * rate, 10_000)
    return TaxBreakdown(amount_minor, tax, amount_minor + tax)


def amount_due(net_or_gross_minor: int, rate_bp: int, inclusive: bool) -> int:
    """What the customer pays for a price: the price itself when tax is included in it,
    the price plus tax when the provider's prices exclude tax."""
    return tax_breakdown(net_or_gross_minor, rate_bp, inclusive).gross_minor
