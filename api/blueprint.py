"""A smorest Blueprint that documents our error shape and auth requirements."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import g
from flask_jwt_extended import current_user, verify_jwt_in_request
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import ValidationError
from webargs.flaskparser import FlaskParser, abort

from api import api_key_auth
from api.errors import ErrorSchema
from api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PAGE_RANGE
from app import request_actor
from app.errors import Forbidden
from app.services import tenancy
from app.services.scopes import Scope
from app.services.roles import PROVIDER
from app.services import accounts
from app.services.api_keys import SCOPE_NAMES

_TOKEN_IDENTITY = "bookwell_token_identity"
_LOOKUP_INSTALLED = "bookwell.user_lookup"


class ArgumentsParser(FlaskParser):
    """A JSON body nested deeper than the parser can follow (``[[[[...]]]]``) is invalid
    JSON like any other: 400, not the ``RecursionError`` it raises."""

    def load_json(self, req, schema):
        try:
            return super().load_json(req, schema)
        except RecursionError:
            abort(400, messages={"json": ["The JSON body is nested too deeply."]})


class PaginationParser(ArgumentsParser):
    """flask-smorest's page number has no upper bound; ours has (``MAX_PAGE``)."""

    def parse(self, *args, **kwargs):
        parameters = super().parse(*args, **kwargs)
        try:
            PAGE_RANGE(parameters.page)
        except ValidationError as exc:
            abort(422, messages={"query": {"page": exc.messages}})
        return parameters


class Blueprint(SmorestBlueprint):
    """Adds ``login_required`` which checks the JWT and documents 401/403."""

    ARGUMENTS_PARSER = ArgumentsParser()
    PAGINATION_ARGUMENTS_PARSER = PaginationParser()
    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": DEFAULT_PAGE_SIZE,
                                     "max_page_size": MAX_PAGE_SIZE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.record_once(lambda state: _install_user_lookup(state.app))

    def arguments(self, schema, *args, **kwargs):
        # Given a class, webargs builds (deep-copies) a schema on every request.
        if isinstance(schema, type):
            schema = schema()
        parse = super().arguments(schema, *args, **kwargs)
        if kwargs.get("location", "json") != "json":
            return parse
        document_bad_json = self.alt_response(400, schema=ErrorSchema,
                                              description="The body is not valid JSON")
        return lambda func: document_bad_json(parse(func))

    def login_required(self, *, refresh: bool = False, roles: set[str] | None = None,
                       token_identity: bool = False, scope: str | None = None):
        """``token_identity``: ``current_user`` is an ``accounts.Identity`` holding the
        account id of the verified token, with no query, rather than the ORM account. Only
        for a hot endpoint whose service checks the account itself (placing a booking
        checks it in its statement, or in the read before it): an inactive account gets
        the same 401, one round trip to the database cheaper.

        ``scope``: the API key scope a provider endpoint needs (``catalog:write``); only
        endpoints that declare one accept a provider API key, and every staff endpoint
        must (``tests/api/test_api_key_scopes.py``). A staff JWT needs no scope."""
        if token_identity and roles:
            raise ValueError("a token identity carries no roles to check")
        if scope is not None and scope not in SCOPE_NAMES:
            raise ValueError(f"unknown API key scope {scope!r}")

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                presented = api_key_auth.presented_key()
                if presented is not None:
                    api_key_auth.authenticate(presented, needs=scope)
                    return func(*args, **kwargs)
                setattr(g, _TOKEN_IDENTITY, token_identity)
                verify_jwt_in_request(refresh=refresh)
                request_actor.identify(current_user.id,
                                       getattr(current_user, "provider_id", None))
                if roles and not (current_user.role_names & roles):
                    raise Forbidden("auth.forbidden", "Your account may not do this.")
                return func(*args, **kwargs)

            wrapper.auth_requirement = AuthRequirement(frozenset(roles or ()), scope)
            security = [{"bearerAuth": []}]
            if scope is not None:
                security.append({"apiKey": [scope]})
            wrapper = self.doc(security=security)(wrapper)
            wrapper = self.alt_response(401, schema=ErrorSchema, description="Not signed in")(
                wrapper
            )
            if roles or scope:
                wrapper = self.alt_response(
                    403, schema=ErrorSchema,
                    description="Signed in without the right role"
                    + (f", or an API key without the scope `{scope}`" if scope else ""),
                )(wrapper)
            if scope is not None:
                wrapper = self.alt_response(
                    429, schema=ErrorSchema,
                    description="An API key past its rate limit (`API_KEY_RATE_LIMIT`)",
                )(wrapper)
            return wrapper

        return decorator


@dataclass(frozen=True)
class AuthRequirement:
    """What an endpoint's ``login_required`` asks for, readable from its view function
    (``functools.wraps`` carries it through the decorators above it)."""

    roles: frozenset[str]
    scope: str | None


def _install_user_lookup(app) -> None:
    """Once per app: the JWT user loader answers the token's ``Identity`` where the
    endpoint asked for it, and Flask-AppBuilder's ORM account everywhere else."""
    if app.extensions.get(_LOOKUP_INSTALLED):
        return
    security = app.appbuilder.sm
    load_account = security.load_user_jwt

    def load_user(jwt_header, jwt_data):
        if not g.get(_TOKEN_IDENTITY):
            return load_account(jwt_header, jwt_data)
        identity = accounts.token_identity(jwt_data["sub"])
        if identity is not None:
            g.user = identity  # as Flask-AppBuilder does for the accounts it loads
        return identity

    security.jwt_manager.user_lookup_loader(load_user)
    app.extensions[_LOOKUP_INSTALLED] = True


# Provider staff endpoints: the role they need, and the provider they act for.
STAFF = {PROVIDER}


def staff_provider_id() -> int:
    """The signed-in staff member's provider, or the provider of the API key the call is
    made with; anyone else is refused (403)."""
    caller = api_key_auth.current_caller()
    if caller is not None:
        return caller.provider_id
    return tenancy.staff_provider_id(current_user)


def acting_account_id() -> int | None:
    """The signed-in account's id; None for a call made with an API key (the audit trail
    names the key)."""
    if api_key_auth.current_caller() is not None:
        return None
    return current_user.id


def staff_scope() -> Scope:
    """The scope of the signed-in staff member's provider; anyone else is refused (403)."""
    return Scope.of_provider(staff_provider_id())
