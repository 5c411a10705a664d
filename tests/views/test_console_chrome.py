"""What every console page carries: a favicon, its stylesheet, a tab title; login by email."""
from __future__ import annotations

import re

from tests.views.console import console_client, page_text, signed_in


def test_favicon_is_an_icon_cached_for_a_day(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.mimetype == "image/x-icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # the ICO file signature
    assert response.cache_control.max_age == 86400


def test_pages_link_the_favicon_and_the_console_stylesheet(app, client):
    page = page_text(client.get("/login/"))

    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    stylesheet = re.search(r'<link href="([^"]+console\.css)" rel="stylesheet">', page)
    assert icon and stylesheet
    svg = client.get(icon.group(1))
    assert svg.status_code == 200 and b"<svg" in svg.data
    css = client.get(stylesheet.group(1))
    assert css.status_code == 200 and b".table-responsive" in css.data


def test_login_asks_for_the_email(app):
    page = page_text(console_client(app).get("/login/"))

    assert '<label class="control-label" for="username">Email</label>' in page
    assert 'type="email"' in page
    assert "Username" not in page and "User Name" not in page



def test_the_tab_title_names_the_page(app, tenant_a):
    client = signed_in(app, tenant_a.staff_email)

    page = page_text(client.get("/offeringview/list/"))

    assert re.search(r"<title>\s*Offerings · Bookwell\s*</title>", page)
