"""The periodic safety net for money: payments left unsettled are re-read from the
gateway and settled. (Refunds whose retry is due and webhook events stored but never
processed are kinds of the pending-work sweep, ``app/services/sweeps.py``.)
"""
from __future__ import annotations

from flask import current_app

from app.services import payments


def reconcile(now=None) -> dict:
    if not current_app.config.get("STRIPE_SECRET_KEY"):
        return {"skipped": "no online payment gateway configured"}
    return payments.reconcile_unsettled(now=now)
