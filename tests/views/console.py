"""Helpers for console (Flask-AppBuilder) tests: sign-in, reading forms, row snapshots."""
from __future__ import annotations

import html
import re

from sqlalchemy import func, inspect, select

from app import create_app
from app.extensions import db
from app.models import AuditLog, Provider
from app.services import audit
from tests import conftest
from tests.helpers import IsolatedClient, console_login
from views.providers import ProviderView


def second_app(app, tmp_dir: str, views=(), **overrides):
    """Another app on the test database and Redis: other settings, or extra screens."""
    other = create_app(conftest.test_settings(tmp_dir, **overrides))
    if not other.config["REDIS_URL"]:
        other.extensions["bookwell.redis"] = app.extensions["bookwell.redis"]
    with other.app_context():
        for view in views:
            other.appbuilder.add_view_no_menu(view)
    return other


ConsoleClient = IsolatedClient


def console_client(app) -> ConsoleClient:
    """A fresh client: no cookies, nobody signed in."""
    return ConsoleClient(app, app.response_class, use_cookies=True)


def is_signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def signed_in(app, email: str):
    """A fresh test client with its own console session for ``email``."""
    client = console_client(app)
    response = console_login(client, email)
    assert response.status_code == 302, response.status_code
    assert is_signed_in(client), f"{email} could not sign in to the console"
    return client


def page_text(response) -> str:
    """The page as text, with the search form's JSON-escaped widgets turned back into HTML
    and the scripts' nonces blanked: random letters that a test looking for a word (a
    currency, a name) would otherwise find now and then."""
    text = re.sub(r'\bnonce="[^"]*"', 'nonce=""', response.get_data(as_text=True))
    return text.replace("\\u003c", "<").replace("\\u003e", ">").replace('\\"', '"')


def select_options(response, field: str) -> list[str]:
    """Labels of the real options (not the blank one) of the ``<select id=field>``."""
    match = re.search(
        rf'<select[^>]*\bid="{re.escape(field)}"[^>]*>(.*?)</select>', page_text(response), re.S
    )
    assert match, f"no <select id={field!r}> on the page"
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>(.*?)</option>', match.group(1), re.S)
    return [html.unescape(label).strip() for value, label in options if value != "__None"]


def model_form_fields(response) -> list[str]:
    """The names of the inputs of the add or edit form (``#model_form``)."""
    match = re.search(r'<form id="model_form".*?</form>', page_text(response), re.S)
    assert match, "no add or edit form on the page"
    return re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', match.group(0))


def csrf_token(response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no csrf_token on the page"
    return match.group(1)


def provider_snapshot(provider_id: int) -> dict | None:
    """Every column of the provider row, read fresh from the database (None if gone)."""
    db.session.expire_all()
    row = db.session.get(Provider, provider_id)
    if row is None:
        return None
    return {attr.key: getattr(row, attr.key) for attr in inspect(Provider).column_attrs}


def provider_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Provider))


def provider_form(provider_id: int, **changes) -> dict:
    """The edit form as the browser would post it: current values, with ``changes`` applied."""
    values = provider_snapshot(provider_id)
    values.update(changes)
    # Columns of the row; the form's other fields (a logo upload) are sent empty.
    form = {name: values.get(name) or "" for name in ProviderView.edit_columns
            if name != "active"}
    if values["active"]:
        form["active"] = "y"
    return form


def audit_entry(provider_id: int | None, action: str) -> int:
    """An explicit audit row, committed; returns its id."""
    entry_id = audit.record(action, entity="test", provider_id=provider_id)
    db.session.commit()
    return entry_id


def audit_rows(action: str) -> list[AuditLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def set_provider_active(provider_id: int, active: bool) -> None:
    db.session.get(Provider, provider_id).active = active
    db.session.commit()
