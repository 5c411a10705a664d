"""The process's Redis connection, when ``REDIS_URL`` is configured."""
from __future__ import annotations

from flask import current_app
from redis import Redis


def redis_client() -> Redis:
    """One client per app; tests may put a fakeredis client in its place."""
    client = current_app.extensions.get("bookwell.redis")
    if client is None:
        url = current_app.config.get("REDIS_URL")
        if not url:
            raise RuntimeError("REDIS_URL is not configured")
        client = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        current_app.extensions["bookwell.redis"] = client
    return client
