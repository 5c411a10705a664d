"""The console's add and edit forms, adapted to the person signed in.

Flask-AppBuilder builds a screen's form class once, at start-up, from ``add_columns`` /
``edit_columns``. What differs per person is decided where every form is built, in the
form's own ``__init__`` (WTForms' public way to add or remove fields of one form:
``del form[name]``), and the form widget shows the fields the form has:

- provider staff never see or choose a provider: the field is removed from their forms
  (their own provider is implied, and pinned on save by ``TenantModelView``);
- money fields show a stored amount in major units of the row's currency, moments on
  the wall clock of the row's provider;
- time and date fields say which zone they are in: the staff's provider's;
- an optional dropdown's empty choice reads "— none —".

This uses only public hooks (``add_form``/``edit_form`` as form classes, ``add_widget``/
``edit_widget`` as widget classes), not Flask-AppBuilder's private ``_add``/``_edit``.
"""
from __future__ import annotations

from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.widgets import FormWidget

from app.services import catalog_rules

PROVIDER_FIELD = "provider"


def _signed_in():
    from views.base import current_user, user_is_admin, user_provider_id

    user = current_user()
    return user_is_admin(user), user_provider_id(user)


def staff_zone() -> str | None:
    """The time zone of the signed-in staff's provider (None for admins)."""
    is_admin, provider_id = _signed_in()
    if is_admin or provider_id is None:
        return None
    return catalog_rules.provider_timezone(provider_id)


def zone_note(zone: str | None) -> str:
    return f"Times in {zone}" if zone else "Times in the provider's own time zone"


def for_the_signed_in_person(form_class):
    """``form_class`` adapted, each time a form is built, to the person signed in."""

    class ConsoleForm(form_class):
        def __init__(self, *args, **kwargs):
            # Passed on as given: Flask-WTF reads the request's form only when no
            # ``formdata`` argument is passed at all.
            super().__init__(*args, **kwargs)
            obj = kwargs.get("obj")
            is_admin, _ = _signed_in()
            if not is_admin and PROVIDER_FIELD in self:
                del self[PROVIDER_FIELD]
            zone = None if is_admin else staff_zone()
            for field in self:
                if hasattr(field, "show_stored"):  # money, moments: in the row's units
                    field.show_stored(obj)
                if isinstance(field, QuerySelectField) and field.allow_blank \
                        and not field.blank_text:
                    # An empty label shows the blank choice's value ("__None").
                    field.blank_text = "— none —"
                if getattr(field, "zoned", False):
                    field.description = zone_note(zone)

    ConsoleForm.__name__ = form_class.__name__
    return ConsoleForm


class ConsoleFormWidget(FormWidget):
    """The standard form, showing only the columns the form has (a removed provider
    field is not rendered)."""

    def __init__(self, **kwargs):
        form = kwargs.get("form")
        if form is not None:
            kwargs["include_cols"] = [c for c in kwargs.get("include_cols") or [] if c in form]
            kwargs["fieldsets"] = [
                (title, {**spec, "fields": [c for c in spec.get("fields", []) if c in form]})
                for title, spec in kwargs.get("fieldsets") or []
            ]
        super().__init__(**kwargs)


__all__ = ["ConsoleFormWidget", "for_the_signed_in_person", "staff_zone", "zone_note"]
