"""Waiting lists: customers join the line of a full time, see their place, take or
decline an offer, leave; staff read the line of their times."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_jwt_extended import current_user

from api.blueprint import STAFF, Blueprint, staff_scope
from api.bookings.schemas import BookingSchema
from api.errors import ErrorSchema
from api.fields import Id
from api.schemas import Schema
from app.models.waitlist import WAITLIST_STATUSES
from app.services import waitlist
from app.services.scopes import Actor

blp = Blueprint("waitlist", __name__, url_prefix="/waitlist",
                description="Waiting lists of full times, and the places they offer")


class WaitlistJoinSchema(Schema):
    slot_id = Id(required=True, metadata={"description": "The full time to wait for"})
    quantity = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100))


class WaitlistEntrySchema(Schema):
    id = ma.fields.Integer(required=True)
    slot_id = ma.fields.Integer(required=True)
    offering_id = ma.fields.Integer(required=True)
    offering_name = ma.fields.String(required=True)
    starts_at = ma.fields.DateTime(required=True, metadata={"description": "UTC"})
    timezone = ma.fields.String(required=True, metadata={
        "description": "The provider's zone, in which to show the time"})
    quantity = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(WAITLIST_STATUSES),
                              metadata={"description": "waiting → offered → booked | "
                                                       "expired; left"})
    status_label = ma.fields.String(required=True)
    position = ma.fields.Integer(allow_none=True, metadata={
        "description": "Place in line while waiting (1: next to be offered)"})
    booking_reference = ma.fields.String(allow_none=True, metadata={
        "description": "The booking holding the offered place: pay it to take the place"})
    offer_expires_at = ma.fields.DateTime(allow_none=True, metadata={
        "description": "Until when an offered place is held (UTC)"})
    created_at = ma.fields.DateTime(required=True, metadata={"description": "UTC"})


class WaitlistLineEntrySchema(WaitlistEntrySchema):
    customer_name = ma.fields.String(required=True)
    customer_email = ma.fields.String(required=True)


def _entry(line_position: waitlist.LinePosition, *, for_staff: bool = False) -> dict:
    entry = line_position.entry
    shown = {
        "id": entry.id, "slot_id": entry.slot_id, "offering_id": entry.offering_id,
        "offering_name": entry.offering.name, "starts_at": entry.slot.starts_at,
        "timezone": entry.provider.timezone, "quantity": entry.quantity,
        "status": entry.status, "status_label": waitlist.status_label(entry.status),
        "position": line_position.position,
        "booking_reference": entry.booking.reference if entry.booking is not None else None,
        "offer_expires_at": entry.offer_expires_at, "created_at": entry.created_at,
    }
    if for_staff:
        customer = entry.customer
        shown["customer_name"] = f"{customer.first_name or ''} {customer.last_name or ''}" \
            .strip() or customer.email
        shown["customer_email"] = customer.email
    return shown


@blp.route("")
class WaitlistViews(MethodView):
    @blp.login_required()
    @blp.arguments(WaitlistJoinSchema)
    @blp.response(201, WaitlistEntrySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such time offered")
    @blp.alt_response(409, schema=ErrorSchema, description=(
        "Places are free (`waitlist.places_free`: book them), the time has started, or "
        "you are in line already"))
    def post(self, data):
        """Join the waiting list of a full time"""
        return _entry(waitlist.join(customer_id=current_user.id, **data))

    @blp.login_required()
    @blp.response(200, WaitlistEntrySchema(many=True))
    def get(self):
        """Your waiting list entries for times still to come, newest first"""
        return [_entry(found) for found in waitlist.entries_of_customer(current_user.id)]


@blp.route("/<int:entry_id>/leave")
class WaitlistLeaveViews(MethodView):
    @blp.login_required()
    @blp.response(200, WaitlistEntrySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema, description="The entry has ended")
    def post(self, entry_id):
        """Leave the line; an offered place is declined and goes to the next in line"""
        entry = waitlist.leave(entry_id, customer_id=current_user.id,
                               actor=Actor(current_user.id, "left the waiting list"))
        return _entry(waitlist.LinePosition(entry, None))


@blp.route("/<int:entry_id>/accept")
class WaitlistAcceptViews(MethodView):
    @blp.login_required()
    @blp.response(200, BookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema, description=(
        "No offer to take, or one to pay online (`waitlist.pay_to_accept`: pay its "
        "booking instead)"))
    def post(self, entry_id):
        """Take an offered place that is free or paid at the venue"""
        return waitlist.accept(entry_id, customer_id=current_user.id,
                               actor=Actor(current_user.id, "took a waiting list offer"))


@blp.route("/times/<int:slot_id>")
class WaitlistLineViews(MethodView):
    @blp.login_required(roles=STAFF, scope="waitlist:read")
    @blp.response(200, WaitlistLineEntrySchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema, description="Not one of your times")
    def get(self, slot_id):
        """The line of one of your times, first come first"""
        line = waitlist.line_of_slot(slot_id, scope=staff_scope())
        return [_entry(position, for_staff=True) for position in waitlist.positions(line)]
