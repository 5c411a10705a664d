"""Page titles in plain words, from one friendly name per screen.

Flask-AppBuilder titles a screen after its class ("List Booking", "Show Booking"). A
console screen names what it lists instead (``item_name = "booking"``; the plural is
derived, or ``items_name`` when English needs it), and gets "Bookings", "Booking",
"Add booking", "Edit booking" and "12 bookings" above its list. A screen may still set a
title of its own ("Event log"); without ``item_name`` the model's name is used.
"""
from __future__ import annotations

import re


def words_of(class_name: str) -> str:
    """``AvailabilityRule`` → "availability rule"."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", class_name).lower()


def plural(noun: str) -> str:
    """English plural of a (last) word: entry → entries, class → classes, day → days."""
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", noun):
        return noun + "es"
    return noun + "s"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def count_phrase(count: int, item: str, items: str) -> str:
    """``count`` rows in words: "1 booking", "12 bookings", "No bookings"."""
    if count == 0:
        return f"No {items}"
    return f"{count:,} {item if count == 1 else items}"


class PlainTitles:
    """Mixed into a ModelView before it: list, show, add and edit titles from one name."""

    item_name: str = ""
    items_name: str = ""

    def __init__(self, **kwargs):
        # Before Flask-AppBuilder's own __init__, which fills in only the titles left empty.
        item = self.item_name or words_of(self.datamodel.obj.__name__)
        self.item_name, self.items_name = item, self.items_name or plural(item)
        self.list_title = self.list_title or capitalised(self.items_name)
        self.show_title = self.show_title or capitalised(item)
        self.add_title = self.add_title or f"Add {item}"
        self.edit_title = self.edit_title or f"Edit {item}"
        super().__init__(**kwargs)

    def count_phrase(self, count: int) -> str:
        limit = getattr(self.datamodel, "count_limit", None)
        if limit is not None and count > limit:
            return f"More than {limit:,} {self.items_name}"
        return count_phrase(count, self.item_name, self.items_name)


def register_count_phrase(app, appbuilder) -> None:
    """``{{ count | count_phrase(modelview_name) }}`` in the list template: "12 bookings"."""
    views = {type(view).__name__: view for view in appbuilder.baseviews}

    @app.template_filter("count_phrase")
    def count_phrase_filter(count: int, modelview_name: str) -> str:
        view = views.get(modelview_name)
        if view is None:
            views.update({type(v).__name__: v for v in appbuilder.baseviews})
            view = views.get(modelview_name)
        if isinstance(view, PlainTitles):
            return view.count_phrase(count)
        return count_phrase(count, "row", "rows")


__all__ = ["PlainTitles", "capitalised", "count_phrase", "plural", "register_count_phrase",
           "words_of"]
