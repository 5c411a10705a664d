"""A product's page: bought with "Buy" (never "Book"), each variant with its stock."""
from __future__ import annotations

import re


def test_a_product_says_buy_and_shows_its_stock(client, build):
    provider = build.provider(name="Harbor Yoga")
    mat = build.offering(provider, name="Cork Mat", kind="product", price_minor=5900)
    build.variant(mat, name="Blue", stock=3)
    build.variant(mat, name="Green", stock=0)
    build.variant(mat, name="Sand", stock=40, price_minor=6500)
    build.variant(mat, name="Retired", stock=5, active=False)

    page = client.get(f"/shop/offerings/{mat}").get_data(as_text=True)

    assert ">Buy</button>" in page and ">Book</button>" not in page
    blue, green, sand = (page.index(name) for name in ("Blue", "Green", "Sand"))
    assert "3 left" in page[blue:green]
    assert "Sold out" in page[green:sand] and "variant_id" not in page[green:sand]
    assert "€65.00" in page[sand:] and "left" not in page[sand:]  # plenty: no count
    assert "Retired" not in page
    assert re.search(r'max="3"', page[blue:green])  # no more than there is


def test_a_product_without_anything_to_buy_is_sold_out(client, build):
    provider = build.provider()
    empty = build.offering(provider, name="Gift Card", kind="product", price_minor=2000)
    page = client.get(f"/shop/offerings/{empty}").get_data(as_text=True)
    assert "Sold out" in page and ">Buy</button>" not in page


def test_a_service_is_still_booked(client, build):
    provider = build.provider()
    yoga = build.offering(provider, name="Vinyasa Flow")
    build.future_slot(yoga, days=2)
    page = client.get(f"/shop/offerings/{yoga}").get_data(as_text=True)
    assert f"/shop/offerings/{yoga}/review?slot_id=" in page  # a time leads to the review
    assert ">Buy</button>" not in page
