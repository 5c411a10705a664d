"""Liveness and readiness for operators and orchestrators."""
from __future__ import annotations

from flask import Blueprint, jsonify

from app.services.health import readiness

blp = Blueprint("health", __name__)


@blp.route("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@blp.route("/readyz")
def readyz():
    checks = readiness()
    ready = all(check["ok"] for check in checks.values())
    response = jsonify({"status": "ok" if ready else "unavailable", "checks": checks})
    response.status_code = 200 if ready else 503
    return response
