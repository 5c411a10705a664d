from __future__ import annotations

from redis import Redis


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client, app):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert ("redis" in body["checks"]) == bool(app.config["REDIS_URL"])


def test_readyz_is_503_when_redis_is_unreachable(app):
    saved_url = app.config["REDIS_URL"]
    saved_client = app.extensions.get("bookwell.redis")
    # Nothing listens on port 1: a real connection failure, not a simulated one.
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions["bookwell.redis"] = Redis.from_url(app.config["REDIS_URL"],
                                                      socket_connect_timeout=0.5)
    try:
        response = app.test_client().get("/readyz")
    finally:
        app.config["REDIS_URL"] = saved_url
        if saved_client is None:
            app.extensions.pop("bookwell.redis", None)
        else:
            app.extensions["bookwell.redis"] = saved_client
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert "ConnectionError" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True
