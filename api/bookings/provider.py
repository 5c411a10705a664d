"""Provider staff and their systems read the provider's bookings."""
from __future__ import annotations

from flask.views import MethodView

from api.blueprint import STAFF, Blueprint, staff_scope
from api.bookings.provider_schemas import ProviderBookingQueryArgsSchema, ProviderBookingSchema
from api.errors import ErrorSchema
from api.pagination import counted, page_of
from app.services import provider_booking_queries

blp = Blueprint("provider_bookings", __name__, url_prefix="/provider",
                description="Provider staff: your bookings, in the webhooks' shape")


@blp.route("/bookings")
class ProviderBookingListViews(MethodView):
    @blp.login_required(roles=STAFF, scope="bookings:read")
    @blp.arguments(ProviderBookingQueryArgsSchema, location="query")
    @blp.response(200, ProviderBookingSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Your bookings, newest first; filtered by status, start, offering, creation or
        customer"""
        return counted(pagination_parameters, provider_booking_queries.list_provider_bookings(
            scope=staff_scope(), **args, **page_of(pagination_parameters)))


@blp.route("/bookings/<reference>")
class ProviderBookingViews(MethodView):
    @blp.login_required(roles=STAFF, scope="bookings:read")
    @blp.response(200, ProviderBookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def get(self, reference):
        """One booking by its reference"""
        return provider_booking_queries.get_provider_booking(reference, scope=staff_scope())
