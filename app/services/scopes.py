"""Who acts, and on which providers' rows: values every service that reads or changes
tenant-owned rows takes as required arguments.

A :class:`Scope` is either one provider or, explicitly, every provider. There is no
default: a service called without one fails with ``TypeError`` instead of acting with
admin reach (tenancy fails closed). Only admin edges and system callers (jobs, the CLI,
event handlers) construct :meth:`Scope.all_providers`; staff edges build theirs from the
signed-in user with :func:`app.services.tenancy.scope_for`.

An :class:`Actor` is the acting user (None for the system), the request's address and a
reason for the history, or a provider API key that acts for its provider; edges build
it, services only read it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id (None for the system), a reason for the history, the address
    the request came from (None outside a request); for a call made with a provider API
    key, the key's id and label (``API key 'CRM sync' (bwk_ab12cd34)``) and no user."""

    user_id: int | None
    reason: str = ""
    ip: str | None = None
    api_key_id: int | None = None
    api_key_label: str | None = None

    def because(self, reason: str) -> Actor:
        return Actor(self.user_id, reason, self.ip, self.api_key_id, self.api_key_label)

    @property
    def name(self) -> str:
        """The actor in words, for logs and the history: the key's label or the user."""
        if self.api_key_label:
            return self.api_key_label
        return f"user {self.user_id}" if self.user_id is not None else "system"


SYSTEM = Actor(None)


@dataclass(frozen=True)
class Scope:
    """The providers whose rows a service may touch: one, or all of them (explicitly)."""

    provider_id: int | None = None
    every_provider: bool = False

    def __post_init__(self):
        if self.every_provider:
            if self.provider_id is not None:
                raise TypeError("an all-providers scope names no provider")
        elif type(self.provider_id) is not int:
            raise TypeError("a provider scope needs the provider's id; use "
                            "Scope.all_providers() for admin and system work")

    @classmethod
    def of_provider(cls, provider_id: int) -> Scope:
        return cls(provider_id=provider_id)

    @classmethod
    def all_providers(cls) -> Scope:
        """Every provider's rows: for platform admins and system callers only."""
        return cls(every_provider=True)

    def filter(self, query: Select, model) -> Select:
        """``query`` restricted to this scope's rows of ``model`` (which has provider_id)."""
        if self.every_provider:
            return query
        return query.where(model.provider_id == self.provider_id)

    def allows(self, provider_id: int | None) -> bool:
        return self.every_provider or provider_id == self.provider_id

    def __str__(self) -> str:
        return "all providers" if self.every_provider else f"provider {self.provider_id}"


def require_scope(scope) -> Scope:
    """Refuse anything but a Scope (None, a bare id): a TypeError, never admin reach."""
    if not isinstance(scope, Scope):
        raise TypeError(f"expected a Scope, got {type(scope).__name__}")
    return scope
