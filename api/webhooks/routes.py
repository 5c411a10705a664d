"""Provider API for outgoing webhooks: endpoints, their delivery log, redelivery, test
events and secret rotation. Tenant-scoped: another provider's endpoint or delivery (and
any platform endpoint) answers 404. The secret is shown in full only in the answers to
create and rotate; everywhere else it is masked (``whsec_…abcd``)."""
from __future__ import annotations

import json

import marshmallow as ma
from flask.views import MethodView

from api.blueprint import STAFF, Blueprint, staff_scope
from api.errors import ErrorSchema
from api.fields import Id
from api.schemas import QueryArgsSchema, Schema
from app.models.webhooks import DELIVERY_STATUSES, DESCRIPTION_LENGTH, URL_LENGTH
from app.services import webhook_endpoints
from app.services.webhook_topics import PUBLIC_TOPICS

blp = Blueprint("webhook_endpoints", __name__, url_prefix="/provider",
                description="Outgoing webhooks: where events of your bookings and payments "
                            "are sent (Standard Webhooks, signed)")

TOPICS_HELP = ("Topics to send: any of " + ", ".join(PUBLIC_TOPICS)
               + "; or [\"*\"] for every topic, those added later included")


class WebhookEndpointSchema(Schema):
    id = ma.fields.Integer()
    url = ma.fields.String()
    description = ma.fields.String()
    topics = ma.fields.List(ma.fields.String(), metadata={"description": TOPICS_HELP})
    active = ma.fields.Boolean(metadata={"description": "False: nothing is sent (disabled "
                                                        "by staff or after failures)"})
    ordered = ma.fields.Boolean(metadata={
        "description": "True: one delivery at a time, in the order the events happened"})
    version = ma.fields.String(metadata={"description": "Payload version"})
    secret = ma.fields.Function(lambda e: webhook_endpoints.masked_secret(e.secret),
                                metadata={"description": "Masked; shown in full only when "
                                                         "created and when rotated"})
    previous_secret_expires_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Until then the previous secret signs "
                                                  "too (after a rotation)"})
    consecutive_failures = ma.fields.Integer()
    failing_since = ma.fields.AwareDateTime(allow_none=True)
    disabled_at = ma.fields.AwareDateTime(allow_none=True)
    disabled_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class WebhookEndpointWithSecretSchema(WebhookEndpointSchema):
    secret = ma.fields.String(metadata={
        "description": "The signing secret (whsec_…): store it now, it is not shown again"})


class WebhookEndpointCreateSchema(Schema):
    url = ma.fields.String(required=True, validate=ma.validate.Length(max=URL_LENGTH),
                           metadata={"description": "An https address of your system"})
    topics = ma.fields.List(ma.fields.String(), required=True,
                            metadata={"description": TOPICS_HELP})
    description = ma.fields.String(load_default="",
                                   validate=ma.validate.Length(max=DESCRIPTION_LENGTH))
    active = ma.fields.Boolean(load_default=True)
    ordered = ma.fields.Boolean(load_default=False)
    version = ma.fields.String(load_default=webhook_endpoints.CURRENT_VERSION,
                               validate=ma.validate.OneOf(webhook_endpoints.VERSIONS))


class WebhookEndpointPatchSchema(Schema):
    url = ma.fields.String(validate=ma.validate.Length(max=URL_LENGTH))
    topics = ma.fields.List(ma.fields.String(), metadata={"description": TOPICS_HELP})
    description = ma.fields.String(validate=ma.validate.Length(max=DESCRIPTION_LENGTH))
    active = ma.fields.Boolean(metadata={"description": "true re-enables (failures are "
                                                        "forgotten); false disables"})
    ordered = ma.fields.Boolean()
    version = ma.fields.String(validate=ma.validate.OneOf(webhook_endpoints.VERSIONS))


class RotateSecretSchema(Schema):
    overlap_hours = ma.fields.Float(
        load_default=None, allow_none=True, validate=ma.validate.Range(
            min=0, max=webhook_endpoints.MAX_OVERLAP_HOURS),
        metadata={"description": "How long the old secret keeps signing beside the new "
                                 "one (default 24; 0: not at all)"})


class WebhookDeliverySchema(Schema):
    id = ma.fields.Integer()
    message_id = ma.fields.String(metadata={"description": "The webhook-id header: the same "
                                                           "on every attempt"})
    topic = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending, succeeded, failed (given "
                                                       "up or refused) or cancelled"})
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.AwareDateTime(allow_none=True)
    occurred_at = ma.fields.AwareDateTime(metadata={"description": "When the event happened"})
    last_attempt_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class WebhookAttemptSchema(Schema):
    attempted_at = ma.fields.AwareDateTime()
    request_headers = ma.fields.Dict(metadata={"description": "As sent (signatures "
                                                              "shortened)"})
    response_status = ma.fields.Integer(allow_none=True)
    response_excerpt = ma.fields.String(allow_none=True,
                                        metadata={"description": "The first 2 KB"})
    duration_ms = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True, metadata={"description": "What went wrong, "
                                                                       "in words"})


class WebhookDeliveryDetailSchema(WebhookDeliverySchema):
    payload = ma.fields.Dict(metadata={"description": "The body sent (the envelope)"})
    attempt_log = ma.fields.List(ma.fields.Nested(WebhookAttemptSchema),
                                 metadata={"description": "Every attempt, newest first"})

    @ma.pre_dump
    def _from_detail(self, detail: webhook_endpoints.DeliveryDetail, **kwargs) -> dict:
        delivery = detail.delivery
        shown = {name: getattr(delivery, name) for name in WebhookDeliverySchema().fields}
        return {**shown, "payload": json.loads(delivery.payload),
                "attempt_log": detail.attempts}


class DeliveryQueryArgsSchema(QueryArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(DELIVERY_STATUSES))
    before_id = Id(metadata={"description": "Older than this delivery (paging)"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


NOT_FOUND = "Not yours, or missing"


@blp.route("/webhooks")
class WebhookEndpointListViews(MethodView):
    @blp.login_required(roles=STAFF, scope="webhooks:read")
    @blp.response(200, WebhookEndpointSchema(many=True))
    def get(self):
        """Your webhook endpoints"""
        return webhook_endpoints.list_endpoints(scope=staff_scope())

    @blp.login_required(roles=STAFF, scope="webhooks:write")
    @blp.arguments(WebhookEndpointCreateSchema)
    @blp.response(201, WebhookEndpointWithSecretSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="As many endpoints as allowed")
    @blp.alt_response(422, schema=ErrorSchema, description="A bad address or unknown topic")
    def post(self, data):
        """Add an endpoint; the answer carries its signing secret, shown only now"""
        return webhook_endpoints.create_endpoint(scope=staff_scope(), **data)


@blp.route("/webhooks/<int:endpoint_id>")
class WebhookEndpointViews(MethodView):
    @blp.login_required(roles=STAFF, scope="webhooks:read")
    @blp.response(200, WebhookEndpointSchema)
    @blp.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
    def get(self, endpoint_id):
        """One endpoint"""
        return webhook_endpoints.get_endpoint(endpoint_id, scope=staff_scope())

    @blp.login_required(roles=STAFF, scope="webhooks:write")
    @blp.arguments(WebhookEndpointPatchSchema)
    @blp.response(200, WebhookEndpointSchema)
    @blp.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
    @blp.alt_response(422, schema=ErrorSchema, description="A bad address or unknown topic")
    def patch(self, data, endpoint_id):
        """Change an endpoint; `active: true` re-enables a disabled one"""
        return webhook_endpoints.update_endpoint(endpoint_id, scope=staff_scope(), **data)

    @blp.login_required(roles=STAFF, scope="webhooks:write")
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
    def delete(self, endpoint_id):
        """Remove an endpoint, with its delivery log"""
        webhook_endpoints.delete_endpoint(endpoint_id, scope=staff_scope())


@blp.route("/webhooks/<int:endpoint_id>/rotate-secret")
class WebhookSecretViews(MethodView):
    @blp.login_required(roles=STAFF, scope="webhooks:write")
    @blp.arguments(RotateSecretSchema)
    @blp.response(200, WebhookEndpointWithSecretSchema)
    @blp.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
    def post(self, data, endpoint_id):
        """A new signing secret (shown only now); the old one signs too during the overlap"""
        return webhook_endpoints.rotate_secret(endpoint_id, scope=staff_scope(), **data)


@blp.route("/webhooks/<int:endpoint_id>/test")
class WebhookTestViews(MethodView):
    @blp.login_required(roles=STAFF, scope="webhooks:write")
    @blp.response(202, WebhookDeliverySchema)
    @blp.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
    @blp.alt_response(409, schema=ErrorSchema, description="The endpoint is disabled")
    def post(self, endpoint_id):
        """Send a `webhook.test` event to the endpoint now"""
        return webhook_endpoints.send_test_event(endpoint_id, scope=staff_scope())


@blp.route("/webhooks/<int:endpoint_id>/deliveries")
class WebhookDeliveryListViews(MethodView):
    @blp.login_required(roles=STAFF, scope="webhooks:read")
    @blp.arguments(DeliveryQueryArgsSchema, location="query")
    @blp.response(200, WebhookDeliverySchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
    def get(self, args, endpoint_id):
        """The endpoint's deliveries, newest first"""
        return webhook_endpoints.list_deliveries(endpoint_id, scope=staff_scope(), **args)


@blp.route("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>")
class WebhookDeliveryViews(MethodView):
    @blp.login_required(roles=STAFF, scope="webhooks:read")
    @blp.response(200, WebhookDeliveryDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
    def get(self, endpoint_id, delivery_id):
        """One delivery with its body and every attempt (request headers, answer, time)"""
        return webhook_endpoints.get_delivery(endpoint_id, delivery_id, scope=staff_scope())


@blp.route("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
class WebhookRedeliveryViews(MethodView):
    @blp.login_required(roles=STAFF, scope="webhooks:write")
    @blp.response(202, WebhookDeliverySchema)
    @blp.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
    @blp.alt_response(409, schema=ErrorSchema, description="The endpoint is disabled")
    def post(self, endpoint_id, delivery_id):
        """Send the delivery again now (the same body and webhook-id)"""
        return webhook_endpoints.redeliver(endpoint_id, delivery_id, scope=staff_scope())
