"""``@idempotent`` for create endpoints: the ``Idempotency-Key`` header, built once."""
from __future__ import annotations

import json
from functools import wraps

from flask import g, jsonify, request
from flask_jwt_extended import current_user
from werkzeug.exceptions import HTTPException

from api import api_key_auth
from api.errors import handle_domain_error, handle_http_exception
from app.errors import DomainError, ValidationFailed
from app.services import idempotency

HEADER = "Idempotency-Key"
NOT_STORED = {409, 429}  # a busy or rate-limited answer says nothing about the request


def idempotent(view=None, *, committed_answer=None):
    """Place under the auth decorator and above ``@blp.arguments``/``@blp.response``.

    ``committed_answer(record_id)``: for work that records the key's claim in its own
    transaction (see :func:`claimed_record_id`), the ``(status, body)`` an earlier holder
    of the key committed, or None. A retry that takes over the key of a request that died
    replays that answer instead of doing the work again. Without it the work runs again
    (it must then be idempotent in itself, as starting a payment is).
    """
    if view is None:
        return lambda view: idempotent(view, committed_answer=committed_answer)

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        fingerprint = idempotency.request_fingerprint(request.method, request.path,
                                                      request.get_data())
        user_id, key = _claimant(key)
        claim = idempotency.claim(user_id=user_id, key=key,
                                  endpoint=request.endpoint or request.path,
                                  fingerprint=fingerprint)
        if claim.is_replay:
            return _replayed(claim.replay_status, claim.replay_body)
        if claim.is_takeover and committed_answer is not None:
            answer = committed_answer(claim.record_id)
            if answer is not None:
                return _complete_with(claim, *answer)
        g.idempotency_claim = claim
        try:
            response = _as_response(view, *args, **kwargs)
        except idempotency.AlreadyCommitted:
            # An earlier holder, outliving its lease, committed the work meanwhile.
            answer = committed_answer(claim.record_id) if committed_answer else None
            if answer is None:
                raise
            return _complete_with(claim, *answer)
        except Exception:
            idempotency.release(claim)
            raise
        if response.status_code >= 500 or response.status_code in NOT_STORED:
            idempotency.release(claim)
        else:
            idempotency.complete(claim, status_code=response.status_code,
                                 body=json.loads(response.get_data() or b"null"))
        return response

    wrapper._apidoc = getattr(view, "_apidoc", {})
    return wrapper


def _claimant(key: str) -> tuple[int, str]:
    """Whose key it is: the signed-in account's; an API key's calls keep their own keys
    under the account that made the API key, apart from that person's own."""
    caller = api_key_auth.current_caller()
    if caller is None:
        return current_user.id, key
    if caller.created_by_id is None:
        raise ValidationFailed("idempotency.unavailable",
                               "This API key's maker no longer exists, so it cannot use "
                               f"{HEADER}; make a new key.")
    return caller.created_by_id, f"{caller.prefix}:{key}"


def claimed_record_id() -> int | None:
    """The id of the key's record this request holds (None without a key), for work that
    records it in its own transaction."""
    claim = g.get("idempotency_claim")
    return claim.record_id if claim is not None else None


def _complete_with(claim, status: int, body):
    idempotency.complete(claim, status_code=status, body=body)
    return _replayed(status, body)


def _replayed(status: int, body):
    response = jsonify(body)
    response.status_code = status
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _as_response(view, *args, **kwargs):
    """The view's answer as a response, its refusals (4xx) included."""
    try:
        return view(*args, **kwargs)
    except idempotency.AlreadyCommitted:
        raise
    except DomainError as error:
        return handle_domain_error(error)
    except HTTPException as error:
        if error.code and error.code < 500:
            return handle_http_exception(error)
        raise
