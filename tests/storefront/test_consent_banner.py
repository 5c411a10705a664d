"""The consent banner shows only where something on the page needs consent: a TikTok Pixel
code for the page's provider, or the platform's."""
from __future__ import annotations

from app.extensions import db
from app.models import Provider

BANNER = 'action="/shop/consent"'


def _has_banner(client, path: str) -> bool:
    response = client.get(path)
    assert response.status_code == 200
    return BANNER in response.get_data(as_text=True)


def test_no_pixel_anywhere_no_banner(client, store):
    assert not _has_banner(client, "/shop/")
    assert not _has_banner(client, f"/shop/offerings/{store.offering_id}")
    assert not _has_banner(client, "/shop/login")


def test_the_platforms_pixel_asks_on_every_page(app, client, store, monkeypatch):
    monkeypatch.setitem(app.config, "TIKTOK_PIXEL_CODE", "C0PLATFORM")
    assert _has_banner(client, "/shop/")
    assert _has_banner(client, f"/shop/offerings/{store.offering_id}")


def test_a_providers_own_pixel_asks_on_its_pages_only(app, client, store, build):
    other = build.offering(build.provider(name="Quiet Spa"), name="Sauna")
    with app.app_context():
        db.session.get(Provider, store.provider_id).tiktok_pixel_code = "C0GAMMA"
        db.session.commit()
    assert _has_banner(client, f"/shop/offerings/{store.offering_id}")
    assert not _has_banner(client, f"/shop/offerings/{other}")
    assert not _has_banner(client, "/shop/")


def test_no_banner_once_the_visitor_chose(app, client, store, monkeypatch):
    monkeypatch.setitem(app.config, "TIKTOK_PIXEL_CODE", "C0PLATFORM")
    for choice in ("granted", "denied"):
        client.set_cookie("bw_consent", choice)
        assert not _has_banner(client, f"/shop/offerings/{store.offering_id}")
