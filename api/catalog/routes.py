"""The public catalog: no sign-in. Cached in Redis when configured; ETags on every GET."""
from __future__ import annotations

from flask.views import MethodView

from api.blueprint import Blueprint
from api.catalog.schemas import (
    FreeDaysArgsSchema,
    FreeDaysSchema,
    FreeTimesArgsSchema,
    FreeTimesSchema,
    OfferingDetailSchema,
    OfferingQueryArgsSchema,
    OfferingSchema,
    ProviderSchema,
    SlotQueryArgsSchema,
    SlotSchema,
)
from api.errors import ErrorSchema
from api.pagination import PaginationArgsSchema, pagination_header
from api.responses import cached_json
from app.services import browse, free_times
from app.services.search import OfferingQuery

blp = Blueprint("catalog", __name__, url_prefix="", description="Public catalog")

QUERY_FIELDS = {"category": "category_id", "provider": "provider_id"}
# Built once: a schema instance costs more to construct (it deep-copies its fields) than
# to dump a row with, and dumping keeps no state on it.
OFFERINGS = OfferingSchema(many=True)
OFFERING_DETAIL = OfferingDetailSchema()
SLOTS = SlotSchema(many=True)


def _documented(schema, many=False, paginated=False):
    """The answers of a cached GET, documented as ``@blp.etag`` and ``@blp.paginate``
    document theirs (the same header components). Neither decorator fits here: both
    need the view's data, and these views answer a cached response."""
    headers = {"ETag": "ETAG", **({"X-Pagination": "PAGINATION"} if paginated else {})}

    def decorator(func):
        func = blp.alt_response(200, schema=schema(many=many) if many else schema,
                                success=True, description="OK", headers=headers)(func)
        return blp.alt_response(304, description="Not modified (ETag matched)",
                                success=True)(func)
    return decorator


@blp.route("/providers")
class ProviderViews(MethodView):
    @blp.arguments(PaginationArgsSchema, location="query")
    @_documented(ProviderSchema, many=True, paginated=True)
    def get(self, args):
        """Active providers, by name"""
        def compute():
            rows, total = browse.list_providers(**args)
            return {"body": ProviderSchema(many=True).dump(rows),
                    "headers": pagination_header(total=total, **args)}
        return cached_json("providers", args, compute)


@blp.route("/providers/<int:provider_id>")
class ProviderByIdViews(MethodView):
    @_documented(ProviderSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such active provider")
    def get(self, provider_id):
        """One provider"""
        return cached_json("provider", {"id": provider_id}, lambda: {
            "body": ProviderSchema().dump(browse.get_provider(provider_id))})


@blp.route("/offerings")
class OfferingViews(MethodView):
    @blp.arguments(OfferingQueryArgsSchema, location="query")
    @_documented(OfferingSchema, many=True, paginated=True)
    def get(self, args):
        """Search and filter offerings

        `q` matches words of the name and description (each as a prefix). `near=lat,lng`
        with `radius_km` keeps offerings within that distance and adds `distance_km`.
        `available_from`/`available_to` keep services with a free place in that window
        (and products in stock). Default order: relevance with `q`, else name.
        `sort=price` / `-price` order by currency first, then by price within it (prices
        in different currencies are never compared); `sort=soonest` puts services with
        the soonest free time first, then the offerings without one, newest first.
        """
        query = OfferingQuery(**{QUERY_FIELDS.get(k, k): v for k, v in args.items()})

        def compute():
            rows, total = browse.find_offerings(query)
            body = OFFERINGS.dump([offering for offering, _ in rows])
            for item, (_, distance) in zip(body, rows):
                item["distance_km"] = distance
            return {"body": body, "headers": pagination_header(
                total=total, page=query.page, page_size=query.page_size)}
        # Which services have a free place in a window changes with every booking.
        by_availability = "available_from" in args or "available_to" in args
        return cached_json("offerings", args, compute, cacheable=not by_availability)


@blp.route("/offerings/<int:offering_id>")
class OfferingByIdViews(MethodView):
    @_documented(OfferingDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such active offering")
    def get(self, offering_id):
        """An offering with its variants, location and next free slots"""
        def compute():
            return {"body": OFFERING_DETAIL.dump(browse.get_offering(offering_id))}

        def with_next_free_slots(body):
            # Free places change with every booking: read beside the cached offering.
            return {**body, "next_slots": SLOTS.dump(browse.next_free_slots(offering_id))}
        return cached_json("offering", {"id": offering_id}, compute,
                           fresh=with_next_free_slots)


@blp.route("/offerings/<int:offering_id>/slots")
class OfferingSlotViews(MethodView):
    @blp.arguments(SlotQueryArgsSchema, location="query")
    @_documented(SlotSchema, many=True)
    @blp.alt_response(404, schema=ErrorSchema, description="No such active offering")
    def get(self, args, offering_id):
        """Slots of a service in a window (at most 62 days), with the places left"""
        window = {"start": args.get("start"), "end": args.get("end")}
        computed = []

        def compute():  # the slots' times, cached; their places are read on every request
            computed.append(True)
            return {"body": SLOTS.dump(browse.list_slots(offering_id, **window))}

        def with_live_places(body):
            # Places just computed (a miss, or no cache) are current: no second read.
            return browse.with_live_places(body, only_free=args["only_free"],
                                           read=not computed)
        return cached_json("slots", {"id": offering_id, **window}, compute,
                           fresh=with_live_places)


# Free days and times are read on every request (any booking changes them): not cached.

@blp.route("/offerings/<int:offering_id>/free-days")
class OfferingFreeDayViews(MethodView):
    @blp.arguments(FreeDaysArgsSchema, location="query")
    @blp.response(200, FreeDaysSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such active offering")
    def get(self, args, offering_id):
        """The days of a month (the provider's calendar) with a free time for `quantity`"""
        return free_times.free_days(offering_id, month=args["month"],
                                    quantity=args["quantity"],
                                    resource_id=args["resource_id"])


@blp.route("/offerings/<int:offering_id>/free-times")
class OfferingFreeTimeViews(MethodView):
    @blp.arguments(FreeTimesArgsSchema, location="query")
    @blp.response(200, FreeTimesSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such active offering")
    def get(self, args, offering_id):
        """One day's free times for `quantity`, by part of the day, in the provider's zone"""
        return free_times.free_times_on(offering_id, day=args["date"],
                                        quantity=args["quantity"],
                                        resource_id=args["resource_id"])
