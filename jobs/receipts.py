"""Receipt jobs: render and store a numbered document's PDF, and the sweep for those a
crash left without one."""
from __future__ import annotations

from app.services import receipts
from jobs.context import with_app_context


@with_app_context
def render_receipt(receipt_id: int) -> bool:
    return receipts.render(receipt_id)


@with_app_context
def sweep_receipts() -> int:
    return receipts.sweep()
