"""Tax in integer minor units, rounded half up; inclusive and exclusive prices."""
from __future__ import annotations

import pytest

from app.services.money import TaxBreakdown, format_money, tax_breakdown
from app.services.receipts import display_number


@pytest.mark.parametrize("amount, rate, expected", [
    (11900, 1900, TaxBreakdown(10000, 1900, 11900)),   # exact
    (5000, 1900, TaxBreakdown(4202, 798, 5000)),       # 798.32 → 798
    (1000, 1900, TaxBreakdown(840, 160, 1000)),        # 159.66 → 160
    (107, 700, TaxBreakdown(100, 7, 107)),             # 7.0 exactly
    (1605, 700, TaxBreakdown(1500, 105, 1605)),        # 105.0
    (321, 700, TaxBreakdown(300, 21, 321)),            # 21.0
    (15, 700, TaxBreakdown(14, 1, 15)),                # 0.981 → 1
    (0, 1900, TaxBreakdown(0, 0, 0)),
    (2500, 0, TaxBreakdown(2500, 0, 2500)),
    (-1000, 1900, TaxBreakdown(-840, -160, -1000)),    # credit notes: symmetric
])
def test_inclusive_prices_contain_the_tax(amount, rate, expected):
    assert tax_breakdown(amount, rate, True) == expected


@pytest.mark.parametrize("amount, rate, expected", [
    (10000, 1900, TaxBreakdown(10000, 1900, 11900)),
    (2500, 1900, TaxBreakdown(2500, 475, 2975)),
    (50, 1900, TaxBreakdown(50, 10, 60)),              # 9.5 → 10: half up
    (150, 700, TaxBreakdown(150, 11, 161)),            # 10.5 → 11: half up
    (149, 700, TaxBreakdown(149, 10, 159)),            # 10.43 → 10
    (1, 550, TaxBreakdown(1, 0, 1)),                   # 0.055 → 0
    (-50, 1900, TaxBreakdown(-50, -10, -60)),          # half away from zero
])
def test_exclusive_prices_get_the_tax_added(amount, rate, expected):
    assert tax_breakdown(amount, rate, False) == expected


def test_inclusive_half_rounds_up():
    # 21 × 1000 / 11000 = 1.909…; 55 × 1000 / 11000 = 5.0; 11 × 500 / 10500 = 0.5238…
    assert tax_breakdown(21, 1000, True).tax_minor == 2
    assert tax_breakdown(55, 1000, True).tax_minor == 5
    # 105 × 500 / 10500 = 5.0 exactly; 21 × 500 / 10500 = 1.0; 63 × 2500 / 12500 = 12.6
    assert tax_breakdown(63, 2500, True).tax_minor == 13
    # 10 × 2500 / 12500 = 2.0 ; 25 × 2500 / 12500 = 5.0; 5 × 10000 / 20000 = 2.5 → 3
    assert tax_breakdown(5, 10000, True).tax_minor == 3


def test_numbers_and_money_are_shown_in_the_currency_digits():
    assert display_number("receipt", 42) == "R-000042"
    assert display_number("credit_note", 7) == "CN-000007"
    assert format_money(2500, "EUR") == "25.00 EUR"
    assert format_money(-2500, "EUR") == "-25.00 EUR"
    assert format_money(2500, "JPY") == "2500 JPY"
    assert format_money(2500, "KWD") == "2.500 KWD"


def test_a_tax_exclusive_provider_charges_the_receipts_total(app_ctx, build):
    from app.extensions import db
    from app.models import Provider
    from app.services import bookings

    provider = build.provider()
    row = db.session.get(Provider, provider)
    row.tax_rate_bp, row.tax_inclusive = 1900, False
    db.session.commit()
    offering = build.offering(provider, price_minor=1000)
    placed = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                    slot_id=build.future_slot(offering), quantity=3)
    assert placed.total_minor == tax_breakdown(3000, 1900, False).gross_minor == 3570
