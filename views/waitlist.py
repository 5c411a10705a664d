"""Console screen: the waiting lists of full times, read-only.

Customers join and leave a line, and places are offered, through the waiting list
service (``app.services.waitlist``); staff look at the lines here: who waits for which
time and in which place, who holds an offer and until when, and the offer's booking.
Staff see their own provider's entries only; admins every provider's.

A time's line is this list filtered by the time and the offering; the slots list links
each time that has a line to it (:func:`line_link`).
"""
from __future__ import annotations

from flask import current_app, g, url_for
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterNotEqual,
    FilterRelationOneToManyEqual,
    FilterRelationOneToManyNotEqual,
)
from flask_appbuilder.widgets import ListWidget, ShowWidget
from markupsafe import Markup
from sqlalchemy import asc, desc
from sqlalchemy.orm import aliased
from wtforms import SelectField, StringField

from app.models import Slot, WaitlistEntry
from app.models.waitlist import OFFERED, WAITING, WAITLIST_STATUSES
from app.services import waitlist
from views.base import TenantModelView, console_scope, current_user, user_is_admin
from views.console import (
    ConsoleInterface,
    local_column,
    local_time,
    provider_zone_of,
    status_badge,
)
from views.filters import (
    RELATED_TIME_FILTERS,
    FilterAccountEmailContains,
    FilterAccountEmailEqual,
    FilterRelatedTimeAt,
    typed_time_text,
)

TIME = "slot.starts_at"  # the time waited for: listed, sorted by, filtered through "slot"
PLACE_IN_LINE = "place_in_line"  # no column: worked out for the rows shown


class FilterRelationIs(FilterRelationOneToManyEqual):
    name = "Is"


class FilterRelationIsNot(FilterRelationOneToManyNotEqual):
    name = "Is not"


OFFERING_FILTERS = [FilterRelationIs, FilterRelationIsNot]
# A time's line: the list filtered by its offering and its start (the slots list's link).
OFFERING_IS_ARG = f"_flt_{OFFERING_FILTERS.index(FilterRelationIs)}_offering"
STARTS_AT_ARG = f"_flt_{RELATED_TIME_FILTERS.index(FilterRelatedTimeAt)}_slot"


# --- values worked out for a page of rows, in one query each ---------------------------

def _cache(name: str) -> dict:
    """A per-request memo on ``g`` (a list page asks once per row)."""
    memo = g.get(name)
    if memo is None:
        memo = {"loaded": set(), "values": {}}
        setattr(g, name, memo)
    return memo


def _load(name: str, slot_ids, load) -> dict:
    memo = _cache(name)
    missing = set(slot_ids) - memo["loaded"]
    if missing:
        memo["values"].update(load(missing, scope=console_scope()))
        memo["loaded"] |= missing
    return memo["values"]


def _prefetch_places(entries) -> None:
    _load("waitlist_places", {e.slot_id for e in entries if e.status == WAITING},
          waitlist.places_in_line)


def place_in_line(entry) -> str:
    """ "1" for the next to be offered; nothing once offered or ended."""
    if entry.status != WAITING:
        return ""
    place = _load("waitlist_places", {entry.slot_id}, waitlist.places_in_line).get(entry.id)
    return str(place) if place is not None else ""


def prefetch_line_counts(slots) -> None:
    _load("waitlist_line_counts", {slot.id for slot in slots}, waitlist.line_counts)


def line_link(slot) -> Markup:
    """ "2 waiting, 1 offered", linked to that time's line; nothing when nobody is in
    line (or the person may not open the waiting lists)."""
    counts = _load("waitlist_line_counts", {slot.id}, waitlist.line_counts).get(slot.id)
    if not counts or not _may_open_waiting_lists():
        return Markup("")
    return _link(slot, _in_line(counts))


def _in_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[status]} {label}" for status, label in
                     ((WAITING, "waiting"), (OFFERED, "offered")) if counts.get(status))


def _link(slot, text: str) -> Markup:
    return Markup('<a class="waitlist-link" href="{0}"><i class="fa fa-hourglass-half" '
                  'aria-hidden="true"></i> {1}</a>').format(line_url(slot), text)


def booking_line_note(booking_id: int, scope) -> Markup:
    """For the booking's page: whether the booking is a waiting list offer, and its
    time's line (linked); nothing when neither."""
    if not _may_open_waiting_lists():
        return Markup("")
    line = waitlist.line_of_booking(booking_id, scope=scope)
    if line is None:
        return Markup("")
    parts = []
    if line.offer is not None:
        parts.append(Markup("Offered from the waiting list"))
    parts.append(_link(line.slot, f"{_in_line(line.counts)} for this time" if line.counts
                       else "The waiting list of this time"))
    return Markup("<br>").join(parts)


def line_url(slot) -> str:
    """The waiting list filtered to one time: its offering and its start, typed the way
    the person reads times in filters (their provider's wall clock; UTC for admins)."""
    return url_for("WaitlistView.list", **{OFFERING_IS_ARG: slot.offering_id,
                                           STARTS_AT_ARG: typed_time_text(slot.starts_at)})


def _may_open_waiting_lists() -> bool:
    return current_app.appbuilder.sm.has_access("can_list", "WaitlistView")


# --- showing an entry ------------------------------------------------------------------

def _time(entry) -> str:
    return local_time(entry.slot.starts_at, provider_zone_of(entry)) if entry.slot else ""


def _offer_held_until(entry) -> str:
    """Only while the offer stands: an ended one's end is shown on the entry's page."""
    if entry.status != OFFERED:
        return ""
    return local_time(entry.offer_expires_at, provider_zone_of(entry))


def _customer(entry) -> Markup:
    """Name over email: a narrower column than "Name <email>" on one line, and one
    block in a phone's card."""
    customer = entry.customer
    if customer is None:
        return Markup("")
    name = f"{customer.first_name or ''} {customer.last_name or ''}".strip()
    if not name:
        return Markup('<span class="waitlist-customer">{0}</span>').format(customer.email)
    return Markup('<span class="waitlist-customer">{0}<br><small class="text-muted">{1}'
                  '</small></span>').format(name, customer.email)


def _booking_link(entry) -> Markup:
    booking = entry.booking
    if booking is None:
        return Markup("")
    return Markup('<a href="{0}">{1}</a>').format(
        url_for("BookingView.show", pk=booking.id), booking.reference)


def waitlist_status(status) -> Markup:
    return status_badge(status, waitlist.STATUS_LABELS)


def status_choice() -> SelectField:
    """The status filter's choices in words ("Offered a place", not ``offered``)."""
    return SelectField("Status", choices=[(status, waitlist.status_label(status))
                                          for status in WAITLIST_STATUSES],
                       widget=Select2Widget())


class WaitlistInterface(ConsoleInterface):
    """Rows of one time stay together, in the order of its line (first come first)."""

    def apply_order_by(self, query, order_column, order_direction, aliases_mapping=None,
                       bypass_many_to_many=False, add_pk=False):
        if not order_column:
            return query
        direction = asc if order_direction == "asc" else desc
        if order_column == TIME:
            # Joined here: Flask-AppBuilder would skip its own join when a filter's
            # subquery already names the slot table, and then order by a missing column.
            slot = aliased(Slot, name="waited_for")
            query = query.join(slot, slot.id == WaitlistEntry.slot_id).order_by(
                direction(slot.starts_at))
        else:
            query = super().apply_order_by(query, order_column, order_direction,
                                           aliases_mapping=aliases_mapping,
                                           bypass_many_to_many=bypass_many_to_many)
        return query.order_by(direction(WaitlistEntry.slot_id), WaitlistEntry.id.asc())


# --- staff see their own provider only: no provider column -----------------------------

def _for_the_signed_in_person(columns) -> list[str]:
    if user_is_admin(current_user()):
        return list(columns)
    return [column for column in columns if column != "provider"]


class ProviderColumnForAdmins(ListWidget):
    def __init__(self, **kwargs):
        kwargs["include_columns"] = _for_the_signed_in_person(kwargs.get("include_columns")
                                                             or [])
        super().__init__(**kwargs)


class ShowWhatThereIs(ShowWidget):
    """An entry's page: the provider for admins only, and no empty lines (a waiting
    entry has no offer, booking or end yet)."""

    def __init__(self, **kwargs):
        shown = set(_for_the_signed_in_person(kwargs.get("include_columns") or []))
        pairs = [(column, value) for column, value in
                 zip(kwargs.get("include_columns") or [], kwargs.get("value_columns") or [])
                 if column in shown and str(value) != ""]
        kwargs["include_columns"] = [column for column, _value in pairs]
        kwargs["value_columns"] = [value for _column, value in pairs]
        super().__init__(**kwargs)


class WaitlistView(TenantModelView):
    """Read-only: the service changes entries (join, leave, offers), never a form."""

    datamodel = WaitlistInterface(
        WaitlistEntry,
        display={
            TIME: _time,
            "customer": _customer,
            PLACE_IN_LINE: place_in_line,
            "offer_expires_at": _offer_held_until,
            "booking": _booking_link,
            "created_at": local_column("created_at"),
            "offered_at": local_column("offered_at"),
            "ended_at": local_column("ended_at"),
        },
        column_filters={
            "slot": RELATED_TIME_FILTERS,
            "offering": OFFERING_FILTERS,
            "status": [FilterEqual, FilterNotEqual],
            "customer": [FilterAccountEmailContains, FilterAccountEmailEqual],
        },
        prefetch=_prefetch_places,
    )
    base_permissions = ["can_list", "can_show"]
    item_name, items_name = "waiting list entry", "waiting list entries"
    list_title = "Waiting lists"
    list_widget = ProviderColumnForAdmins
    show_widget = ShowWhatThereIs

    # The provider (admins only) early: on a desktop the last columns may scroll.
    list_columns = [TIME, "offering", "provider", "customer", "quantity", "status",
                    PLACE_IN_LINE, "offer_expires_at", "booking"]
    show_columns = [TIME, "offering", "provider", "customer", "quantity", "status",
                    PLACE_IN_LINE, "created_at", "offered_at", "offer_expires_at", "booking",
                    "ended_at"]
    search_columns = ["slot", "offering", "status", "customer", "provider"]
    search_form_extra_fields = {
        "slot": StringField("Starts", widget=BS3TextFieldWidget()),
        "status": status_choice(),
        "customer": StringField("Customer email", widget=BS3TextFieldWidget()),
    }
    order_columns = [TIME, "quantity", "status", "created_at"]
    base_order = (TIME, "desc")
    formatters_columns = {"status": waitlist_status}
    label_columns = {
        TIME: "Starts (local time)", "slot": "Starts", "offering": "Offering",
        "customer": "Customer", "quantity": "Places", "status": "Status",
        PLACE_IN_LINE: "Place in line", "offer_expires_at": "Offer held until",
        "booking": "Booking", "created_at": "Joined (local time)",
        "offered_at": "Offered (local time)", "ended_at": "Ended (local time)",
        "provider": "Provider",
    }
    description_columns = {
        PLACE_IN_LINE: "1 is offered the next places that free up, if their number fits.",
        "booking": "The place held for the customer when it was offered: paying (or "
                   "accepting) it books.",
    }


__all__ = ["WaitlistView", "booking_line_note", "line_link", "line_url",
           "prefetch_line_counts"]
