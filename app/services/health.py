"""Readiness: can this process reach what it depends on?"""
from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import text

from app.extensions import db, limiter
from app.rate_limits import counting_mode
from app.redis import redis_client
from app.services.transactions import end_read


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def readiness() -> dict[str, dict]:
    checks = {"database": _timed(lambda: db.session.execute(text("SELECT 1")))}
    end_read()
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _timed(lambda: redis_client().ping())
    # Informational: limits hold in every mode (with Redis down, per process), so this
    # never makes the process unready.
    checks["rate_limits"] = {"ok": True, "mode": counting_mode(limiter)}
    return checks
