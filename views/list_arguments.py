"""List arguments no console list can use are dropped before any view runs, never a 500.

Flask-AppBuilder keeps a list's state in query arguments and reads them as they come:
``_oc_<View>``/``_od_<View>`` (order), ``page_<View>``, ``psize_<View>`` and
``_flt_<n>_<column>`` (the n-th search filter of a column). An order column the view
cannot sort by (a relation, an unknown name), a filter index past a column's filters or
a page that is no number made every list fail, and so did a number beyond an integer
column's range as a filter value. Such an argument is dropped here: the
request is redirected to the same URL without it, with a note, and the list renders from
the rest. Base filters are untouched, so no one sees more rows than before.

Checked against public view attributes only (``order_columns``, ``search_columns``, the
datamodel's filters), for every list of the console: ours and Flask-AppBuilder's own.
"""
from __future__ import annotations

import re
from functools import partial
from urllib.parse import urlencode

from flask import Flask, flash, redirect, request
from flask_appbuilder.baseviews import BaseCRUDView
from flask_appbuilder.models.sqla.filters import FilterRelation

from views.base import fits_integer_column

# Flask-AppBuilder's own patterns (flask_appbuilder.urltools), searched the way it does.
ORDER = re.compile("_oc_(.*)")
PAGE = re.compile("page_(.*)")
PAGE_SIZE = re.compile("psize_(.*)")
FILTER = re.compile(r"_flt_(\d)_(.*)")
PATTERNS = (ORDER, PAGE, PAGE_SIZE, FILTER)
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 1_000
SHOWN_IN_NOTE = 3


def guard_list_arguments(app: Flask, appbuilder) -> None:
    app.before_request(partial(_drop_unusable_arguments, appbuilder))


def _drop_unusable_arguments(appbuilder):
    if request.method not in ("GET", "HEAD") or not request.blueprint or not any(
            pattern.search(arg) for arg in request.args for pattern in PATTERNS):
        return None
    views = {type(view).__name__: view for view in appbuilder.baseviews
             if isinstance(view, BaseCRUDView)}
    view = next((view for view in views.values()
                 if view.blueprint is not None and view.blueprint.name == request.blueprint),
                None)
    if view is None:
        return None
    unusable = [arg for arg in request.args if not _usable(arg, view, views)]
    if not unusable:
        return None
    shown = ", ".join(unusable[:SHOWN_IN_NOTE]) + (", ..." if len(unusable) > SHOWN_IN_NOTE
                                                  else "")
    flash(f"This list cannot use {shown}: ignored.", "warning")
    kept = [(key, value) for key, value in request.args.items(multi=True)
            if key not in unusable]
    return redirect(request.script_root + request.path
                    + (f"?{urlencode(kept)}" if kept else ""))


def _usable(arg: str, view: BaseCRUDView, views: dict[str, BaseCRUDView]) -> bool:
    value = request.args.get(arg, "")
    # Flask-AppBuilder turns every argument that looks like a page or page size into a
    # number, whichever list it names.
    if PAGE.findall(arg) and not _whole_number_within(value, 0, MAX_PAGE):
        return False
    if PAGE_SIZE.findall(arg) and not _whole_number_within(value, 1, MAX_PAGE_SIZE):
        return False
    order = ORDER.findall(arg)
    if order and request.args.get(f"_od_{order[0]}") in ("asc", "desc"):
        # Only the list of that name reads it (a related list on a show page, say).
        target = views.get(order[0])
        if target is not None and value not in (target.order_columns or []):
            return False
    found = FILTER.findall(arg)
    if found:
        index, column = int(found[0][0]), found[0][1]
        filters = view.datamodel.get_filters(view.search_columns).get_search_filters()
        # A column that is not searchable is skipped by Flask-AppBuilder itself.
        if column in filters and index >= len(filters[column]):
            return False
        chosen = filters[column][index] if column in filters else None
        if not all(_usable_filter_value(view.datamodel, column, chosen, each)
                   for each in request.args.getlist(arg)):
            return False
    return True


def _usable_filter_value(datamodel, column: str, chosen, value: str) -> bool:
    # Flask-AppBuilder's relation filters compare the related row's id: anything but a
    # whole number for an integer id is a database error on PostgreSQL (it flashes "An
    # error occurred" and leaves the list). A list's own filter on a relation (a
    # customer's email) takes text.
    if datamodel.is_relation(column):
        if not isinstance(chosen, FilterRelation):
            return True
        related = datamodel.get_related_interface(column)
        if not related.is_pk_composite() and related.is_integer(related.get_pk_name()) \
                and not _whole_number_within(value, -(2**63), 2**63 - 1):
            return False
    # A number beyond an integer column's (or a related row's id's) range fails the
    # query on PostgreSQL or SQLite.
    return fits_integer_column(datamodel, column, value)


def _whole_number_within(value: str, lowest: int, highest: int) -> bool:
    try:
        number = int(value)
    except ValueError:
        return False
    return lowest <= number <= highest


__all__ = ["guard_list_arguments"]
