"""The shop's own error pages under /shop, in the shop's layout and language with the right
status; the console and the API keep theirs."""
from __future__ import annotations

import pytest
from werkzeug.exceptions import Forbidden

from views.storefront import browse as browse_page
from views.storefront import errors

SHOP_LAYOUT = '<main id="main">'
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def _text(response) -> str:
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/shop/nothing-here", "/shop/offerings/987654",
                                  "/shop/offerings/not-a-number/book"])
def test_a_missing_page_is_the_shops_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    page = _text(response)
    assert SHOP_LAYOUT in page and "Page not found" in page
    assert 'href="/shop/"' in page and "Not Found</h1>" not in page


def test_the_404_page_speaks_the_visitors_language(client):
    page = _text(client.get("/shop/nothing-here", headers=GERMAN))
    assert '<html lang="de">' in page and "Seite nicht gefunden" in page


def test_a_wrong_method_is_a_405_page_with_allow(client):
    response = client.post("/shop/")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert SHOP_LAYOUT in _text(response)


def test_a_forbidden_page_is_the_shops_403(app):
    with app.test_request_context("/shop/"):
        response = app.make_response(app.handle_user_exception(Forbidden()))
    assert response.status_code == 403
    page = _text(response)
    assert SHOP_LAYOUT in page and "Not available to you" in page


def test_too_many_sign_ins_is_the_shops_429(client):
    for _ in range(5):
        client.post("/shop/login", data={"email": "x@example.com", "password": "wrong"})
    response = client.post("/shop/login", data={"email": "x@example.com", "password": "no"})
    assert response.status_code == 429
    page = _text(response)
    assert SHOP_LAYOUT in page and "Too many attempts" in page


def test_a_crash_is_the_shops_500_with_a_reference(app, client, monkeypatch):
    def broken(query):
        raise RuntimeError("the search backend fell over")

    monkeypatch.setattr(browse_page.browse, "find_offerings", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/shop/", headers={"X-Request-ID": "req-4711"})
    assert response.status_code == 500
    page = _text(response)
    assert SHOP_LAYOUT in page and "Something went wrong" in page and "req-4711" in page
    assert "fell over" not in page  # nothing internal is shown


def test_an_error_page_that_cannot_render_is_still_an_answer(app, client, monkeypatch):
    def failing(*args, **kwargs):
        raise RuntimeError("no database")

    monkeypatch.setattr(errors, "render_template", failing)
    response = client.get("/shop/nothing-here")
    assert response.status_code == 404 and "Please try again" in _text(response)


def test_the_console_and_the_api_keep_their_own(client):
    console = client.get("/no-such-console-page")
    assert console.status_code == 404 and SHOP_LAYOUT not in _text(console)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json["code"] == "not_found"
    # /shopping is not the shop.
    assert SHOP_LAYOUT not in client.get("/shopping").get_data(as_text=True)
