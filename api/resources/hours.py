"""A resource's weekly hours: when a staff member or a room can be booked. Wall-clock
times in the provider's zone; an empty week means no hours kept (there whenever an
offering is). A foreign provider's resource answers 404."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.blueprint import STAFF, Blueprint, staff_scope
from api.errors import ErrorSchema
from api.schemas import Schema
from app.models.availability import WEEKDAYS
from app.services import resource_hours
from app.services.weekly_hours import MAX_RANGES, TimeRange

blp = Blueprint("resource_hours", __name__, url_prefix="",
                description="Weekly hours of staff, rooms and equipment")


class TimeRangeSchema(Schema):
    weekday = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=6),
                                metadata={"description": "0 = Monday … 6 = Sunday"})
    weekday_name = ma.fields.Function(lambda r: WEEKDAYS[r.weekday], dump_only=True)
    start = ma.fields.Time(required=True, format="%H:%M", metadata={"example": "09:00"})
    end = ma.fields.Time(required=True, format="%H:%M",
                         metadata={"example": "17:00",
                                   "description": "23:59 means until midnight"})


class ResourceWeekSchema(Schema):
    resource_id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(dump_only=True)
    timezone = ma.fields.String(dump_only=True,
                                metadata={"description": "The provider's: every time is a "
                                                         "wall-clock time there"})
    keeps_hours = ma.fields.Function(lambda week: bool(week.ranges), dump_only=True)
    ranges = ma.fields.List(ma.fields.Nested(TimeRangeSchema), required=True,
                            validate=ma.validate.Length(max=MAX_RANGES),
                            metadata={"description": "Replaces the week; [] for no hours"})


@blp.route("/provider/resources/<int:resource_id>/hours")
class ResourceHoursViews(MethodView):
    @blp.login_required(roles=STAFF, scope="resources:read")
    @blp.response(200, ResourceWeekSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def get(self, resource_id):
        """A resource's weekly hours"""
        return resource_hours.hours_of(resource_id, scope=staff_scope())

    @blp.login_required(roles=STAFF, scope="resources:write")
    @blp.arguments(ResourceWeekSchema)
    @blp.response(200, ResourceWeekSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(422, schema=ErrorSchema,
                      description="A range ends before it starts or overlaps another; "
                                  "nothing is saved")
    def put(self, data, resource_id):
        """Set the weekly hours: its times outside them are neither offered nor bookable
        (bookings already made stay)"""
        ranges = [TimeRange(r["weekday"], r["start"], r["end"]) for r in data["ranges"]]
        return resource_hours.replace_hours(resource_id, scope=staff_scope(), ranges=ranges)
