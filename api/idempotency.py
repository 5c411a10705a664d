"""``@idempotent`` for create endpoints: the ``Idempotency-Key`` header, built once."""
from __future__ import annotations

import json
from functools import wraps

from flask import jsonify, request
from flask_jwt_extended import current_user
from werkzeug.exceptions import HTTPException

from api.errors import handle_domain_error, handle_http_exception
from app.errors import DomainError
from app.services import idempotency

HEADER = "Idempotency-Key"
NOT_STORED = {409, 429}  # a busy or rate-limited answer says nothing about the request


def idempotent(view):
    """Place under the auth decorator and above ``@blp.arguments``/``@blp.response``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        fingerprint = idempotency.request_fingerprint(request.method, request.path,
                                                      request.get_data())
        claim = idempotency.claim(user_id=current_user.id, key=key,
                                  endpoint=request.endpoint or request.path,
                                  fingerprint=fingerprint)
        if claim.is_replay:
            response = jsonify(claim.replay_body)
            response.status_code = claim.replay_status
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = _as_response(view, *args, **kwargs)
        except Exception:
            idempotency.release(claim.record_id)
            raise
        if response.status_code >= 500 or response.status_code in NOT_STORED:
            idempotency.release(claim.record_id)
        else:
            idempotency.complete(claim.record_id, status_code=response.status_code,
                                 body=json.loads(response.get_data() or b"null"))
        return response

    wrapper._apidoc = getattr(view, "_apidoc", {})
    return wrapper


def _as_response(view, *args, **kwargs):
    """The view's answer as a response, its refusals (4xx) included."""
    try:
        return view(*args, **kwargs)
    except DomainError as error:
        return handle_domain_error(error)
    except HTTPException as error:
        if error.code and error.code < 500:
            return handle_http_exception(error)
        raise
