"""Customers book, list, cancel and reschedule their own bookings."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_jwt_extended import current_user

from api.blueprint import Blueprint
from api.bookings.schemas import (
    BookingCreateSchema,
    BookingDetailSchema,
    BookingQueryArgsSchema,
    BookingSchema,
    RescheduleSchema,
)
from api.errors import ErrorSchema
from api.idempotency import claimed_record_id, idempotent
from api.pagination import counted, page_of
from app.services import account_bookings, booking_queries, bookings
from app.services.bookings import ATTRIBUTION_FIELDS, Actor

blp = Blueprint("bookings", __name__, url_prefix="/bookings",
                description="Your bookings: book, pay later, cancel, reschedule")
BOOKING_FIELDS = ("offering_id", "slot_id", "variant_id", "quantity", "notes", "resource_id")


def _placed_under(record_id: int):
    """The answer a request that died after placing its booking would have given."""
    booking = booking_queries.booking_placed_under(record_id)
    return None if booking is None else (201, BookingSchema().dump(booking))


@blp.route("")
class BookingViews(MethodView):
    @blp.login_required(token_identity=True)  # the service checks the account (hot path)
    @idempotent(committed_answer=_placed_under)
    @blp.arguments(BookingCreateSchema)
    @blp.response(201, BookingSchema)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                          "schema": {"type": "string", "maxLength": 200},
                          "description": "Retry safely: the same key and body return the "
                                         "first answer; another body answers 422"}])
    @blp.alt_response(409, schema=ErrorSchema,
                      description="Full, busy, no longer offered, or out of stock")
    @blp.alt_response(404, schema=ErrorSchema, description="No such active offering")
    def post(self, data):
        """Book a slot of a service (or a variant of a product): a hold until paid"""
        attribution = {k: data[k] for k in ATTRIBUTION_FIELDS if k in data}
        attribution.update(ip=request.remote_addr,
                           user_agent=(request.user_agent.string or "")[:500])
        return bookings.place_booking(customer_id=current_user.id, attribution=attribution,
                                      idempotency_record_id=claimed_record_id(),
                                      **{k: data[k] for k in BOOKING_FIELDS if k in data})

    @blp.login_required()
    @blp.arguments(BookingQueryArgsSchema, location="query")
    @blp.response(200, BookingSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Your bookings, newest first"""
        return counted(pagination_parameters, booking_queries.list_customer_bookings(
            customer_id=current_user.id, **args, **page_of(pagination_parameters)))


@blp.route("/<reference>")
class BookingByReferenceViews(MethodView):
    @blp.login_required()
    @blp.response(200, BookingDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def get(self, reference):
        """One of your bookings, with its history"""
        account_bookings.require_shown(reference, account_id=current_user.id)
        return booking_queries.get_customer_booking(reference, customer_id=current_user.id)


@blp.route("/<reference>/cancel")
class BookingCancelViews(MethodView):
    @blp.login_required()
    @blp.response(200, BookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema,
                      description="Not cancellable now (its status, or the window passed)")
    def post(self, reference):
        """Cancel: free until the offering's free-cancellation window closes"""
        account_bookings.require_shown(reference, account_id=current_user.id)
        return bookings.cancel_own_booking(reference, customer_id=current_user.id,
                                           actor=Actor(current_user.id, "cancelled by customer"))


@blp.route("/<reference>/reschedule")
class BookingRescheduleViews(MethodView):
    @blp.login_required()
    @blp.arguments(RescheduleSchema)
    @blp.response(200, BookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema,
                      description="The new slot is full or no longer offered, or too late")
    def post(self, data, reference):
        """Move to another slot of the same offering; the old place is kept if that fails"""
        account_bookings.require_shown(reference, account_id=current_user.id)
        return bookings.reschedule_own_booking(reference, new_slot_id=data["slot_id"],
                                               customer_id=current_user.id,
                                               actor=Actor(current_user.id, ""))
