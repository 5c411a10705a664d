"""Read-only queries over payments and refunds, scoped to a provider."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import NotFound
from app.extensions import db
from app.models import Account
from app.models.payments import Payment, Refund
from app.services.scopes import Scope, require_scope
from app.services.tenancy import scoped


def list_payments(*, scope: Scope, page: int, page_size: int,
                  status: str | None = None, attention: bool | None = None):
    require_scope(scope)
    query = scoped(select(Payment), Payment, scope=scope)
    if status:
        query = query.where(Payment.status == status)
    if attention is not None:
        query = query.where(Payment.attention.is_not(None) if attention
                            else Payment.attention.is_(None))
    return _page(query.options(selectinload(Payment.booking)),
                 Payment.id, page, page_size)


def marked_paid_by(payment: Payment) -> Account | None:
    """The staff member who recorded a payment taken at the venue, if any."""
    if payment.marked_paid_by_id is None:
        return None
    return db.session.get(Account, payment.marked_paid_by_id)


def get_payment(payment_id: int, *, scope: Scope) -> Payment:
    require_scope(scope)
    payment = db.session.scalar(scoped(select(Payment), Payment, scope=scope)
                                .where(Payment.id == payment_id))
    if payment is None:
        raise NotFound("payment.not_found", f"No payment {payment_id}.")
    return payment


def list_refunds(*, scope: Scope, page: int, page_size: int,
                 status: str | None = None):
    require_scope(scope)
    query = scoped(select(Refund), Refund, scope=scope)
    if status:
        query = query.where(Refund.status == status)
    return _page(query, Refund.id, page, page_size)


def refund_asked_under(idempotency_record_id: int) -> Refund | None:
    """The refund stored by the request holding this Idempotency-Key record, if any."""
    return db.session.scalar(select(Refund).where(
        Refund.idempotency_record_id == idempotency_record_id))


def _page(query, id_column, page: int, page_size: int):
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.order_by(id_column.desc())
                              .limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total
