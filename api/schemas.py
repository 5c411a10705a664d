"""Base classes of every API schema: input is taken as typed, never coerced or truncated.

- ``Schema`` (JSON bodies, and the responses documented with the same classes): an
  integer field takes only a JSON integer (``1.9`` is refused, not stored as 1; so are
  ``"5"`` and ``true``), any other number only a JSON number, a boolean only ``true`` or
  ``false``.
- ``QueryArgsSchema`` (query strings): every value arrives as text, so ``page=2`` is read
  as a number, while ``page=1.9`` is still refused.
- Both: a string holding a lone surrogate (``"\\ud800"``) or a NUL character, valid
  JSON but not text the database stores, is a field error.

A test checks that every schema of the API derives from one of them.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import marshmallow as ma

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE = "Contains a NUL character or an unpaired surrogate (e.g. \\ud800)."


class Schema(ma.Schema):
    TYPED_INPUT = True  # JSON: values arrive typed

    @ma.pre_load(pass_collection=True)
    def _take_input_as_typed(self, data, **kwargs):
        if isinstance(data, Mapping):  # a JSON object, or webargs' view of a query string
            items = data.items()
        elif isinstance(data, list):  # a many=True load, or the wrong type (the load says so)
            items = enumerate(data)
        else:
            return data
        errors = {name: [UNSTORABLE] for name, value in items if _has_unstorable_text(value)}
        if self.TYPED_INPUT and isinstance(data, Mapping):
            for field in self.load_fields.values():
                key = field.data_key or field.name
                message = _type_error(field, data[key]) if key in data else None
                if message and key not in errors:
                    errors[key] = [message]
        if errors:
            raise ma.ValidationError(errors)
        return data


class QueryArgsSchema(Schema):
    TYPED_INPUT = False  # query strings: every value is text


def _type_error(field: ma.fields.Field, value) -> str | None:
    """The field's message when a JSON value lacks its type; None is left to allow_none."""
    if value is None:
        return None
    if isinstance(field, ma.fields.Integer):
        typed = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(field, ma.fields.Number):
        typed = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(field, ma.fields.Boolean):
        typed = isinstance(value, bool)
    elif isinstance(field, ma.fields.List) and isinstance(value, list):
        return next(filter(None, (_type_error(field.inner, item) for item in value)), None)
    else:
        return None
    return None if typed else field.error_messages["invalid"]


def _has_unstorable_text(value) -> bool:
    """Iterative, so a deeply nested value cannot exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
