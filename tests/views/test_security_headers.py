"""Console security headers (scripts by nonce, no caching once signed in), the body limit
on console forms, and sign-out by POST only."""
from __future__ import annotations

import re

from tests.csp import directives, page_nonces, policy_nonce, script_tags
from tests.views.console import console_client, csrf_token, is_signed_in, signed_in


def test_console_scripts_need_the_nonce_flask_appbuilder_puts_on_them(client):
    response = client.get("/login/")
    policy = directives(response)

    nonce = policy_nonce(policy["script-src"])
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert page_nonces(response) == {nonce}  # every <script> of the page carries it
    scripts = script_tags(response)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    # Flask-AppBuilder's style="" attributes need this; nothing else is let in.
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["frame-src"] == ["'none'"] and policy["object-src"] == ["'none'"]


def test_console_pages_are_not_stored_once_signed_in(app, tenant_a):
    client = console_client(app)
    assert client.get("/login/").headers.get("Cache-Control") != "no-store"
    staff = signed_in(app, tenant_a.staff_email)
    for path in ("/", "/bookingview/list/", "/offeringview/list/"):
        response = staff.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    stylesheet = staff.get("/static/appbuilder/css/ab.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers.get("Cache-Control") != "no-store"


def test_a_10_mb_console_form_gets_a_plain_413(client):
    response = client.post("/login/", data=b"x" * (10 * 1024 * 1024),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.mimetype == "text/html"


# --- console sign-out --------------------------------------------------------------------

def _signed_in_with_csrf(csrf_app, email):
    client = console_client(csrf_app)
    login_page = client.get("/login/")
    response = client.post("/login/", data={"username": email, "password": "correct-horse-battery",
                                            "csrf_token": csrf_token(login_page)})
    assert response.status_code == 302 and is_signed_in(client)
    return client


def test_get_logout_does_not_sign_out(csrf_app, tenant_a):
    client = _signed_in_with_csrf(csrf_app, tenant_a.staff_email)

    response = client.get("/logout/")

    assert response.status_code == 405
    assert is_signed_in(client)
    assert client.get("/bookingview/list/", follow_redirects=True).status_code == 200


def test_post_logout_without_the_csrf_token_is_refused(csrf_app, tenant_a):
    client = _signed_in_with_csrf(csrf_app, tenant_a.staff_email)

    response = client.post("/logout/")

    assert response.status_code == 400
    assert is_signed_in(client)


def test_the_menus_sign_out_form_signs_out(csrf_app, tenant_a):
    client = _signed_in_with_csrf(csrf_app, tenant_a.staff_email)
    page = client.get("/bookingview/list/", follow_redirects=True).get_data(as_text=True)
    form = re.search(r'<form method="post" action="(/logout/)">\s*'
                     r'<input type="hidden" name="csrf_token" value="([^"]+)">', page)
    assert form, "no sign-out form in the console menu"
    assert 'href="/logout/"' not in page

    response = client.post(form.group(1), data={"csrf_token": form.group(2)})

    assert response.status_code == 302
    assert not is_signed_in(client)
