"""Public GET responses: cached body, ETag, conditional 304, optional extra headers."""
from __future__ import annotations

import hashlib
import json

from flask import jsonify, request

from app.services import cache


def cached_json(namespace: str, params: dict, compute):
    """``compute()`` returns ``{"body": ..., "headers": {...}}`` of plain JSON values."""
    result = cache.cached(namespace, params, compute)
    response = jsonify(result["body"])
    for name, value in result.get("headers", {}).items():
        response.headers[name] = value
    digest = hashlib.sha256(json.dumps(result["body"], sort_keys=True).encode()).hexdigest()
    response.set_etag(digest[:40])
    response.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    return response.make_conditional(request)
