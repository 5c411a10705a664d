"""Console forms in the units people use: money in major units per currency, selects for
fixed values, no provider field for staff, and back to the list after a save."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Offering, Variant
from tests.views.console import model_form_fields, page_text, select_options, signed_in


def _offering_form(**changes) -> dict:
    form = {"kind": "service", "name": "Sauna", "description": "", "price_minor": "18.50",
            "currency": "", "duration_minutes": "30", "active": "y"}
    form.update(changes)
    return form


def _saved(name: str = "Sauna") -> Offering | None:
    db.session.expire_all()
    return db.session.scalar(select(Offering).where(Offering.name == name))


def _field_value(response, name: str) -> str:
    match = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page_text(response))
    assert match, f"no input {name!r}"
    value = re.search(r'\bvalue="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def _field_errors(response) -> str:
    """The messages shown at the fields of the form."""
    return " ".join(" ".join(found.split()) for found in re.findall(
        r'<div class="alert alert-danger">(.*?)</div>', page_text(response), re.S))


@pytest.mark.parametrize("typed, currency, minor", [
    ("18.50", "", 1850), ("18.50", "EUR", 1850), ("1500", "JPY", 1500), ("1.234", "KWD", 1234),
])
def test_staff_type_prices_in_major_units(app, tenant_a, typed, currency, minor):
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post("/offeringview/add",
                          data=_offering_form(price_minor=typed, currency=currency))

    assert response.status_code == 302, _field_errors(response)
    offering = _saved()
    assert (offering.price_minor, offering.currency) == (minor, currency or "EUR")
    assert offering.provider_id == tenant_a.provider_id


@pytest.mark.parametrize("typed, currency, error", [
    ("15.5", "JPY", "JPY has no decimals"), ("1.2345", "KWD", "KWD has 3 decimals at most"),
    ("18.505", "", "EUR has 2 decimals at most"), ("eighteen", "EUR", "Not an amount"),
    ("NaN", "EUR", "Not an amount"), ("1e9", "EUR", "Not an amount"),
])
def test_amounts_the_currency_cannot_hold_are_a_form_error_and_nothing_is_saved(
        app, tenant_a, typed, currency, error):
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post("/offeringview/add",
                          data=_offering_form(price_minor=typed, currency=currency))

    assert response.status_code == 200  # the form again, with the error at the field
    assert error in _field_errors(response)
    assert _field_value(response, "price_minor") == typed  # what was typed stays
    assert _saved() is None


def test_a_huge_price_is_refused_by_the_catalog_rules(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    response = staff.post("/offeringview/add", data=_offering_form(price_minor="99999999999"),
                          follow_redirects=True)
    assert "The price is too large." in response.get_data(as_text=True)
    assert _saved() is None


@pytest.mark.parametrize("minor, currency, shown", [
    (1850, "EUR", "18.50"), (1500, "JPY", "1500"), (1234, "KWD", "1.234")])
def test_editing_shows_the_stored_price_in_major_units(app, build, tenant_a, minor, currency,
                                                       shown):
    offering_id = build.offering(tenant_a.provider_id, price_minor=minor, currency=currency)
    staff = signed_in(app, tenant_a.staff_email)

    form = staff.get(f"/offeringview/edit/{offering_id}")

    assert _field_value(form, "price_minor") == shown
    saved = staff.post(f"/offeringview/edit/{offering_id}", data=_offering_form(
        name="Kept", price_minor=shown, currency=currency))
    assert saved.status_code == 302
    assert _saved("Kept").price_minor == minor  # shown and saved again: unchanged


def test_variant_price_override_is_in_the_offerings_currency(app, build, tenant_a):
    offering_id = build.offering(tenant_a.provider_id, currency="KWD", price_minor=5000)
    staff = signed_in(app, tenant_a.staff_email)
    form = {"offering": str(offering_id), "name": "Large", "sku": "L-1", "stock": "3",
            "active": "y"}

    refused = staff.post("/variantview/add", data={**form, "price_minor": "2.5005"})
    assert "KWD has 3 decimals at most" in _field_errors(refused)
    assert staff.post("/variantview/add", data={**form, "price_minor": "2.5"}).status_code == 302
    no_override = staff.post("/variantview/add", data={**form, "sku": "L-2", "price_minor": ""})
    assert no_override.status_code == 302

    db.session.expire_all()
    prices = dict(db.session.execute(select(Variant.sku, Variant.price_minor)).all())
    assert prices == {"L-1": 2500, "L-2": None}
    listing = staff.get("/variantview/list/").get_data(as_text=True)
    assert "2.500 KWD" in listing
    variant_id = db.session.scalar(select(Variant.id).where(Variant.sku == "L-1"))
    assert _field_value(staff.get(f"/variantview/edit/{variant_id}"), "price_minor") == "2.500"


def test_fixed_values_are_picked_from_selects(app, build, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    offering_form = staff.get("/offeringview/add")
    assert select_options(offering_form, "kind") == [
        "Service: booked in time slots", "Product: sold from stock"]
    currencies = select_options(offering_form, "currency")
    assert currencies[0] == "The provider's currency"
    assert {"EUR · Euro", "JPY · Japanese Yen", "KWD · Kuwaiti Dinar"} <= set(currencies)

    rule_form = staff.get("/availabilityruleview/add")
    assert select_options(rule_form, "weekday") == [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    text = page_text(rule_form)
    assert re.search(r'<input[^>]*name="start_time"[^>]*type="time"|'
                     r'<input[^>]*type="time"[^>]*name="start_time"', text)
    assert "Times in Europe/Berlin" in text
    provider_form = staff.get(f"/providerview/edit/{tenant_a.provider_id}")
    assert "Europe/Berlin" in select_options(provider_form, "timezone")
    assert "EUR · Euro" in select_options(provider_form, "currency")


TENANT_FORMS = ["offeringview", "variantview", "categoryview", "locationview",
                "availabilityruleview", "closeddayview"]


@pytest.mark.parametrize("view", TENANT_FORMS)
def test_staff_forms_have_no_provider_field_admin_forms_do(app, tenant_a, admin_email, view):
    staff = signed_in(app, tenant_a.staff_email)
    admin = signed_in(app, admin_email)

    assert "provider" not in model_form_fields(staff.get(f"/{view}/add"))
    assert "provider" in model_form_fields(admin.get(f"/{view}/add"))


def test_a_forged_provider_is_ignored_the_staffs_own_is_used(app, build, tenant_a, tenant_b):
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post("/offeringview/add",
                          data=_offering_form(provider=str(tenant_b.provider_id)))

    assert response.status_code == 302
    assert _saved().provider_id == tenant_a.provider_id
    assert db.session.scalar(select(func.count()).select_from(Offering).where(
        Offering.provider_id == tenant_b.provider_id)) == 0


def test_admins_pick_the_provider_and_its_currency_applies(app, build, admin_email):
    yen_shop = build.provider(name="Tokyo Cuts", currency="JPY")
    admin = signed_in(app, admin_email)

    refused = admin.post("/offeringview/add",
                         data=_offering_form(provider=str(yen_shop), price_minor="15.5"))
    assert "JPY has no decimals" in _field_errors(refused)
    saved = admin.post("/offeringview/add",
                       data=_offering_form(provider=str(yen_shop), price_minor="1500"))
    assert saved.status_code == 302
    assert (_saved().price_minor, _saved().currency, _saved().provider_id) == (1500, "JPY",
                                                                              yen_shop)


def test_after_saving_back_to_the_list_the_person_came_from(app, build, tenant_a):
    offering_id = build.offering(tenant_a.provider_id, name="Yoga")
    staff = signed_in(app, tenant_a.staff_email)
    the_list = "/offeringview/list/?_flt_0_name=Yoga&psize_OfferingView=25"
    assert staff.get(the_list).status_code == 200
    staff.get("/variantview/list/")  # another list opened meanwhile (another tab)
    staff.get(f"/offeringview/edit/{offering_id}")

    saved = staff.post(f"/offeringview/edit/{offering_id}",
                       data=_offering_form(name="Yoga", price_minor="19"))

    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(the_list)
    added = staff.post("/offeringview/add", data=_offering_form())
    assert added.headers["Location"].endswith(the_list)


def test_without_a_remembered_list_a_save_lands_on_the_screens_own_list(app, build, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    staff.get("/variantview/list/")

    added = staff.post("/offeringview/add", data=_offering_form())

    assert added.status_code == 302
    assert added.headers["Location"].endswith("/offeringview/list/")
