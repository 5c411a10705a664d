"""Where rate limits are checked: a blueprint's limit (the console sign-in form) holds; an
app-wide limit (``RATELIMIT_DEFAULT``) reaches every route; with none, other requests skip
the check. A route's own limit: tests/api/test_auth.py."""
from __future__ import annotations

import fakeredis

from app import create_app
from app.extensions import limiter
from tests.helpers import assert_error_shape
from tests.conftest import test_settings


def test_no_app_wide_check_runs_without_an_app_wide_limit(app):
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    login_blueprint = app.appbuilder.sm.auth_view.blueprint.name
    assert limiter._check_request_limit in app.before_request_funcs[login_blueprint]


def test_the_console_sign_in_form_is_still_limited(client, app_ctx):
    form = {"username": "nobody", "password": "wrong-password"}
    statuses = [client.post("/login/", data=form).status_code for _ in range(6)]
    assert statuses[:5] == [302] * 5 and statuses[5] == 429
    assert client.get("/login/").status_code == 200  # only POST counts


def test_an_app_wide_limit_applies_to_every_route(app, tmp_dir):
    limited = create_app(test_settings(tmp_dir, RATELIMIT_DEFAULT="2 per minute",
                                       RATELIMIT_STORAGE_URI="memory://"))
    try:
        limited.extensions["bookwell.redis"] = fakeredis.FakeRedis()
        assert limiter._check_request_limit in limited.before_request_funcs[None]
        client = limited.test_client()
        statuses = [client.get("/api/v1/offerings").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert_error_shape(client.get("/api/v1/offerings"), 429, "rate_limited")
    finally:
        # One limiter serves every app in this process: forget the default again.
        limiter.limit_manager.set_default_limits([])
        limiter.reset()
