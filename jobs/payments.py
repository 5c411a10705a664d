"""Payment jobs (the ``payments`` queue): webhook processing, refunds, reconciliation."""
from __future__ import annotations

from rq import get_current_job

from app.models.payments import REFUND_RETRYING
from app.services import payment_reconciliation, payment_webhooks, refunds
from jobs.context import with_app_context


class RefundRetry(RuntimeError):
    """A refund the gateway could not take right now; raised so that RQ retries the job."""


def _final_attempt() -> bool:
    job = get_current_job()  # None inline: one attempt, and it is the last
    return job is None or not job.retries_left


@with_app_context
def process_payment_event(row_id: int) -> str:
    return payment_webhooks.process(row_id, final_attempt=_final_attempt())


@with_app_context
def perform_refund(refund_id: int) -> str:
    refund = refunds.perform_refund(refund_id, final_attempt=_final_attempt())
    if refund is not None and refund.status == REFUND_RETRYING:
        raise RefundRetry(f"refund {refund_id}: {refund.last_error}")
    return refund.status if refund is not None else "missing"


@with_app_context
def reconcile_payments() -> dict:
    return payment_reconciliation.reconcile()
