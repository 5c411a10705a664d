"""Page-number pagination with the ``X-Pagination`` header, as flask-smorest shapes it."""
from __future__ import annotations

import json
import math

import marshmallow as ma

from api.schemas import QueryArgsSchema

MAX_PAGE_SIZE = 100


class PaginationArgsSchema(QueryArgsSchema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=10_000))
    page_size = ma.fields.Integer(load_default=20,
                                  validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE))


def pagination_header(*, total: int, page: int, page_size: int) -> dict:
    last = max(1, math.ceil(total / page_size))
    meta = {"total": total, "total_pages": last, "first_page": 1, "last_page": last,
            "page": page}
    if page > 1:
        meta["previous_page"] = page - 1
    if page < last:
        meta["next_page"] = page + 1
    return {"X-Pagination": json.dumps(meta)}
