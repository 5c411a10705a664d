"""A resource's outside calendars: iCal addresses (a Google or Outlook "secret address")
whose busy times block it. The address is a credential: it is taken, never shown again
but masked. A foreign provider's resource or calendar answers 404."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.blueprint import STAFF, Blueprint, staff_scope
from api.errors import ErrorSchema
from api.schemas import Schema
from app.models.resource_calendars import LABEL_LENGTH
from app.services import outside_calendars

blp = Blueprint("resource_calendars", __name__, url_prefix="",
                description="Outside calendars of staff and rooms: their busy times block "
                            "them")


class BusyTimeSchema(Schema):
    starts_at = ma.fields.AwareDateTime()
    ends_at = ma.fields.AwareDateTime()


class ResourceCalendarSchema(Schema):
    id = ma.fields.Integer()
    resource_id = ma.fields.Integer()
    label = ma.fields.String()
    address = ma.fields.Function(lambda c: outside_calendars.masked_address(c.url),
                                 metadata={"description": "The host only: the address is "
                                                          "a secret"})
    status = ma.fields.Function(lambda c: outside_calendars.state_of(c).status,
                                metadata={"description": "waiting (not fetched yet), ok "
                                                         "or failing"})
    status_text = ma.fields.Function(lambda c: outside_calendars.state_of(c).words)
    last_error = ma.fields.String(allow_none=True,
                                  metadata={"description": "What went wrong last time, in "
                                                           "words; null after a good fetch"})
    failures = ma.fields.Integer(metadata={"description": "Failed fetches in a row"})
    busy_count = ma.fields.Integer(metadata={"description": "Busy times kept from it"})
    capped = ma.fields.Boolean(metadata={"description": "More busy times than are kept: "
                                                        "the earliest are"})
    fetched_at = ma.fields.AwareDateTime(allow_none=True)
    last_success_at = ma.fields.AwareDateTime(allow_none=True)
    next_busy = ma.fields.Function(
        lambda c: BusyTimeSchema(many=True).dump([
            {"starts_at": begins, "ends_at": ends} for begins, ends in
            outside_calendars.next_busy_times([c.id])[c.id]]),
        metadata={"description": "The next three busy times from it"})


class ResourceCalendarCreateSchema(Schema):
    url = ma.fields.String(required=True, metadata={
        "description": "The calendar's iCal address (https, http or webcal)"})
    label = ma.fields.String(load_default="", validate=ma.validate.Length(max=LABEL_LENGTH),
                             metadata={"description": "Shown in lists; the host when empty"})


@blp.route("/provider/resources/<int:resource_id>/calendars")
class ResourceCalendarListViews(MethodView):
    @blp.login_required(roles=STAFF, scope="resources:read")
    @blp.response(200, ResourceCalendarSchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def get(self, resource_id):
        """A resource's outside calendars and how their last fetch went"""
        return outside_calendars.list_calendars(resource_id, scope=staff_scope())

    @blp.login_required(roles=STAFF, scope="resources:write")
    @blp.arguments(ResourceCalendarCreateSchema)
    @blp.response(201, ResourceCalendarSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema,
                      description="Added already, or the resource has as many as it may")
    def post(self, data, resource_id):
        """Subscribe to a calendar: its busy times block the resource (fetched at once,
        then every few minutes)"""
        return outside_calendars.add_calendar(resource_id, scope=staff_scope(), **data)


@blp.route("/provider/resources/<int:resource_id>/calendars/<int:calendar_id>")
class ResourceCalendarViews(MethodView):
    @blp.login_required(roles=STAFF, scope="resources:write")
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def delete(self, resource_id, calendar_id):
        """Unsubscribe: the calendar's busy times go with it"""
        outside_calendars.remove_calendar(resource_id, calendar_id, scope=staff_scope())


@blp.route("/provider/resources/<int:resource_id>/calendars/<int:calendar_id>/refresh")
class ResourceCalendarRefreshViews(MethodView):
    @blp.login_required(roles=STAFF, scope="resources:write")
    @blp.response(202, ResourceCalendarSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def post(self, resource_id, calendar_id):
        """Fetch now: the answer is the calendar as it stands (fetched already where jobs
        run inline, else soon)"""
        return outside_calendars.request_fetch(resource_id, calendar_id, scope=staff_scope())
