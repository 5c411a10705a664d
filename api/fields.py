"""Fields shared by the API's schemas."""
from __future__ import annotations

import marshmallow as ma

# Row ids are PostgreSQL integers: anything larger can name no row (and would not fit).
MAX_ID = 2**31 - 1


def Id(**kwargs) -> ma.fields.Integer:  # noqa: N802 - used like a field class
    """A row id: a whole number from 1 to 2,147,483,647."""
    return ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID), **kwargs)
