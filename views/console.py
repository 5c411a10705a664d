"""The console's toolkit: how every screen shows values, its choice fields, its data interface.

Lists read like the business: people by name and email, money in major units with the
currency, times on the provider's wall clock with the zone. A screen names what each
column shows (``display``); the column keeps its name, so it still sorts and filters in
SQL. Typed times in search filters follow one rule, in :mod:`views.filters`.
"""
from __future__ import annotations

import json
from datetime import datetime, time

from flask_appbuilder import Model
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from markupsafe import Markup, escape
from wtforms import SelectField

from app.models import Account
from app.services import agenda
from app.services.booking_states import STATUS_LABELS
from app.services.money import format_money
from views.filters import ConsoleFilterConverter

# --- showing values ----------------------------------------------------------------------


def local_time(moment: datetime | None, zone: str | None) -> str:
    """A UTC moment as a wall clock in ``zone``: "2031-07-15 23:30 CEST"."""
    if moment is None:
        return ""
    return moment.astimezone(agenda.zone_of(zone)).strftime("%Y-%m-%d %H:%M %Z")


def provider_zone_of(item) -> str | None:
    """The zone of the provider a row belongs to (None: the row has none)."""
    provider = getattr(item, "provider", None)
    return provider.timezone if provider is not None else None


def local_column(column: str):
    """Show a time column on the wall clock of the row's provider."""
    return lambda item: local_time(getattr(item, column), provider_zone_of(item))


def utc_column(column: str):
    """Show a time column in UTC (platform-wide rows that belong to no one provider)."""
    return lambda item: local_time(getattr(item, column), "UTC")


def money_column(column: str):
    """Show an amount in minor units in the row's currency: "25.00 EUR"."""
    return lambda item: format_money(getattr(item, column), item.currency)


def person(account) -> str:
    """An account as "Jo Doe <jo@example.com>", or the email alone."""
    if account is None:
        return ""
    name = f"{account.first_name or ''} {account.last_name or ''}".strip()
    return f"{name} <{account.email}>" if name else account.email


def yes_no(path: str):
    """Show a flag, reached by a dotted path from the row, as "yes" or "no"."""
    def show(item):
        target = item
        for part in path.split("."):
            target = getattr(target, part, None)
            if target is None:
                return ""
        return "yes" if target else "no"
    return show


# Bootstrap label classes by status name, across bookings, payments, refunds, messages,
# events and waiting lists: green = done well, amber = waiting, blue = in hand, red = went
# wrong, grey = over.
STATUS_TONES = {
    "waiting": "warning", "offered": "info", "booked": "success", "left": "default",
    "confirmed": "primary", "completed": "success", "paid": "success",
    "succeeded": "success", "sent": "success", "delivered": "success", "published": "success",
    "done": "success", "pending": "warning", "queued": "warning", "processing": "warning",
    "sending": "warning", "requires_action": "warning", "received": "warning",
    "no_show": "danger", "failed": "danger", "dead": "danger", "flagged": "danger",
    "disputed": "danger", "undeliverable": "danger", "processed": "success",
    "retrying": "warning", "requires_payment": "warning", "ignored": "default",
}


def words(code: str | None) -> str:
    """A code as words: "booking_confirmed" → "Booking confirmed", "sms" → "SMS"."""
    if not code:
        return ""
    return WORDS.get(code, code.replace("_", " ").replace(".", " ").capitalize())


WORDS = {"sms": "SMS", "email": "Email", "credit_note": "Credit note", "paypal": "PayPal"}

# How staff name the way a payment was taken, on every screen (the code is for filters).
GATEWAY_NAMES = {"stripe": "Card (Stripe)", "paypal": "PayPal", "manual": "At the venue"}


def gateway_name(code: str | None) -> str:
    """A payment's gateway as staff read it: "paypal" → "PayPal"."""
    return GATEWAY_NAMES.get(code, words(code)) if code else ""


def words_column(column: str):
    """Show a code column (a template key, a channel) as words."""
    return lambda item: words(getattr(item, column))


def short_id(value) -> Markup:
    """A long id (a UUID) cut to its first 8 characters; the whole id on hover."""
    if not value:
        return Markup("")
    text = str(value)
    return Markup(f'<span class="short-id" title="{escape(text)}">{escape(text[:8])}</span>')


def code_name(path: str | None) -> str:
    """A handler's module path as its area and name:
    "app.services.notifications.on_booking_placed" → "notifications: on booking placed"."""
    if not path:
        return ""
    parts = path.split(".")
    name = parts[-1].replace("_", " ")
    return f"{parts[-2]}: {name}" if len(parts) > 1 else name


def status_text(status: str | None, labels: dict[str, str] | None = None) -> str:
    """A status as people read it: "No-show" for ``no_show``."""
    if not status:
        return ""
    labels = STATUS_LABELS if labels is None else labels
    return labels.get(status, status.replace("_", " ").capitalize())


def status_badge(status: str | None, labels: dict[str, str] | None = None) -> Markup:
    """A status as a coloured label with readable text (booking labels by default)."""
    if not status:
        return Markup("")
    tone = STATUS_TONES.get(status, "default")
    return Markup(f'<span class="label label-{tone} status status-{escape(status)}">'
                  f"{escape(status_text(status, labels))}</span>")


def readable(value, zone: str | None = None):
    """Any value a screen shows without saying how, as people read it: nothing for None,
    Yes/No, times without microseconds and with the zone (the row's provider's, else
    UTC), accounts by name and email, related rows by name, comma-separated. Anything
    else (text, numbers, JSON for a formatter) is returned as it is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%d %H:%M")
        return local_time(value, zone or "UTC")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Account):
        return person(value)
    if isinstance(value, list) and not value:
        return ""  # an empty collection, not "[]"
    if isinstance(value, (list, tuple)) and all(
            isinstance(element, Model) for element in value):
        return ", ".join(str(readable(element, zone)) for element in value)
    if isinstance(value, Model):
        return str(value)
    return value


def pretty_json(value) -> Markup:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return Markup(f'<pre class="event-payload">{escape(text)}</pre>')


def preformatted(value) -> Markup:
    return Markup(f"<pre>{escape(value)}</pre>") if value else Markup("")


# --- forms -------------------------------------------------------------------------------


def choice_field(label: str, values, shown=None) -> SelectField:
    """A search or form field that offers only the given values, each shown as
    ``shown(value)`` when given."""
    return SelectField(label, choices=[(v, shown(v) if shown else v) for v in values],
                       widget=Select2Widget())


def status_field(statuses) -> SelectField:
    return choice_field("Status", statuses)


# --- the data interface ------------------------------------------------------------------


class ConsoleInterface(SQLAInterface):
    """The data interface of every console screen.

    ``display`` maps a column to ``fn(item) -> str``: values that need more of the row
    than the column itself (a time in the row's provider zone, an amount in the row's
    currency). ``column_filters`` replaces the search filters Flask-AppBuilder would pick
    for a column. ``prefetch(items)`` is called with a list's rows before they are shown:
    a value read from other tables (a time's waiting list) is then loaded in one query
    for the page rather than one per row.
    """

    filter_converter_class = ConsoleFilterConverter

    def __init__(self, obj, *, display=None, column_filters=None, count_limit=None,
                 prefetch=None, **kwargs):
        super().__init__(obj, **kwargs)
        self.display = dict(display or {})
        self.column_filters = dict(column_filters or {})
        # Counting stops past this many rows ("more than 10,000"): an exact count of half a
        # million bookings costs more than the page itself, and nobody pages that far.
        self.count_limit = count_limit
        self.prefetch = prefetch

    def query(self, *args, **kwargs):
        count, items = super().query(*args, **kwargs)
        if self.prefetch is not None and items:
            self.prefetch(items)
        return count, items

    def query_count(self, query, filters=None, select_columns=None) -> int:
        if self.count_limit is None:
            return super().query_count(query, filters, select_columns)
        query = self.apply_inner_select_joins(query, select_columns, {})
        query = self.apply_filters(query, self.get_inner_filters(filters))
        return query.limit(self.count_limit + 1).count()

    def _get_attr_value(self, item, col):
        shown = self.display.get(col)
        if shown is not None:
            return shown(item)
        return readable(super()._get_attr_value(item, col), provider_zone_of(item))


__all__ = ["ConsoleInterface", "GATEWAY_NAMES", "choice_field", "gateway_name",
           "local_column", "local_time", "money_column", "person",
           "pretty_json", "preformatted", "provider_zone_of", "readable", "short_id", "code_name",
           "words", "words_column",
           "status_badge", "status_field", "status_text", "utc_column", "yes_no"]
