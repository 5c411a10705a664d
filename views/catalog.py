"""Console screens for the catalog: categories, locations, offerings, variants.

Their show pages read like the lists: prices in major units with the currency, times on the
provider's clock with the zone, codes in words and labels a provider would write; a
product's page leaves out what only services have (duration, who does it, buffers, the
time rules)."""
from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget
from markupsafe import Markup, escape
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.errors import DomainError, ValidationFailed
from app.models import Category, Location, Offering, Variant
from app.models.catalog import SERVICE
from app.services import catalog, catalog_rules, geocoding, images
from app.services.money import format_money
from views.base import console_scope, current_user, user_provider_id
from views.catalog_base import CatalogInterface, CatalogRowView
from views.console import local_column
from views.form_fields import KIND_NAMES, kind_select
from views.money_fields import MoneyField, currency_select
from views.picture_fields import forget_replaced, picture_upload, remember_replaced, uploaded_bytes


class CategoryView(CatalogRowView):
    datamodel = CatalogInterface(Category, catalog.CATEGORY)
    row_kind = catalog.CATEGORY
    list_columns = ["name", "parent", "position", "provider"]
    show_columns = ["name", "parent", "children", "position", "provider"]
    add_columns = edit_columns = ["provider", "name", "parent", "position"]
    search_columns = ["name", "parent", "provider"]
    order_columns = ["name", "position"]
    label_columns = {"parent": "Inside", "children": "Subcategories",
                     "position": "Position in lists"}


def map_embed(coordinates) -> Markup:
    """An embedded map at (lat, lng), only where a Maps key is configured."""
    key = current_app.config.get("GOOGLE_MAPS_API_KEY")
    if not key or not coordinates:
        return Markup("")
    lat, lng = coordinates
    src = (f"https://www.google.com/maps/embed/v1/place?key={escape(key)}"
           f"&q={float(lat)},{float(lng)}")
    return Markup(f'<iframe title="map" width="420" height="260" style="border:0" '
                  f'loading="lazy" src="{src}"></iframe>')


# Where a location's coordinates come from, in words (geocoding's statuses).
GEOCODE_WORDS = {
    geocoding.MANUAL: "Typed by hand", geocoding.PENDING: "Waiting for Google Maps",
    geocoding.OK: "Found by Google Maps", geocoding.ZERO_RESULTS: "Address not found",
    geocoding.DENIED: "Refused by Google Maps", geocoding.ERROR: "Failed",
}


class LocationView(CatalogRowView):
    datamodel = CatalogInterface(Location, catalog.LOCATION, display={
        "geocode_status": lambda row: GEOCODE_WORDS.get(
            row.geocode_status, (row.geocode_status or "").replace("_", " ").capitalize()),
        "geocoded_at": local_column("geocoded_at")})
    row_kind = catalog.LOCATION
    list_columns = ["name", "address", "lat", "lng", "geocode_status", "provider"]
    show_columns = ["provider", "name", "address", "lat", "lng", "place_id", "geocoded_at",
                    "geocode_status", "geocode_error", "coordinates"]
    add_columns = edit_columns = ["provider", "name", "address", "lat", "lng"]
    search_columns = ["name", "address", "geocode_status", "provider"]
    order_columns = ["name", "geocode_status"]
    formatters_columns = {"coordinates": map_embed}
    description_columns = {
        "address": "With a Google Maps key the address is geocoded after saving.",
        "lat": "Latitude, -90 to 90. Enter by hand when no Maps key is configured.",
        "lng": "Longitude, -180 to 180.",
    }
    label_columns = {"lat": "Latitude", "lng": "Longitude", "place_id": "Google place id",
                     "geocoded_at": "Geocoded (local time)", "geocode_status": "Geocoding",
                     "geocode_error": "Geocoding problem", "coordinates": "Map"}
    method_permission_name = {"regeocode": "regeocode"}  # checked as "can_regeocode"

    @action("regeocode", "Geocode again", "Geocode the address again?", "fa-map-marker",
            multiple=False)
    def regeocode(self, item):
        try:
            asked = geocoding.regeocode_location(
                item.id, scope=console_scope())
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash("Geocoding requested." if asked else
                  "Not geocoded: no Maps key is configured or the address is empty.",
                  "info" if asked else "warning")
        return redirect(self.get_redirect())


def _form_provider_currency(form) -> str | None:
    """The currency of the provider a form saves for: the one picked (admins) or the
    signed-in staff's own."""
    if "provider" in form:
        provider = form["provider"].data
        return provider.currency if provider is not None else None
    provider_id = user_provider_id(current_user())
    return catalog_rules.provider_currency(provider_id) if provider_id else None


def _offering_form_currency(form) -> str | None:
    return form.currency.data or _form_provider_currency(form)


def _variant_form_currency(form) -> str | None:
    offering = form.offering.data
    return offering.currency if offering is not None else None


def hours_link(offering) -> Markup:
    """A link to the offering's weekly-hours editor (services only: products have none)."""
    if offering.kind != SERVICE:
        return Markup("")
    href = url_for("WeeklyHoursView.edit", offering_id=offering.id)
    return Markup(f'<a class="btn btn-xs btn-default opening-hours-link" href="{escape(href)}">'
                  f'<i class="fa fa-clock-o"></i> Opening hours</a>')


def _whole_number(label: str, low: int, high: int, default: int | None, description: str):
    return IntegerField(label, validators=[Optional(), NumberRange(low, high)],
                        default=default, description=description)


def booking_rule_fields() -> dict:
    """The offering's booking rules on its form; an empty box keeps the default (none for
    the per-customer limits). The ranges are catalog_rules'; the service checks them too."""
    return {
        "pay_at_venue": BooleanField("Paid at the venue", description=(
            "Bookings are confirmed at once and paid on the day.")),
        "free_cancellation_hours": _whole_number(
            "Free cancellation until (hours before)", 0, 24 * 365, 24,
            "Customers cancel or move free of charge until this many hours before."),
        "min_notice_minutes": _whole_number(
            "Minimum notice (minutes)", 0, catalog_rules.MAX_NOTICE_MINUTES, 0,
            "No booking or move to a time that starts sooner, e.g. 120 for two hours."),
        "booking_horizon_days": _whole_number(
            "Bookable up to (days ahead)", 1, catalog_rules.MAX_HORIZON_DAYS, 60,
            "No booking or move further ahead than this."),
        "max_active_bookings_per_customer": _whole_number(
            "Bookings per customer", 1, 1000, None,
            "Upcoming bookings of this one customer may hold at once. Empty: no limit."),
        "max_held_places_per_customer": _whole_number(
            "Unpaid places per customer", 1, 1000, None,
            "Places one customer may hold while not paid yet, so nobody holds a whole "
            "class. Empty: no limit."),
    }


def resource_fields() -> dict:
    """Who or what does a service, and the time they need around each booking."""
    note = ("Customers do not see it: the resource is blocked this long {} each "
            "booking, so no other booking is given that time.")
    return {
        "resources_shared": BooleanField(
            "Everyone booked at a time shares them", description=(
                "For a class: one teacher (and one room) for everyone booked on it. "
                "Unticked: each booking has them to itself, as for a haircut.")),
        "buffer_before_minutes": _whole_number(
            "Buffer before (minutes)", 0, catalog_rules.MAX_BUFFER_MINUTES, 0,
            note.format("before") + " E.g. 10 to set up."),
        "buffer_after_minutes": _whole_number(
            "Buffer after (minutes)", 0, catalog_rules.MAX_BUFFER_MINUTES, 0,
            note.format("after") + " E.g. 15 to clean up."),
    }


def check_done_by(offering) -> None:
    """The rules of ``resources.set_offering_resources``, before the offering is saved:
    only the offering's provider's resources, and only for a service."""
    chosen = list(offering.resources or [])
    if any(resource.provider_id != offering.provider_id for resource in chosen):
        raise ValidationFailed("resource.not_found", "Done by: choose this provider's "
                               "resources.", {"resources": ["Choose this provider's resources."]})
    if chosen and offering.kind != SERVICE:
        raise ValidationFailed("resource.not_for_products", "Done by: only services need "
                               "resources; leave it empty for a product.",
                               {"resources": ["Products need none."]})


def offering_picture(offering) -> Markup:
    """The offering's uploaded picture as customers see it (a thumbnail, while they can
    see it) with what it shows; nothing when it has none."""
    image = images.pictures_of([offering.id]).get(offering.id)
    if image is None:
        return Markup("")
    text = escape(image.alt_text or "")
    provider = offering.provider
    if not (offering.active and provider is not None and provider.active):
        # Not served to anyone while hidden from customers: no broken picture here.
        return Markup(f'{text} <small class="text-muted">(customers see it once the '
                      f'offering is active)</small>')
    src = url_for("storefront.picture", image_id=image.id, version=image.version,
                  size="thumb")
    return Markup(f'<img class="offering-picture" src="{escape(src)}" alt="{text}" '
                  f'width="{image.thumb_width}" height="{image.thumb_height}">'
                  f'<span class="offering-picture-text">{text}</span>')


def web_links(urls) -> Markup:
    """Addresses as links, one a line."""
    return Markup("<br>").join(
        Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(url)
        for url in urls or [])


def no_limit(column: str):
    """A limit that may be empty: "No limit" then."""
    return lambda row: "No limit" if getattr(row, column) is None else getattr(row, column)


# On a product's page: what only services have is left out.
SERVICE_ONLY = ("duration_minutes", "free_cancellation_hours", "min_notice_minutes",
                "booking_horizon_days", "resources", "resources_shared",
                "buffer_before_minutes", "buffer_after_minutes")


class OfferingView(CatalogRowView):
    datamodel = CatalogInterface(Offering, catalog.OFFERING, display={
        "hours": hours_link, "kind": lambda row: KIND_NAMES.get(row.kind, row.kind),
        "price_minor": lambda row: format_money(row.price_minor, row.currency),
        "picture": offering_picture,
        "created_at": local_column("created_at"), "updated_at": local_column("updated_at"),
        **{column: no_limit(column) for column in ("max_active_bookings_per_customer",
                                                   "max_held_places_per_customer")}})
    row_kind = catalog.OFFERING
    list_columns = ["name", "kind", "price_display", "duration_minutes", "category",
                    "location", "active", "provider", "hours"]
    add_columns = edit_columns = [
        "provider", "kind", "name", "description", "price_minor", "currency",
        "duration_minutes", "category", "location", "active",
        "picture_upload", "picture_description", "remove_picture",
        "pay_at_venue", "free_cancellation_hours", "min_notice_minutes",
        "booking_horizon_days", "max_active_bookings_per_customer",
        "max_held_places_per_customer",
        "resources", "resources_shared", "buffer_before_minutes", "buffer_after_minutes",
    ]
    # The price names its currency ("35.00 EUR"): no row of its own for the currency.
    show_columns = (add_columns[:4] + ["price_minor"] + add_columns[6:10] + ["picture"]
                    + add_columns[13:] + ["variants", "image_urls", "created_at",
                                          "updated_at"])
    search_columns = ["name", "kind", "category", "location", "active", "provider"]
    order_columns = ["name", "kind", "price_minor"]
    label_columns = {"price_minor": "Price", "price_display": "Price", "hours": "Hours",
                     "duration_minutes": "Duration (minutes)",
                     "pay_at_venue": "Paid at the venue",
                     "free_cancellation_hours": "Free cancellation until (hours before)",
                     "min_notice_minutes": "Minimum notice (minutes)",
                     "booking_horizon_days": "Bookable up to (days ahead)",
                     "max_active_bookings_per_customer": "Bookings per customer",
                     "max_held_places_per_customer": "Unpaid places per customer",
                     "resources": "Done by",
                     "resources_shared": "Shared by everyone at a time",
                     "buffer_before_minutes": "Buffer before (minutes)",
                     "buffer_after_minutes": "Buffer after (minutes)",
                     "picture": "Picture", "variants": "Variants",
                     "image_urls": "Picture links", "created_at": "Added (local time)",
                     "updated_at": "Last changed (local time)"}
    # The weekly hours are edited on their own screen; its permission is checked there.
    method_permission_name = {"opening_hours": "edit"}
    description_columns = {
        "price_minor": "In the currency below, as you would write it: 18.50",
        "duration_minutes": "Services only.",
        "resources": "Services only: the staff, rooms or equipment (Catalog → Resources) "
                     "that can do it. A booking needs one free of each kind chosen. Empty: "
                     "it needs none.",
    }
    formatters_columns = {"image_urls": web_links}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": kind_select(),
        "price_minor": MoneyField("Price", [DataRequired()],
                                  currency_of_form=_offering_form_currency,
                                  currency_of_row=lambda row: row.currency),
        # Left empty, the service fills in the provider's currency.
        "currency": currency_select(blank="The provider's currency"),
        "description": TextAreaField("Description", validators=[Optional()],
                                     widget=BS3TextAreaFieldWidget()),
        "picture_upload": picture_upload("Picture", description=(
            "JPEG, PNG or WebP, at most 5 MB; shown in search results and on the "
            "offering's page. Leave empty to keep the current one.")),
        "picture_description": StringField(
            "What the picture shows", validators=[Optional(), Length(max=300)],
            description="For people who cannot see it, e.g. 'Students on mats in a bright "
                        "studio'."),
        "remove_picture": BooleanField("Remove the picture"),
        **booking_rule_fields(),
        **resource_fields(),
    }

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        """A service's page shows everything; a product's leaves out what only services
        have (and its opening hours); variants and picture links when there are some."""
        actions = self.actions if actions is None else actions
        left_out = {column for column in ("variants", "image_urls")
                    if not getattr(item, column)}
        if item.kind != SERVICE:
            left_out.update(SERVICE_ONLY)
            actions = {name: act for name, act in actions.items() if name != "opening_hours"}
        columns = [column for column in self.show_columns if column not in left_out]
        widgets = widgets or {}
        widgets["show"] = self.show_widget(
            pk=pk, label_columns=self.label_columns, include_columns=columns,
            value_columns=self.datamodel.get_values_item(item, columns),
            formatters_columns=self.formatters_columns, actions=actions,
            fieldsets=show_fieldsets or self.show_fieldsets,
            modelview_name=self.__class__.__name__)
        return widgets

    def pre_add(self, item):
        super().pre_add(item)
        check_done_by(item)
        self._apply_picture(item)

    def pre_update(self, item):
        super().pre_update(item)
        check_done_by(item)
        self._apply_picture(item)

    @staticmethod
    def _apply_picture(item):
        data = uploaded_bytes(getattr(item, "picture_upload", None))
        text = getattr(item, "picture_description", None) or ""
        if data is not None:
            remember_replaced(images.replace_offering_picture(item, data, text))
        elif getattr(item, "remove_picture", False):
            remember_replaced(images.remove_offering_picture(item))
        elif text:
            images.set_offering_picture_text(item, text)

    def post_add(self, item):
        super().post_add(item)
        forget_replaced()

    def post_update(self, item):
        super().post_update(item)
        forget_replaced()


    @action("opening_hours", "Opening hours", icon="fa-clock-o", multiple=False)
    def opening_hours(self, item):
        return redirect(url_for("WeeklyHoursView.edit", offering_id=item.id))


def variant_price(variant) -> str:
    """Its own price, or the offering's, said so: "12.90 EUR (the offering's price)"."""
    offering = variant.offering
    if variant.price_minor is not None:
        return format_money(variant.price_minor, offering.currency)
    return f"{format_money(offering.price_minor, offering.currency)} (the offering's price)"


class VariantView(CatalogRowView):
    datamodel = CatalogInterface(Variant, catalog.VARIANT, display={
        "price_minor": variant_price,
        "stock": lambda row: "Not counted" if row.stock is None else row.stock})
    row_kind = catalog.VARIANT
    list_columns = ["offering", "name", "sku", "price_minor", "stock", "active", "provider"]
    add_columns = edit_columns = ["provider", "offering", "name", "sku", "price_minor",
                                  "stock", "active"]
    show_columns = ["offering", "name", "sku", "price_minor", "stock", "active", "provider"]
    search_columns = ["offering", "name", "sku", "active", "provider"]
    order_columns = ["name", "sku", "stock"]
    label_columns = {"sku": "SKU", "price_minor": "Price override",
                     "stock": "In stock"}
    description_columns = {
        "price_minor": "In the offering's currency, e.g. 18.50; empty: the offering's price.",
        "stock": "How many are left to sell. Empty: not counted, always available."}
    add_form_extra_fields = edit_form_extra_fields = {
        "price_minor": MoneyField("Price override", [Optional()],
                                  currency_of_form=_variant_form_currency,
                                  currency_of_row=lambda row: row.offering.currency),
    }
