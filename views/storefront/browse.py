"""Storefront: finding offerings and an offering's page."""
from __future__ import annotations

import uuid

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from limits import parse as parse_limit

from app.errors import DomainError, NotFound
from app.extensions import limiter
from app.models.catalog import SERVICE
from app.services import browse, images, places
from app.services.branding import branding_of
from views.storefront.blueprint import PAGE_SIZE, bp, major_units, pixel_event
from views.storefront.people import PersonChoice, person_choice
from views.storefront.search_form import RADII_KM, SearchForm
from views.storefront.time_picker import build_picker

# --- browsing ----------------------------------------------------------------------------

@bp.route("/")
def offerings():
    form = SearchForm.from_request()
    place_problem = None
    if form.needs_place_lookup:
        looked_up = _look_up(form)
        if isinstance(looked_up, SearchForm):
            return redirect(looked_up.url())
        place_problem = looked_up
    category_ids = browse.category_ids_named(form.category) if form.category else None
    rows, total = browse.storefront_results(form.query(category_ids))
    return render_template(
        "storefront/offerings.html", rows=rows, total=total, form=form,
        place_problem=place_problem, categories=browse.list_categories(),
        place_search=places.place_search_available(), radii=RADII_KM,
        pages=max(1, -(-total // PAGE_SIZE)))


def _look_up(form: SearchForm) -> SearchForm | str:
    """The search with the typed place's point, or what to tell the customer."""
    if not _place_lookup_allowed():
        return gettext("Too many places were looked up from here. Wait a minute and try "
                       "again.")
    try:
        place = places.find_place(form.place)
    except DomainError as error:
        return _place_problem(error, form.place)
    return form.with_place(place.lat, place.lng)


def _place_problem(error: DomainError, typed: str) -> str:
    if error.code == "place.not_found":
        return gettext("We could not find “%(place)s”. Try a city or a street address.",
                       place=typed)
    if error.code == "place.not_configured":
        return gettext("Searching by a typed place is not available here. Use your "
                       "location instead.")
    return gettext("Finding places is not working right now. Try again in a moment, or "
                   "use your location.")


def _place_lookup_allowed() -> bool:
    """Each look-up costs a request to Google: a few a minute per client address."""
    if not limiter.enabled or limiter.limiter is None:
        return True
    item = parse_limit(current_app.config["PLACE_SEARCH_RATE_LIMIT"])
    return limiter.limiter.hit(item, "storefront-place", request.remote_addr or "-")


@bp.route("/providers/<slug>")
def provider(slug: str):
    try:
        shop = browse.get_provider_by_slug(slug)
    except NotFound:
        abort(404)
    form = SearchForm.from_request()
    category_ids = browse.category_ids_named(form.category, provider_id=shop.id) \
        if form.category else None
    rows, total = browse.storefront_results(
        form.query(category_ids, provider_id=shop.id))
    return render_template(
        "storefront/provider.html", shop=shop, rows=rows, total=total, form=form,
        categories=browse.list_categories(provider_id=shop.id),
        locations=browse.provider_locations(shop.id), branding=branding_of(shop),
        maps_key=current_app.config.get("GOOGLE_MAPS_API_KEY"),
        pixel_provider=shop, pages=max(1, -(-total // PAGE_SIZE)))


@bp.route("/offerings/<int:offering_id>")
def offering(offering_id: int):
    return offering_page(offering_id)


def offering_page(offering_id: int, *, notice: str | None = None, status: int = 200):
    """The offering with its time picker (services) or options (products); ``notice``
    says why the customer is choosing again (a time taken meanwhile). A service done by
    staff: the picker shows the times of the request's ``resource`` (the customer's
    choice of person), every link of it keeping that choice."""
    try:
        item = browse.get_offering(offering_id)
    except NotFound:
        abort(404)
    choice, picker = PersonChoice((), None), None
    if item.kind == SERVICE:
        choice = person_choice(item.id)
        picker = build_picker(item.id, item.provider.timezone or "UTC", waitlist=True,
                              people=choice.people, resource_id=choice.resource_id)
    chosen = {"resource": choice.resource_id}
    view_content = pixel_event("ViewContent", {
        "content_type": "product", "content_id": f"offering-{item.id}",
        "content_name": item.name, "value": major_units(item.price_minor, item.currency),
        "currency": item.currency})
    return render_template(
        "storefront/offering.html", offering=item, picker=picker, notice=notice,
        person_problem=choice.problem,
        picker_url=lambda **args: url_for(".offering", offering_id=item.id,
                                          **{**chosen, **args}),
        pick_url=lambda free: url_for(".review", offering_id=item.id, slot_id=free.slot_id,
                                      quantity=picker.quantity, **chosen),
        product_options=browse.product_options(item),
        picture=images.pictures_of([item.id]).get(item.id), branding=branding_of(item.provider),
        maps_key=current_app.config.get("GOOGLE_MAPS_API_KEY"),
        pixel_provider=item.provider, pixel_events=[view_content],
        submission=uuid.uuid4().hex), status


