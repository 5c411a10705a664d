"""``/metrics`` for Prometheus: access as ``app.metrics.allowed`` says (a bearer token)."""
from __future__ import annotations

from flask import Blueprint, current_app

from app import metrics
from app.metrics_state import StateCollector

blp = Blueprint("metrics", __name__)


@blp.route("/metrics")
def scrape():
    return metrics.serve(current_app, StateCollector())
