"""Money shown to people: integer minor units with an ISO currency, in its own decimals."""
from __future__ import annotations

import re
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


# --- amounts typed by people ------------------------------------------------------------

# An optional minus, ASCII digits, an optional point with at least one digit after it.
_AMOUNT = re.compile(r"(?P<sign>-?)(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]+))?(?<=[0-9])",
                     re.ASCII)
MAX_MAJOR_DIGITS = 15  # whole digits: far above any price, far below what breaks a BIGINT


class AmountError(ValueError):
    """An amount a person typed that is not one: the message says how to type it."""


def currency_digits(currency: str) -> int:
    """How many decimals ``currency`` has (ISO 4217 minor units): EUR 2, JPY 0, KWD 3."""
    return get_currency_precision(currency)


def parse_major_units(text: str, currency: str) -> int:
    """ "18.50" EUR → 1850, "1500" JPY → 1500, "1.234" KWD → 1234: exactly, in Decimal.

    The one rule for turning a typed amount into minor units. A comma is read as the
    decimal point ("18,50"); spaces around are ignored. Refused (``AmountError``): anything
    that is not a plain decimal number (NaN, infinity, exponents, thousands separators),
    more decimals than the currency has ("15.5" JPY), and more than
    ``MAX_MAJOR_DIGITS`` whole digits. The sign is kept: callers refuse negatives where a
    negative makes no sense (prices), with their own message.
    """
    match = _AMOUNT.fullmatch((text or "").strip().replace(",", "."))
    if match is None:
        raise AmountError("Not an amount: type it like 18.50.")
    sign, whole, fraction = match.group("sign", "whole", "fraction")
    fraction = fraction or ""
    if len(whole.lstrip("0")) > MAX_MAJOR_DIGITS:
        raise AmountError("The amount is too large.")
    digits = currency_digits(currency)
    if len(fraction) > digits:
        raise AmountError(_too_many_decimals(currency, digits))
    minor = Decimal(f"{sign}{whole or '0'}.{fraction or '0'}").scaleb(digits)
    return int(minor)  # exact: at most ``digits`` decimals were scaled away


def _too_many_decimals(currency: str, digits: int) -> str:
    if digits == 0:
        return f"{currency} has no decimals: type a whole amount."
    return f"{currency} has {digits} decimal{'' if digits == 1 else 's'} at most."


def major_units_text(amount_minor: int | None, currency: str) -> str:
    """What a form shows back for a stored amount: 1850 EUR → "18.50", 1500 JPY → "1500"."""
    if amount_minor is None:
        return ""
    return f"{major_units(amount_minor, currency):.{currency_digits(currency)}f}"
