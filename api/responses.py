"""Public GET responses: cached body, ETag, conditional 304, optional extra headers."""
from __future__ import annotations

import hashlib
import json

from flask import jsonify, request

from app.services import cache


def cached_json(namespace: str, params: dict, compute, fresh=None, cacheable: bool = True):
    """``compute()`` returns ``{"body": ..., "headers": {...}}`` of plain JSON values.

    ``fresh(body)``, when given, runs on every request, cached or not, and returns the
    body with what must never be served stale (free places) read anew; the ETag covers
    what it returns. ``cacheable=False``: computed on every request."""
    result = cache.cached(namespace, params, compute) if cacheable else compute()
    body = result["body"] if fresh is None else fresh(result["body"])
    response = jsonify(body)
    for name, value in result.get("headers", {}).items():
        response.headers[name] = value
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    response.set_etag(digest[:40])
    response.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    return response.make_conditional(request)
