"""Calendar feeds: the feed itself (public: its secret address is the key), and making,
replacing or stopping the address of your own feed (customers) or your provider's
(staff)."""
from __future__ import annotations

import marshmallow as ma
from flask import Response, current_app, request, url_for
from flask.views import MethodView
from flask_jwt_extended import current_user

from api.blueprint import STAFF, Blueprint, staff_scope
from api.errors import ErrorSchema

from api.schemas import Schema
from app.extensions import limiter
from app.services import calendar_feeds

blp = Blueprint("calendar_feeds", __name__, url_prefix="/calendar-feeds",
                description="Bookings as iCalendar feeds for calendar apps")


class FeedAddressSchema(Schema):
    url = ma.fields.String(required=True, metadata={
        "description": "The feed's secret address, shown this once: subscribe to it"})
    webcal_url = ma.fields.String(required=True, metadata={
        "description": "The same as webcal://, which calendar apps open as a subscription"})


class FeedStatusSchema(Schema):
    active = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(allow_none=True, metadata={"description": "UTC"})
    last_read_at = ma.fields.DateTime(allow_none=True, metadata={
        "description": "When a calendar app last read it (UTC)"})


def _feed_rate_limit() -> str:
    return current_app.config.get("CALENDAR_FEED_RATE_LIMIT", "60 per minute")


def feed_address(token: str) -> dict:
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    url = base + url_for("calendar_feeds.FeedViews", token=token)
    return {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


def _status(status) -> dict:
    if status is None:
        return {"active": False, "created_at": None, "last_read_at": None}
    return {"active": True, "created_at": status.created_at,
            "last_read_at": status.last_read_at}


@blp.route("/<string:token>.ics")
class FeedViews(MethodView):
    decorators = [limiter.limit(_feed_rate_limit)]

    @blp.alt_response(200, description="text/calendar: the bookings from a week ago to a "
                                       "year ahead; ETag and Last-Modified, 304 when unchanged")
    @blp.alt_response(404, schema=ErrorSchema, description=(
        "Unknown, replaced or stopped address (`feed.not_found`)"))
    def get(self, token):
        """A calendar feed (no sign-in: the address is the secret)"""
        body = calendar_feeds.read_feed(token)
        response = Response(body.data, mimetype="text/calendar")
        response.set_etag(body.etag)
        response.last_modified = body.last_modified
        response.headers["Cache-Control"] = "private, max-age=300"
        return response.make_conditional(request)


@blp.route("/mine")
class CustomerFeedViews(MethodView):
    @blp.login_required()
    @blp.response(200, FeedStatusSchema)
    def get(self):
        """Whether your bookings' feed is on"""
        return _status(calendar_feeds.customer_feed_status(current_user.id))

    @blp.login_required()
    @blp.response(201, FeedAddressSchema)
    def post(self):
        """Make the secret address of your bookings' feed (a new one replaces the old)"""
        return feed_address(calendar_feeds.make_customer_feed(current_user.id))

    @blp.login_required()
    @blp.response(204)
    def delete(self):
        """Stop your feed: its address stops working"""
        calendar_feeds.stop_customer_feed(current_user.id)


@blp.route("/provider")
class ProviderFeedViews(MethodView):
    @blp.login_required(roles=STAFF, scope="calendar_feeds:read")
    @blp.response(200, FeedStatusSchema)
    def get(self):
        """Whether your provider's feed (every booking) is on"""
        scope = staff_scope()
        return _status(calendar_feeds.provider_feed_status(scope.provider_id, scope=scope))

    @blp.login_required(roles=STAFF, scope="calendar_feeds:write")
    @blp.response(201, FeedAddressSchema)
    def post(self):
        """Make the secret address of your provider's feed (a new one replaces the old)"""
        scope = staff_scope()
        return feed_address(calendar_feeds.make_provider_feed(scope.provider_id, scope=scope))

    @blp.login_required(roles=STAFF, scope="calendar_feeds:write")
    @blp.response(204)
    def delete(self):
        """Stop your provider's feed: its address stops working"""
        scope = staff_scope()
        calendar_feeds.stop_provider_feed(scope.provider_id, scope=scope)
