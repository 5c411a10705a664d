"""One sweep over every kind of pending work that a crash, a lost job or an outage left.

Each kind finds its own unfinished rows and hands them on again (the handlers and jobs
it hands them to are idempotent, so a slow row found twice is done once). ``KINDS`` is
the whole list: a new kind of pending work is one entry here plus its test.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from app import events
from app.services import conversions, notifications, payment_webhooks, receipts, refunds
from app.services import refund_rechecks, search_indexing, webhook_delivery, webhook_fanout
from app.services.payments import reconciled_gateways

log = logging.getLogger(__name__)


def _online_payments() -> bool:
    # The payment inbox and refund retries only exist with an online gateway (any of them).
    return bool(reconciled_gateways())


@dataclass(frozen=True)
class Kind:
    name: str
    sweep: Callable[[], object]   # finds and restarts its pending work; returns a count
    applies: Callable[[], bool] = lambda: True


KINDS: tuple[Kind, ...] = (
    Kind("outbox", events.sweep),
    Kind("messages", notifications.sweep),
    Kind("conversions", conversions.sweep),
    Kind("payment_inbox", payment_webhooks.process_leftovers, _online_payments),
    Kind("refunds", refunds.retry_due_refunds, _online_payments),
    Kind("refund_states", refund_rechecks.recheck_pending_refunds, _online_payments),
    Kind("receipts", receipts.sweep),  # numbered documents a crash left without a PDF
    Kind("search_indexing", search_indexing.sweep, search_indexing.opensearch_configured),
    Kind("webhooks", webhook_delivery.hand_over_due),  # due retries, lost delivery jobs
    Kind("webhook_fan_out", webhook_fanout.fan_out_marked),  # a lost wake-up
    Kind("webhook_catch_up", webhook_fanout.catch_up),  # a new endpoint's first events
)


class SweepFailed(RuntimeError):
    """At least one kind failed; the others were swept."""


def sweep_pending(kinds: tuple[Kind, ...] = KINDS) -> dict:
    """Sweep every kind that applies; one kind failing never holds up the others, and is
    raised at the end (so the job records it). Returns each kind's count."""
    counts, failures = {}, []
    for kind in kinds:
        if not kind.applies():
            continue
        try:
            counts[kind.name] = kind.sweep()
        except Exception as exc:
            events.rollback()
            log.exception("sweeping %s failed", kind.name)
            failures.append(f"{kind.name}: {type(exc).__name__}: {exc}")
    if failures:
        raise SweepFailed("; ".join(failures))
    return counts
