"""Embedded mode outside tests (no Redis, TESTING off) serves requests normally."""
from __future__ import annotations

import fakeredis

from app import create_app
from tests.conftest import test_settings


def test_requests_succeed_with_embedded_housekeeping(app, tmp_dir):
    embedded = create_app(test_settings(tmp_dir, TESTING=False, REDIS_URL=None,
                                        RATELIMIT_STORAGE_URI="memory://"))
    embedded.extensions["bookwell.redis"] = fakeredis.FakeRedis()
    client = embedded.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/offerings").status_code == 200
