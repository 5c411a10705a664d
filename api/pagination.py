"""Page-number pagination: flask-smorest's ``@blp.paginate`` and its ``X-Pagination`` header.

Lists whose view returns rows use ``@blp.paginate()`` (defaults and bounds set on
:class:`api.blueprint.Blueprint`). The public catalog lists answer cached responses, which
``@blp.paginate`` cannot wrap; they read :class:`PaginationArgsSchema` and send
:func:`pagination_header`, the same header in the same shape.
"""
from __future__ import annotations

import json

import marshmallow as ma

from api.schemas import QueryArgsSchema

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# A page past this is refused rather than read: its offset would not fit the database.
MAX_PAGE = 10_000
PAGE_RANGE = ma.validate.Range(min=1, max=MAX_PAGE)


class PaginationArgsSchema(QueryArgsSchema):
    page = ma.fields.Integer(load_default=1, validate=PAGE_RANGE)
    page_size = ma.fields.Integer(load_default=DEFAULT_PAGE_SIZE,
                                  validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE))


def pagination_metadata(*, total: int, page: int, page_size: int) -> dict:
    """What ``@blp.paginate`` puts in ``X-Pagination``: no pages for an empty list, and
    no current page past the last one."""
    if total == 0:
        return {"total": 0, "total_pages": 0}
    last = (total - 1) // page_size + 1
    meta = {"total": total, "total_pages": last, "first_page": 1, "last_page": last}
    if page <= last:
        meta["page"] = page
        if page > 1:
            meta["previous_page"] = page - 1
        if page < last:
            meta["next_page"] = page + 1
    return meta


def pagination_header(*, total: int, page: int, page_size: int) -> dict:
    return {"X-Pagination": json.dumps(pagination_metadata(total=total, page=page,
                                                           page_size=page_size))}


def page_of(pagination_parameters) -> dict:
    """The page a paginated view was asked for, as a service's keyword arguments."""
    return {"page": pagination_parameters.page, "page_size": pagination_parameters.page_size}


def counted(pagination_parameters, rows_and_total: tuple):
    """The rows of a service's ``(rows, total)``; the total goes to ``X-Pagination``."""
    rows, total = rows_and_total
    pagination_parameters.item_count = total
    return rows
