"""Provider staff manage their own catalog. A foreign provider's id answers 404."""
from __future__ import annotations

from dataclasses import asdict

from flask.views import MethodView

from api.blueprint import STAFF, Blueprint, staff_scope
from api.errors import ErrorSchema
from api.idempotency import idempotent
from api.manage.schemas import (
    CategorySchema,
    ClosedDaySchema,
    GenerateSlotsSchema,
    GenerationReportSchema,
    ManagedLocationSchema,
    ManagedOfferingSchema,
    ManagedVariantSchema,
    RuleSchema,
)
from api.pagination import counted, page_of
from app.models import Variant
from app.services import availability, catalog, tenancy

blp = Blueprint("manage", __name__, url_prefix="/provider",
                description="Provider staff: your own catalog, locations and availability")
# A unique rule only the database can see at commit (e.g. a second closed day on a date).
CLASH = "Clashes with an existing row"


def register_crud(path: str, kind: catalog.RowKind, schema_cls, name: str,
                  *, area: str, updatable: bool = True) -> None:
    """List/create at ``path``, get/update/delete at ``path/<id>``, for one row kind;
    an API key needs ``<area>:read`` to read and ``<area>:write`` to change."""
    read, write = f"{area}:read", f"{area}:write"

    class ListViews(MethodView):
        @blp.login_required(roles=STAFF, scope=read)
        @blp.response(200, schema_cls(many=True))
        @blp.paginate()
        def get(self, pagination_parameters):
            return counted(pagination_parameters, catalog.list_rows(
                kind, scope=staff_scope(), **page_of(pagination_parameters)))

        @blp.login_required(roles=STAFF, scope=write)
        @idempotent
        @blp.arguments(schema_cls)
        @blp.response(201, schema_cls)
        @blp.alt_response(422, schema=ErrorSchema, description="A rule of the catalog says no")
        @blp.alt_response(409, schema=ErrorSchema, description=CLASH)
        def post(self, data):
            return catalog.create(kind, scope=staff_scope(), data=data)

    class ItemViews(MethodView):
        @blp.login_required(roles=STAFF, scope=read)
        @blp.response(200, schema_cls)
        @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
        def get(self, row_id):
            return tenancy.get_owned(kind.model, row_id, scope=staff_scope(), label=kind.label)

        if updatable:
            @blp.login_required(roles=STAFF, scope=write)
            @blp.arguments(schema_cls(partial=True))
            @blp.response(200, schema_cls)
            @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
            @blp.alt_response(409, schema=ErrorSchema, description=CLASH)
            def patch(self, changes, row_id):
                return catalog.update(kind, row_id=row_id, scope=staff_scope(),
                                      changes=changes)

        @blp.login_required(roles=STAFF, scope=write)
        @blp.response(204)
        @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
        @blp.alt_response(409, schema=ErrorSchema, description="Still in use")
        def delete(self, row_id):
            catalog.delete(kind, row_id=row_id, scope=staff_scope())

    ListViews.__name__ = f"{name}Views"
    ItemViews.__name__ = f"{name}ByIdViews"
    blp.route(path)(ListViews)
    blp.route(f"{path}/<int:row_id>")(ItemViews)


register_crud("/categories", catalog.CATEGORY, CategorySchema, "Category", area="catalog")
register_crud("/locations", catalog.LOCATION, ManagedLocationSchema, "Location",
              area="catalog")
register_crud("/offerings", catalog.OFFERING, ManagedOfferingSchema, "Offering",
              area="catalog")
register_crud("/rules", catalog.RULE, RuleSchema, "AvailabilityRule", area="availability")
register_crud("/closed-days", catalog.CLOSED_DAY, ClosedDaySchema, "ClosedDay",
              area="availability", updatable=False)


@blp.route("/offerings/<int:offering_id>/variants")
class VariantViews(MethodView):
    @blp.login_required(roles=STAFF, scope="catalog:read")
    @blp.response(200, ManagedVariantSchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def get(self, offering_id):
        """Variants of one of your offerings"""
        scope = staff_scope()
        tenancy.get_owned(catalog.OFFERING.model, offering_id, scope=scope, label="offering")
        rows, _ = catalog.list_rows(catalog.VARIANT, scope=scope, page=1,
                                    page_size=1000, where=Variant.offering_id == offering_id)
        return rows

    @blp.login_required(roles=STAFF, scope="catalog:write")
    @idempotent
    @blp.arguments(ManagedVariantSchema)
    @blp.response(201, ManagedVariantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema, description=CLASH)
    def post(self, data, offering_id):
        """Add a variant (SKU unique per provider)"""
        scope = staff_scope()
        tenancy.get_owned(catalog.OFFERING.model, offering_id, scope=scope, label="offering")
        return catalog.create(catalog.VARIANT, scope=scope,
                              data={**data, "offering_id": offering_id})


@blp.route("/variants/<int:row_id>")
class VariantByIdViews(MethodView):
    @blp.login_required(roles=STAFF, scope="catalog:write")
    @blp.arguments(ManagedVariantSchema(partial=True))
    @blp.response(200, ManagedVariantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    @blp.alt_response(409, schema=ErrorSchema, description=CLASH)
    def patch(self, changes, row_id):
        return catalog.update(catalog.VARIANT, row_id=row_id, scope=staff_scope(),
                              changes=changes)

    @blp.login_required(roles=STAFF, scope="catalog:write")
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def delete(self, row_id):
        catalog.delete(catalog.VARIANT, row_id=row_id, scope=staff_scope())


@blp.route("/slots/generate")
class SlotGenerationViews(MethodView):
    @blp.login_required(roles=STAFF, scope="availability:write")
    @blp.arguments(GenerateSlotsSchema)
    @blp.response(200, GenerationReportSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such offering of yours")
    def post(self, data):
        """Generate your slots from the rules (idempotent; never removes booked slots)"""
        scope = staff_scope()
        if "offering_id" in data:
            tenancy.get_owned(catalog.OFFERING.model, data["offering_id"], scope=scope,
                              label="offering")
        report = availability.generate_slots(scope=scope,
                                             offering_id=data.get("offering_id"),
                                             days=data["days"])
        return asdict(report)
