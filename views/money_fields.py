"""Form fields for money: amounts typed in major units, currencies picked from a list.

The database keeps integer minor units and an ISO 4217 code; people type "18.50" and pick
"EUR". ``MoneyField`` converts with the one rule in ``app.services.money`` for the currency
the same form names (its currency select, or a fallback such as the provider's currency),
and shows a stored amount back in major units of the row's currency.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

from babel.numbers import get_currency_name, list_currencies
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

from app.services.money import AmountError, major_units_text, parse_major_units


@lru_cache(maxsize=1)
def currency_choices() -> tuple[tuple[str, str], ...]:
    """Every ISO 4217 code the services accept, as ("EUR", "EUR · Euro")."""
    return tuple((code, f"{code} · {get_currency_name(code, locale='en')}")
                 for code in sorted(list_currencies()))


def currency_select(label: str = "Currency", *, blank: str | None = None,
                    description: str = "") -> SelectField:
    """A searchable select of currencies; ``blank`` labels an empty first choice (for
    "the provider's currency"), without it a currency must be picked."""
    choices = ([("", blank)] if blank is not None else []) + list(currency_choices())
    return SelectField(label, choices=choices, widget=Select2Widget(),
                       description=description)


class MoneyField(StringField):
    """An amount in major units of a currency the form decides.

    ``currency_of_form(form)`` names the currency a posted amount is in (read when the
    form is validated, so a currency picked in the same form counts);
    ``currency_of_row(row)`` names the currency a stored amount is shown in. After
    validation ``data`` is the amount in minor units (an int), or None when left empty.
    A stored amount is shown in major units only once ``show_stored`` has been told the
    row (the console's forms do it when they are built); until then it shows nothing
    rather than minor units that a save would multiply.
    """

    widget = BS3TextFieldWidget()

    def __init__(self, label=None, validators=None, *,
                 currency_of_form: Callable, currency_of_row: Callable, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.currency_of_form = currency_of_form
        self.currency_of_row = currency_of_row
        self.shown_text = ""

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        self.data = text or None  # typed text until validated, then minor units

    def show_stored(self, row) -> None:
        """Show the row's stored amount in major units of the row's currency."""
        amount = self.data if isinstance(self.data, int) else None
        currency = self.currency_of_row(row) if amount is not None else None
        self.shown_text = major_units_text(amount, currency) if currency else ""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.shown_text

    def post_validate(self, form, validation_stopped):
        if validation_stopped or self.errors or not isinstance(self.data, str):
            return
        currency = self.currency_of_form(form)
        if not currency:
            raise ValidationError("Pick a currency first.")
        try:
            self.data = parse_major_units(self.data, currency)
        except AmountError as exc:
            raise ValidationError(str(exc)) from None


__all__ = ["MoneyField", "currency_choices", "currency_select"]
