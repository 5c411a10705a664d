"""The periodic safety net for money: payments left unsettled are re-read from the
gateway and settled. (Refunds whose retry is due and webhook events stored but never
processed are kinds of the pending-work sweep, ``app/services/sweeps.py``.)
"""
from __future__ import annotations

from app.services import payments


def reconcile(now=None) -> dict:
    if not payments.reconciled_gateways():
        return {"skipped": "no online payment gateway configured"}
    return payments.reconcile_unsettled(now=now)
