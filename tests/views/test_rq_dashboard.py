"""The RQ dashboard at /admin/rq: mounted only with Redis, and for admins only.

The guard runs before any of the dashboard's code, so the redirect and 403 cases need no
Redis at all. The pages themselves run on the test run's Redis: the real one when
``TEST_REDIS_URL`` is set, fakeredis otherwise (rq and rq-dashboard work on it).
"""
from __future__ import annotations

import os

import fakeredis
import pytest

from app.redis import redis_client
from app.services.roles import sync_roles
from tests.builders import PASSWORD
from tests.views.console import console_client, csrf_token, page_text, second_app, signed_in

REAL_REDIS = os.environ.get("TEST_REDIS_URL")
STAND_IN_URL = "redis://fakeredis-stand-in:6379/0"  # never connected to


def _run_redis(app):
    """The test run's Redis client (real or fakeredis), as the main app holds it."""
    with app.app_context():
        return app.extensions.get("bookwell.redis") or redis_client()


def _dashboard_app(app, tmp_dir, **overrides):
    other = second_app(app, tmp_dir, REDIS_URL=REAL_REDIS or STAND_IN_URL, **overrides)
    if not REAL_REDIS:
        other.extensions["bookwell.redis"] = _run_redis(app)
    with other.app_context():
        sync_roles(other.appbuilder)  # the Jobs menu link exists on this app only
    return other


@pytest.fixture(scope="module")
def dashboard_app(app, tmp_dir):
    return _dashboard_app(app, tmp_dir)


@pytest.fixture(scope="module")
def no_redis_app(app, tmp_dir):
    other = second_app(app, tmp_dir, REDIS_URL=None)
    other.extensions["bookwell.redis"] = fakeredis.FakeRedis()
    return other


# --- the guard ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/admin/rq/", "/admin/rq/0/data/queues.json",
                                  "/admin/rq/0/view/workers", "/admin/rq/static/css/main.css"])
def test_anonymous_is_sent_to_the_console_login(dashboard_app, path):
    response = console_client(dashboard_app).get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/")
    assert "next=" in response.headers["Location"]


@pytest.mark.parametrize("method, path", [
    ("get", "/admin/rq/"), ("get", "/admin/rq/0/data/queues.json"),
    ("get", "/admin/rq/static/css/main.css"), ("post", "/admin/rq/queue/default/failed/empty"),
    ("post", "/admin/rq/job/some-job/requeue"),
])
def test_provider_staff_get_403(dashboard_app, tenant_a, method, path):
    staff = signed_in(dashboard_app, tenant_a.staff_email)

    assert getattr(staff, method)(path).status_code == 403


def test_anonymous_post_changes_nothing(dashboard_app):
    redis = _run_redis(dashboard_app)
    redis.rpush("rq:queue:default", "job-that-stays")

    response = console_client(dashboard_app).post("/admin/rq/queue/default/queued/empty")

    assert response.status_code == 302
    assert redis.lrange("rq:queue:default", 0, -1) == [b"job-that-stays"]


# --- admins -------------------------------------------------------------------------------

def test_admin_sees_the_dashboard(dashboard_app, admin_email):
    admin = signed_in(dashboard_app, admin_email)

    response = admin.get("/admin/rq/")

    assert response.status_code == 200
    assert "RQ dashboard" in response.get_data(as_text=True)
    assert admin.get("/admin/rq/favicon.ico").status_code == 200


def test_admin_sees_the_queues_of_this_app(dashboard_app, admin_email):
    from app import jobqueue

    with dashboard_app.app_context():
        jobqueue.get_queue("notifications").enqueue("jobs.maintenance.purge_revoked_tokens")
    admin = signed_in(dashboard_app, admin_email)

    response = admin.get("/admin/rq/0/data/queues.json")

    assert response.status_code == 200
    queues = {queue["name"]: queue["count"] for queue in response.get_json()["queues"]}
    assert queues.get("notifications") == 1


def test_menu_links_jobs_for_admins_only(dashboard_app, tenant_a, admin_email):
    admin_page = page_text(signed_in(dashboard_app, admin_email).get("/outboxeventview/list/"))
    staff_page = page_text(signed_in(dashboard_app, tenant_a.staff_email).get(
        "/bookingview/list/", follow_redirects=True))

    assert 'href="/admin/rq/"' in admin_page
    assert "/admin/rq/" not in staff_page


def test_without_redis_there_is_no_dashboard(no_redis_app, admin_email):
    admin = signed_in(no_redis_app, admin_email)

    assert admin.get("/admin/rq/").status_code == 404
    assert 'href="/admin/rq/"' not in page_text(admin.get("/outboxeventview/list/"))


# --- with CSRF protection on, as in production ---------------------------------------------

@pytest.fixture(scope="module")
def csrf_dashboard_app(app, tmp_dir):
    return _dashboard_app(app, tmp_dir, WTF_CSRF_ENABLED=True)


def _csrf_admin(app, email):
    client = console_client(app)
    token = csrf_token(client.get("/login/"))
    response = client.post("/login/", data={"username": email, "password": PASSWORD,
                                             "csrf_token": token})
    assert response.status_code == 302
    return client


def test_dashboard_posts_carry_the_session_token(csrf_dashboard_app, admin_email):
    from rq.job import Job

    from app import jobqueue

    with csrf_dashboard_app.app_context():
        job = jobqueue.get_queue("default").enqueue("jobs.maintenance.purge_revoked_tokens")
    admin = _csrf_admin(csrf_dashboard_app, admin_email)

    page = admin.get("/admin/rq/")
    cookie = admin.get_cookie("_csrf_token", path="/admin/rq")

    assert page.status_code == 200 and cookie is not None
    assert admin.post(f"/admin/rq/job/{job.id}/delete").status_code == 400  # no token
    assert Job.exists(job.id, connection=_run_redis(csrf_dashboard_app))
    with_token = admin.post(f"/admin/rq/job/{job.id}/delete",
                            headers={"X-CSRFToken": cookie.value})
    assert with_token.status_code == 200 and with_token.get_json() == {"status": "OK"}
    assert not Job.exists(job.id, connection=_run_redis(csrf_dashboard_app))


def test_only_the_dashboard_allows_its_inline_scripts(dashboard_app, admin_email):
    admin = signed_in(dashboard_app, admin_email)

    dashboard = admin.get("/admin/rq/")
    console = admin.get("/providerview/list/")

    assert dashboard.status_code == 200 and console.status_code == 200
    dashboard_policy = dashboard.headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline' 'unsafe-eval';" in dashboard_policy
    assert "frame-ancestors 'none'" in dashboard_policy
    assert dashboard.headers["Cache-Control"] == "no-store"
    console_scripts = console.headers["Content-Security-Policy"].split("script-src", 1)[1]
    assert "unsafe" not in console_scripts.split(";", 1)[0]
