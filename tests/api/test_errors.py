"""Every API error has one JSON shape; the console keeps its HTML pages."""
from __future__ import annotations

import logging

import fakeredis
import pytest
from flask.views import MethodView

from api.blueprint import Blueprint
from app import create_app
from app.errors import Conflict
from tests.conftest import test_settings
from tests.helpers import api_login, assert_error_shape, bearer


@pytest.fixture(scope="module")
def probe_app(app, tmp_dir):
    """A second app on the same database with routes that fail on purpose."""
    probe = create_app(test_settings(tmp_dir))
    probe.extensions["bookwell.redis"] = fakeredis.FakeRedis()
    blp = Blueprint("probe", __name__, url_prefix="/api/v1/probe")

    @blp.route("/boom")
    class Boom(MethodView):
        def get(self):
            raise RuntimeError("secret internals")

    @blp.route("/conflict")
    class Clash(MethodView):
        def get(self):
            raise Conflict("probe.clash", "It clashes.")

    @blp.route("/staff-only")
    class StaffOnly(MethodView):
        @blp.login_required(roles={"Provider"})
        def get(self):
            return {"ok": True}

    probe.register_blueprint(blp)

    @probe.route("/console-boom")
    def console_boom():
        raise RuntimeError("console failure")

    probe.config["PROPAGATE_EXCEPTIONS"] = False
    return probe


def test_malformed_json_is_a_400(client):
    response = client.post("/api/v1/auth/register", data="{not json",
                           content_type="application/json")
    body = assert_error_shape(response, 400, "bad_request")
    assert "JSON" in body["message"]


def test_unknown_api_route_is_a_json_404(client):
    assert_error_shape(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error_shape(client.get("/api/nothing"), 404, "not_found")


def test_fab_security_api_is_switched_off(client):
    response = client.post("/api/v1/security/login",
                           json={"username": "a", "password": "b", "provider": "db"})
    assert_error_shape(response, 404, "not_found")


def test_wrong_method_is_a_405_with_allow(client):
    response = client.get("/api/v1/auth/login")
    assert_error_shape(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_console_404_stays_html(client):
    response = client.get("/no-such-console-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_domain_conflict_is_a_409_with_its_code(probe_app):
    response = probe_app.test_client().get("/api/v1/probe/conflict")
    assert_error_shape(response, 409, "probe.clash")


def test_wrong_role_is_a_403(probe_app, build):
    customer_id = build.customer()
    client = probe_app.test_client()
    token = api_login(client, build.email_of(customer_id))["access_token"]
    assert_error_shape(client.get("/api/v1/probe/staff-only", headers=bearer(token)), 403,
                       "auth.forbidden")
    staff_id = build.staff(build.provider())
    token = api_login(client, build.email_of(staff_id))["access_token"]
    assert client.get("/api/v1/probe/staff-only", headers=bearer(token)).status_code == 200


def test_unexpected_error_is_a_500_without_internals_and_is_logged(probe_app, caplog):
    with caplog.at_level(logging.ERROR):
        response = probe_app.test_client().get("/api/v1/probe/boom",
                                               headers={"X-Request-ID": "req-42"})

    body = assert_error_shape(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert "req-42" in body["message"]
    assert response.headers["X-Request-ID"] == "req-42"
    logged = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert logged and logged[0].exc_info and "req-42" in logged[0].getMessage()


def test_console_error_is_not_turned_into_json(probe_app):
    response = probe_app.test_client().get("/console-boom")
    assert response.status_code == 500
    assert response.mimetype != "application/json"


def test_every_response_carries_a_request_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first and second and first != second
    unsafe = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert unsafe.headers["X-Request-ID"] != "<script>alert(1)</script>"
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a"}).headers[
        "X-Request-ID"] == "lb-7f3a"
