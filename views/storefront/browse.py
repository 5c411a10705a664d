"""Storefront: finding offerings and an offering's page."""
from __future__ import annotations

import uuid

from flask import abort, current_app, render_template, request

from app.errors import NotFound
from app.services import browse
from app.services.search import OfferingQuery
from views.storefront.blueprint import PAGE_SIZE, bp, major_units, pixel_event

# --- browsing ----------------------------------------------------------------------------

def _float(name: str) -> float | None:
    try:
        return float(request.args[name])
    except (KeyError, ValueError):
        return None


def _query() -> OfferingQuery:
    lat, lng = _float("lat"), _float("lng")
    near = (lat, lng) if lat is not None and lng is not None and abs(lat) <= 90 \
        and abs(lng) <= 180 else None
    radius = _float("radius_km")
    kind = request.args.get("kind") if request.args.get("kind") in ("service", "product") \
        else None
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 1000))
    return OfferingQuery(q=(request.args.get("q") or "").strip()[:200] or None, kind=kind,
                         near=near, radius_km=radius if near and radius and radius > 0 else None,
                         page=page, page_size=PAGE_SIZE)


@bp.route("/")
def offerings():
    query = _query()
    rows, total = browse.find_offerings(query)
    return render_template("storefront/offerings.html", rows=rows, total=total, query=query,
                           pages=max(1, -(-total // PAGE_SIZE)))


@bp.route("/offerings/<int:offering_id>")
def offering(offering_id: int):
    try:
        item = browse.get_offering(offering_id)
    except NotFound:
        abort(404)
    slots = browse.next_free_slots(offering_id, limit=10)
    view_content = pixel_event("ViewContent", {
        "content_type": "product", "content_id": f"offering-{item.id}",
        "content_name": item.name, "value": major_units(item.price_minor, item.currency),
        "currency": item.currency})
    return render_template("storefront/offering.html", offering=item, slots=slots,
                           product_options=browse.product_options(item),
                           maps_key=current_app.config.get("GOOGLE_MAPS_API_KEY"),
                           pixel_provider=item.provider, pixel_events=[view_content],
                           submission=uuid.uuid4().hex)


