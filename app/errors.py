"""Domain errors with dotted codes; the edges translate them (API → 4xx JSON, console → flash)."""
from __future__ import annotations


class DomainError(Exception):
    """A business rule said no. ``status`` is the HTTP status the API answers with."""

    status = 409

    def __init__(self, code: str, message: str, errors: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or {}


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule about its values."""

    status = 422


class NotFound(DomainError):
    """Missing, or belongs to another tenant: the two are indistinguishable on purpose."""

    status = 404


class Conflict(DomainError):
    status = 409


class Unauthorized(DomainError):
    status = 401


# A valid token whose account was deactivated or deleted: the JWT loader and the booking
# service (which checks the account itself) answer alike.
UNKNOWN_USER = ("auth.unknown_user", "The account is inactive or no longer exists.")


class Forbidden(DomainError):
    status = 403
