"""Provider staff manage their resources (staff, rooms, equipment), which offerings they
do, and their time off; anyone reads who can do an offering. A foreign provider's id
answers 404."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.blueprint import STAFF, Blueprint, staff_scope
from api.errors import ErrorSchema
from api.fields import Id, Instant
from api.schemas import Schema
from app.models.resources import RESOURCE_KINDS
from app.services import browse, resources

blp = Blueprint("resources", __name__, url_prefix="",
                description="Staff, rooms and equipment: who does what, and when they are off")


class ResourceSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    kind = ma.fields.String(load_default="staff", validate=ma.validate.OneOf(RESOURCE_KINDS),
                            metadata={"description": "staff, room or equipment: an offering "
                                                     "needs one of each kind it is linked to"})
    kind_label = ma.fields.Function(lambda r: resources.kind_label(r.kind), dump_only=True)
    active = ma.fields.Boolean(load_default=True)


class ResourcePatchSchema(Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=120))
    kind = ma.fields.String(validate=ma.validate.OneOf(RESOURCE_KINDS))
    active = ma.fields.Boolean()


class PublicResourceSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.String()
    kind_label = ma.fields.Function(lambda r: resources.kind_label(r.kind))


class OfferingResourcesSchema(Schema):
    resource_ids = ma.fields.List(Id(), required=True, validate=ma.validate.Length(max=100),
                                  metadata={"description": "Replaces the list; [] for none"})


class TimeOffSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    starts_at = Instant(required=True, metadata={"description": "With its offset"})
    ends_at = Instant(required=True)
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))


@blp.route("/provider/resources")
class ResourceListViews(MethodView):
    @blp.login_required(roles=STAFF, scope="resources:read")
    @blp.response(200, ResourceSchema(many=True))
    def get(self):
        """Your resources, by kind and name"""
        return resources.list_resources(scope=staff_scope())

    @blp.login_required(roles=STAFF, scope="resources:write")
    @blp.arguments(ResourceSchema)
    @blp.response(201, ResourceSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="The name is taken")
    def post(self, data):
        """Add a resource"""
        resource = resources.create_resource(scope=staff_scope(), name=data["name"],
                                             kind=data["kind"])
        if not data["active"]:
            resource = resources.update_resource(resource.id, scope=staff_scope(),
                                                 active=False)
        return resource


@blp.route("/provider/resources/<int:resource_id>")
class ResourceViews(MethodView):
    @blp.login_required(roles=STAFF, scope="resources:write")
    @blp.arguments(ResourcePatchSchema)
    @blp.response(200, ResourceSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema, description="The name is taken")
    def patch(self, changes, resource_id):
        """Rename, change the kind, or switch a resource off (its times stop being offered)"""
        return resources.update_resource(resource_id, scope=staff_scope(), **changes)


@blp.route("/provider/offerings/<int:offering_id>/resources")
class OfferingResourceViews(MethodView):
    @blp.login_required(roles=STAFF, scope="resources:write")
    @blp.arguments(OfferingResourcesSchema)
    @blp.response(200, ResourceSchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema, description="Not your offering")
    @blp.alt_response(422, schema=ErrorSchema, description="Not your resources, or a product")
    def put(self, data, offering_id):
        """Who can do the offering: a booking needs one free of each kind among them"""
        return resources.set_offering_resources(offering_id, data["resource_ids"],
                                                scope=staff_scope())


@blp.route("/provider/resources/<int:resource_id>/time-off")
class TimeOffListViews(MethodView):
    @blp.login_required(roles=STAFF, scope="resources:read")
    @blp.response(200, TimeOffSchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def get(self, resource_id):
        """A resource's time off"""
        return resources.list_time_off(resource_id, scope=staff_scope())

    @blp.login_required(roles=STAFF, scope="resources:write")
    @blp.arguments(TimeOffSchema)
    @blp.response(201, TimeOffSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def post(self, data, resource_id):
        """Time off: the resource's times in it are neither offered nor bookable"""
        return resources.add_time_off(resource_id, scope=staff_scope(), **data)


@blp.route("/provider/resources/time-off/<int:busy_id>")
class TimeOffViews(MethodView):
    @blp.login_required(roles=STAFF, scope="resources:write")
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def delete(self, busy_id):
        """Remove time off"""
        resources.delete_time_off(busy_id, scope=staff_scope())


@blp.route("/offerings/<int:offering_id>/resources")
class PublicOfferingResourceViews(MethodView):
    @blp.response(200, PublicResourceSchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema, description="No such active offering")
    def get(self, offering_id):
        """Who can do an offering (choose one with `resource_id` when booking)"""
        browse.visible_offering_provider(offering_id)
        return resources.resources_of_offering(offering_id)
