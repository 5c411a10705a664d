"""Console staff who forgot their password: a link from the sign-in page, the mail from a
local SMTP server, a new password, and every console session from before it ended."""
from __future__ import annotations

import re
import time

from flask import current_app

from tests.helpers import console_login
from tests.notifications.conftest import run_jobs
from tests.views.console import console_client, page_text, signed_in

NEW_PASSWORD = "a-fresh-harbour-lantern"


def _reset_path(smtp, address) -> str:
    run_jobs(current_app)
    (message,) = smtp.to(address)
    return re.search(r"/password/reset/\S+", message.get_body(("plain",)).get_content()
                     ).group(0)


def test_staff_choose_a_new_password_and_their_old_sessions_end(app, tenant_a, smtp):
    before = signed_in(app, tenant_a.staff_email)
    time.sleep(1.05)  # a session started in the same second as the reset would still count
    visitor = console_client(app)
    assert "Forgot your password?" in page_text(visitor.get("/login/"))
    assert visitor.get("/password/forgot").status_code == 200

    asked = visitor.post("/password/forgot", data={"email": tenant_a.staff_email})
    assert asked.status_code == 302 and "/login/" in asked.headers["Location"]
    path = _reset_path(smtp, tenant_a.staff_email)
    assert "/shop/" not in path

    weak = visitor.post(path, data={"password": "password123"})
    assert weak.status_code == 422 and "easy to guess" in page_text(weak)
    saved = visitor.post(path, data={"password": NEW_PASSWORD})
    assert saved.status_code == 302

    assert before.get("/").status_code == 302  # signed out: back to the sign-in page
    fresh = console_client(app)
    assert console_login(fresh, tenant_a.staff_email, NEW_PASSWORD).status_code == 302
    assert fresh.get("/").status_code == 200
    used_again = visitor.get(path)
    assert used_again.status_code == 422 and "Ask for a new link" in page_text(used_again)


def test_an_unknown_address_is_answered_the_same_and_mails_nothing(app, tenant_a, smtp):
    visitor = console_client(app)
    known = visitor.post("/password/forgot", data={"email": tenant_a.staff_email})
    unknown = visitor.post("/password/forgot", data={"email": "nobody@example.com"})
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code, unknown.headers["Location"])
    run_jobs(current_app)
    assert smtp.to("nobody@example.com") == []


def test_a_bad_address_is_a_form_error(app):
    refused = console_client(app).post("/password/forgot", data={"email": "not-an-address"})
    assert refused.status_code == 422 and "alert-danger" in refused.get_data(as_text=True)


def test_a_forged_link_offers_a_new_one(app):
    page = console_client(app).get("/password/reset/forged")
    assert page.status_code == 422 and "Ask for a new link" in page_text(page)
