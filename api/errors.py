"""One JSON error shape for the whole API: ``{"code", "message", "errors"}``.

The handlers are registered app-wide (unknown routes have no blueprint) but answer JSON
only for paths under ``/api/``; the console keeps its HTML error pages.
"""
from __future__ import annotations

import logging

import marshmallow as ma
from flask import g, jsonify, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, NotFound

from api.schemas import Schema
from app.errors import UNKNOWN_USER, DomainError
from app.services.transactions import end_read

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorSchema(Schema):
    """The body of every API error."""

    code = ma.fields.String(
        required=True,
        metadata={"description": "Stable machine-readable code, e.g. `validation_error`, "
                  "`auth.invalid_credentials`."},
    )
    message = ma.fields.String(required=True, metadata={"description": "Human-readable summary."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "Per-field messages: field name → list of messages."},
    )


def error_response(status: int, code: str, message: str, errors: dict | None = None, headers=None):
    response = jsonify({"code": code, "message": message, "errors": errors or {}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")


def _field_errors(data: dict) -> dict:
    """webargs nests messages by location ({"json": {...}}); clients want fields."""
    messages = data.get("errors") or data.get("messages") or {}
    if not isinstance(messages, dict):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def handle_http_exception(error: HTTPException):
    if not is_api_request():
        return error
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = _field_errors(data)
    if status == 422:
        message = "The request has invalid fields."
    elif status == 400 and "json" in (data.get("messages") or {}):
        message = "The request body is not valid JSON."
    elif status == 429:
        message = f"Too many requests: limit is {error.description}."
    else:
        message = data.get("message") or error.description or error.name
    headers = dict(data.get("headers") or {})
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    return error_response(status, HTTP_CODES.get(status, error.name.lower().replace(" ", "_")),
                          message, errors, headers)


def handle_domain_error(error: DomainError):
    return error_response(error.status, error.code, error.message, error.errors,
                          getattr(error, "headers", None))


def handle_unexpected(error: Exception):
    if not is_api_request():
        raise error
    log.exception("unhandled error in %s %s (request %s)", request.method, request.path,
                  getattr(g, "request_id", "-"))
    return error_response(
        500, HTTP_CODES[500],
        f"Something went wrong on our side. Quote request id {getattr(g, 'request_id', '-')}.",
    )


def handle_internal_server_error(error: InternalServerError):
    original = getattr(error, "original_exception", None)
    if original is not None and is_api_request():
        return handle_unexpected(original)
    return handle_http_exception(error)


def handle_data_error(error: DataError):
    """A value the database cannot hold (an id past its integer range, say): the request's
    fault, answered 422 like other invalid input, with nothing changed."""
    end_read()
    log.info("database refused a value in %s %s: %s", request.method, request.path,
             str(error.orig).splitlines()[0] if error.orig else error)
    if not is_api_request():  # the console: an id in the URL that no row can have
        return (NotFound() if request.method == "GET" else BadRequest()).get_response()
    return error_response(422, "request.value_out_of_range",
                          "A value in the request is outside what can be stored.")


def register_error_handlers(app) -> None:
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_internal_server_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)


def register_jwt_error_callbacks(jwt_manager) -> None:
    """flask-jwt-extended answers {"msg": ...} by default; ours is the one shape."""

    def unauthorized(reason: str):
        return error_response(401, "auth.missing_token", f"Authentication required: {reason}")

    def invalid(reason: str):
        return error_response(401, "auth.invalid_token", f"The token is not valid: {reason}")

    jwt_manager.unauthorized_loader(unauthorized)
    jwt_manager.invalid_token_loader(invalid)
    jwt_manager.expired_token_loader(
        lambda header, payload: error_response(401, "auth.token_expired", "The token has expired.")
    )
    jwt_manager.revoked_token_loader(
        lambda header, payload: error_response(401, "auth.token_revoked",
                                               "This token has been revoked.")
    )
    jwt_manager.needs_fresh_token_loader(
        lambda header, payload: error_response(401, "auth.fresh_token_required",
                                               "Sign in again to do this.")
    )
    jwt_manager.user_lookup_error_loader(
        lambda header, payload: error_response(401, *UNKNOWN_USER)
    )
    jwt_manager.token_verification_failed_loader(
        lambda header, payload: error_response(401, "auth.invalid_token",
                                               "The token is not valid.")
    )
