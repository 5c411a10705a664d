"""The periodic safety net for money: what webhooks and first attempts left unfinished.

Payments left unsettled are re-read from the gateway and settled, refunds whose retry is
due are tried again, and webhook events stored but never processed are processed.
"""
from __future__ import annotations

from flask import current_app

from app.services import payment_webhooks, payments, refunds


def reconcile(now=None) -> dict:
    if not current_app.config.get("STRIPE_SECRET_KEY"):
        return {"skipped": "no online payment gateway configured"}
    counts = payments.reconcile_unsettled(now=now)
    counts["refunds_retried"] = refunds.retry_due_refunds(now=now)
    counts["events_processed"] = payment_webhooks.process_leftovers(now=now)
    return counts
