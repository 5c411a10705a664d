"""What customers are told about stock: sold out, "3 left", or nothing when plenty."""
from __future__ import annotations

import pytest

from app.services.stock import LOW_STOCK, product_stock, stock_level


@pytest.mark.parametrize(("stock", "sold_out", "left"), [
    (None, False, None),  # not counted: always available, no number shown
    (0, True, None),
    (-1, True, None),
    (1, False, 1),
    (LOW_STOCK, False, LOW_STOCK),
    (LOW_STOCK + 1, False, None),  # plenty: no number
])
def test_a_variant_says_sold_out_or_how_many_are_left_when_few(stock, sold_out, left):
    level = stock_level(stock)
    assert (level.sold_out, level.left, level.low) == (sold_out, left, left is not None)


@pytest.mark.parametrize(("stocks", "sold_out", "left"), [
    ([], True, None),  # nothing to buy
    ([0, 0], True, None),
    ([0, 2, 1], False, 3),  # the sold-out variant adds nothing
    ([0, None], False, None),  # one not counted: available, no number
    ([8, 8], False, None),  # 16 is plenty
])
def test_a_product_is_sold_out_only_when_every_variant_is(stocks, sold_out, left):
    level = product_stock(stocks)
    assert (level.sold_out, level.left) == (sold_out, left)
