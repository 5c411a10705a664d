"""Storefront pages: server-rendered browsing for customers, on the same services as the API."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from app.errors import DomainError, NotFound
from app.services import browse
from app.services.search import OfferingQuery

bp = Blueprint("storefront", __name__, url_prefix="/shop")
PAGE_SIZE = 20


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
    return render_template("storefront/offering.html", offering=item, slots=slots,
                           maps_key=current_app.config.get("GOOGLE_MAPS_API_KEY"))


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    return render_template("storefront/message.html", message=error.message), error.status
