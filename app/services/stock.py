"""What a customer is told about a product's stock: one rule for every page and list.

``stock`` is a variant's count (None: not counted, always available). A product is sold
out when none of its active variants can be bought; a low count is said as "3 left".
"""
from __future__ import annotations

from dataclasses import dataclass

LOW_STOCK = 10  # at or below this many, the count is shown ("3 left")


@dataclass(frozen=True)
class StockLevel:
    sold_out: bool
    left: int | None  # shown only when low; None: plenty, or not counted

    @property
    def low(self) -> bool:
        return self.left is not None


def stock_level(stock: int | None) -> StockLevel:
    if stock is None:
        return StockLevel(sold_out=False, left=None)
    if stock <= 0:
        return StockLevel(sold_out=True, left=None)
    return StockLevel(sold_out=False, left=stock if stock <= LOW_STOCK else None)


def product_stock(stocks: list[int | None]) -> StockLevel:
    """The stock of a product from its active variants' counts: sold out when every one
    is (or there is none); otherwise the total when every variant is counted."""
    available = [stock for stock in stocks if stock is None or stock > 0]
    if not available:
        return StockLevel(sold_out=True, left=None)
    if any(stock is None for stock in available):
        return StockLevel(sold_out=False, left=None)
    return stock_level(sum(available))
