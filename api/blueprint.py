"""A smorest Blueprint that documents our error shape and auth requirements."""
from __future__ import annotations

from functools import wraps

from flask_jwt_extended import current_user, verify_jwt_in_request
from flask_smorest import Blueprint as SmorestBlueprint

from api.errors import ErrorSchema
from app.errors import Forbidden


class Blueprint(SmorestBlueprint):
    """Adds ``login_required`` which checks the JWT and documents 401/403."""

    def login_required(self, *, refresh: bool = False, roles: set[str] | None = None):
        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                verify_jwt_in_request(refresh=refresh)
                if roles and not (current_user.role_names & roles):
                    raise Forbidden("auth.forbidden", "Your account may not do this.")
                return func(*args, **kwargs)

            doc = {"security": [{"bearerAuth": []}]}
            wrapper = self.doc(**doc)(wrapper)
            wrapper = self.alt_response(401, schema=ErrorSchema, description="Not signed in")(
                wrapper
            )
            if roles:
                wrapper = self.alt_response(
                    403, schema=ErrorSchema, description="Signed in without the right role"
                )(wrapper)
            return wrapper

        return decorator
