"""Tenancy fails closed: every service entry point over tenant rows refuses to run without
a Scope, and only admin and system callers construct the all-providers one.

The refusals run in an application context that records every statement sent to the
database: a service must refuse before it sends one.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

import app.services
from app.services.scopes import Scope

ROOT = Path(__file__).resolve().parents[2]
SCOPE_REFUSED = "expected a Scope"

# ``provider_id=None`` where None does not mean "every provider".
NOT_A_TENANT_FILTER = {
    "app.services.audit.record": "the provider an entry is about, None for platform rows",
    "app.services.audit.entry_values": "as record",
    "app.services.users.ensure_user": "the provider a new user belongs to, if any",
    "app.services.notification_templates.resolve": "None asks for the platform default",
    "app.services.notification_templates.preview": "None previews the platform default",
    "app.services.browse.list_categories":
        "the public catalog: None lists every active provider's categories, as customers see",
    "app.services.browse.category_ids_named": "as list_categories",
    "app.services.webhook_endpoints.create_endpoint":
        "whose endpoint a new one is: None is a platform endpoint for admins; a provider "
        "scope always makes its own provider's",
}
# Booking functions still defaulting to every provider: none since the booking_* modules
# took a Scope. Keep it empty.
BOOKING_FUNCTIONS_NOT_YET_SCOPED: set[str] = set()
# Where ``Scope.all_providers()`` may be written: the scope itself, the admin rule in
# tenancy.scope_for, and system callers (the job registry and jobs, the CLI, event
# handlers, sweeps).
ALL_PROVIDERS_ALLOWED = (
    "app/services/scopes.py",
    "app/services/tenancy.py",
    "app/cli.py",
    "app/job_registry.py",
    "app/services/event_handlers.py",
    "app/services/sweeps.py",
    "app/services/housekeeping.py",
    "jobs/",
)
SCANNED_PACKAGES = ("app", "api", "views", "jobs")


def _service_functions():
    for module_info in pkgutil.iter_modules(app.services.__path__):
        module = importlib.import_module(f"app.services.{module_info.name}")
        for name, function in vars(module).items():
            if (not name.startswith("_") and inspect.isfunction(function)
                    and function.__module__ == module.__name__):
                yield f"{module.__name__}.{name}", function


def _scoped_functions():
    return [(name, function) for name, function in _service_functions()
            if "scope" in inspect.signature(function).parameters
            and name != "app.services.scopes.require_scope"]


SCOPED = _scoped_functions()


def _call_with(function, *, leaving_out=(), **extra):
    """Call ``function`` with None for every argument it requires but those left out,
    and ``extra``."""
    args, kwargs = [], dict(extra)
    for parameter in inspect.signature(function).parameters.values():
        if (parameter.name in extra or parameter.name in leaving_out
                or parameter.default is not inspect.Parameter.empty):
            continue
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = None
        elif parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            args.append(None)
    return function(*args, **kwargs)


@pytest.fixture
def statements(app_ctx):
    """Every SQL statement sent while the test runs."""
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


def test_the_walk_finds_the_scoped_services():
    names = {name for name, _ in SCOPED}
    assert {"app.services.payment_queries.list_payments", "app.services.catalog.update",
            "app.services.availability.generate_slots", "app.services.booking_calendar.calendar_view",
            "app.services.tenancy.get_owned"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize("name,function", SCOPED, ids=[name for name, _ in SCOPED])
def test_scope_is_a_required_keyword(name, function, statements):
    parameter = inspect.signature(function).parameters["scope"]
    assert parameter.kind is parameter.KEYWORD_ONLY, name
    assert parameter.default is inspect.Parameter.empty, name
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'scope'"):
        _call_with(function, leaving_out=("scope",))
    assert statements == []


@pytest.mark.parametrize("value", [None, 7, "all"])
@pytest.mark.parametrize("name,function", SCOPED, ids=[name for name, _ in SCOPED])
def test_no_scope_in_its_place_is_refused_before_the_database(name, function, value,
                                                             statements):
    with pytest.raises(TypeError, match=SCOPE_REFUSED):
        _call_with(function, scope=value)
    assert statements == []


def test_no_service_defaults_to_every_provider():
    defaults = {name for name, function in _service_functions()
                if (parameter := inspect.signature(function).parameters.get("provider_id"))
                is not None and parameter.default is None}
    assert defaults - NOT_A_TENANT_FILTER.keys() == BOOKING_FUNCTIONS_NOT_YET_SCOPED


def _all_providers_writers() -> set[str]:
    writers = set()
    for package in SCANNED_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if re.search(r"\ball_providers\(", path.read_text(encoding="utf-8")):
                writers.add(path.relative_to(ROOT).as_posix())
    return writers


def test_only_admin_and_system_code_constructs_the_all_providers_scope():
    writers = _all_providers_writers()
    assert "app/job_registry.py" in writers  # the scan sees what it should
    strays = {path for path in writers
              if not any(path == allowed or (allowed.endswith("/") and path.startswith(allowed))
                         for allowed in ALL_PROVIDERS_ALLOWED)}
    assert strays == set()


def test_the_all_providers_scope_is_explicit():
    assert Scope.all_providers().every_provider
    with pytest.raises(TypeError):
        Scope()
