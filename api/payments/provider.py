"""Provider staff: their payments and refunds, and payments taken at the venue."""
from __future__ import annotations

from flask.views import MethodView

from api.blueprint import STAFF, Blueprint, acting_account_id, staff_scope
from api.errors import ErrorSchema
from api.idempotency import claimed_record_id, idempotent
from api.pagination import counted, page_of
from api.payments.schemas import (
    MarkPaidSchema,
    PaymentDetailSchema,
    PaymentListArgsSchema,
    PaymentSchema,
    RefundCreateSchema,
    RefundListArgsSchema,
    RefundSchema,
)
from app.services import payment_queries, payments, refunds

blp = Blueprint("provider_payments", __name__, url_prefix="/provider",
                description="Provider staff: payments, refunds, pay at the venue")


@blp.route("/payments")
class PaymentListViews(MethodView):
    @blp.login_required(roles=STAFF, scope="payments:read")
    @blp.arguments(PaymentListArgsSchema, location="query")
    @blp.response(200, PaymentSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Your payments, newest first"""
        return counted(pagination_parameters, payment_queries.list_payments(
            scope=staff_scope(), **args, **page_of(pagination_parameters)))


@blp.route("/payments/<int:payment_id>")
class PaymentViews(MethodView):
    @blp.login_required(roles=STAFF, scope="payments:read")
    @blp.response(200, PaymentDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def get(self, payment_id):
        """One payment with its refunds"""
        return payment_queries.get_payment(payment_id, scope=staff_scope())


def _refund_asked_under(record_id: int):
    """The answer a refund request that died after storing its refund would have given."""
    refund = payment_queries.refund_asked_under(record_id)
    return None if refund is None else (201, RefundSchema().dump(refund))


@blp.route("/payments/<int:payment_id>/refunds")
class PaymentRefundViews(MethodView):
    @blp.login_required(roles=STAFF, scope="payments:write")
    @idempotent(committed_answer=_refund_asked_under)
    @blp.arguments(RefundCreateSchema)
    @blp.response(201, RefundSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema, description="Not a succeeded payment")
    @blp.alt_response(422, schema=ErrorSchema, description="More than is left to refund")
    def post(self, data, payment_id):
        """Refund fully (no amount) or partly; never more than was paid"""
        return refunds.request_refund(payment_id, amount_minor=data.get("amount_minor"),
                                      reason=data["reason"], actor_id=acting_account_id(),
                                      scope=staff_scope(),
                                      idempotency_record_id=claimed_record_id())


@blp.route("/refunds")
class RefundListViews(MethodView):
    @blp.login_required(roles=STAFF, scope="payments:read")
    @blp.arguments(RefundListArgsSchema, location="query")
    @blp.response(200, RefundSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Your refunds, newest first"""
        return counted(pagination_parameters, payment_queries.list_refunds(
            scope=staff_scope(), **args, **page_of(pagination_parameters)))


@blp.route("/bookings/<reference>/mark-paid")
class MarkPaidViews(MethodView):
    @blp.login_required(roles=STAFF, scope="bookings:write")
    @blp.arguments(MarkPaidSchema)
    @blp.response(201, PaymentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema,
                      description="Paid online, marked paid already, or not payable")
    def post(self, data, reference):
        """Record a payment taken at the venue (confirms a pending booking)"""
        return payments.mark_paid(reference, actor_id=acting_account_id(),
                                  scope=staff_scope(), method=data["method"])
