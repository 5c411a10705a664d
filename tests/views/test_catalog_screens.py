"""Catalog and availability screens: each is tenant-scoped like the provider screen."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AvailabilityRule,
    Category,
    ClosedDay,
    Location,
    Offering,
    Slot,
    Variant,
)
from tests.views.console import model_form_fields, select_options, signed_in
from tests.views.test_readable_values import visible_text


def _rows(build, provider_id: int, tag: str) -> dict:
    """One row of every catalog kind for a provider, named with ``tag``."""
    location = build.location(provider_id, name=f"{tag} Loft")
    category = build.category(provider_id, name=f"{tag} Classes")
    offering = build.offering(provider_id, name=f"{tag} Flow", location_id=location,
                              category_id=category)
    closed = ClosedDay(provider_id=provider_id, day=datetime(2031, 1, 1).date(),
                       reason=f"{tag} holiday")
    db.session.add(closed)
    db.session.commit()
    return {
        "locationview": location, "categoryview": category, "offeringview": offering,
        "variantview": build.variant(offering, name=f"{tag} Large"),
        "availabilityruleview": build.rule(offering, weekday=2),
        "closeddayview": closed.id,
        "slotview": build.slot(offering, datetime(2031, 3, 3, 9, tzinfo=timezone.utc)),
    }


MODELS = {"locationview": Location, "categoryview": Category, "offeringview": Offering,
          "variantview": Variant, "availabilityruleview": AvailabilityRule,
          "closeddayview": ClosedDay, "slotview": Slot}


@pytest.fixture
def catalogs(build, tenant_a, tenant_b):
    return _rows(build, tenant_a.provider_id, "Alpha"), _rows(build, tenant_b.provider_id,
                                                              "Beta")


@pytest.mark.parametrize("view", sorted(MODELS))
def test_staff_see_only_their_rows_and_get_404_for_foreign_ids(app, tenant_a, catalogs, view):
    own, foreign = catalogs
    staff = signed_in(app, tenant_a.staff_email)

    listing = staff.get(f"/{view}/list/")
    assert listing.status_code == 200
    assert "Beta" not in listing.get_data(as_text=True)
    assert staff.get(f"/{view}/show/{own[view]}").status_code == 200
    assert staff.get(f"/{view}/show/{foreign[view]}").status_code == 404
    if view != "slotview":
        assert staff.get(f"/{view}/edit/{foreign[view]}").status_code == 404
    staff.post(f"/{view}/delete/{foreign[view]}")
    assert db.session.get(MODELS[view], foreign[view]) is not None


def test_offering_form_dropdowns_offer_only_own_rows(app, tenant_a, catalogs):
    staff = signed_in(app, tenant_a.staff_email)
    form = staff.get("/offeringview/add")
    assert select_options(form, "location") == ["Alpha Loft"]
    assert select_options(form, "category") == ["Alpha Classes"]
    assert model_form_fields(form).count("provider") == 0  # staff: their own is implied
    variant_form = staff.get("/variantview/add")
    assert select_options(variant_form, "offering") == ["Alpha Flow"]


def _offering_form(tenant, **changes) -> dict:
    form = {"provider": str(tenant.provider_id), "kind": "service", "name": "Sauna",
            "description": "", "price_minor": "2500", "currency": "", "duration_minutes": "30",
            "active": "y"}
    form.update(changes)
    return form


def test_console_save_uses_the_catalog_rules(app, tenant_a, catalogs):
    staff = signed_in(app, tenant_a.staff_email)

    refused = staff.post("/offeringview/add", data=_offering_form(tenant_a, price_minor="-5"),
                         follow_redirects=True)
    assert "A price cannot be negative." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Offering.name == "Sauna")) == 0

    saved = staff.post("/offeringview/add", data=_offering_form(tenant_a))
    assert saved.status_code == 302
    offering = db.session.scalar(select(Offering).where(Offering.name == "Sauna"))
    assert offering.provider_id == tenant_a.provider_id
    assert offering.currency == "EUR"  # filled from the provider


def _announced() -> list[list[int]]:
    from app.models import OutboxEvent

    db.session.expire_all()
    return [event.payload["offering_ids"] for event in db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "offering.changed")
        .order_by(OutboxEvent.created_at))]


def test_console_saves_announce_the_changed_offerings_with_the_save(app, tenant_a,
                                                                    catalogs):
    own, _ = catalogs
    staff = signed_in(app, tenant_a.staff_email)
    refused = staff.post("/offeringview/add", data=_offering_form(tenant_a, price_minor="-5"),
                         follow_redirects=True)
    assert "A price cannot be negative." in refused.get_data(as_text=True)
    assert _announced() == []  # nothing saved, nothing said

    assert staff.post("/offeringview/add", data=_offering_form(tenant_a)).status_code == 302
    offering_id = db.session.scalar(select(Offering.id).where(Offering.name == "Sauna"))
    assert _announced() == [[offering_id]]

    staff.post(f"/categoryview/delete/{own['categoryview']}")
    assert db.session.get(Category, own["categoryview"]) is None
    assert _announced()[-1] == [own["offeringview"]]  # its offerings show no category now


def test_a_rule_saved_in_the_console_makes_slots(app, tenant_a, catalogs):
    own, _ = catalogs
    staff = signed_in(app, tenant_a.staff_email)
    today = datetime.now(timezone.utc).date()
    weekday = (today + timedelta(days=2)).weekday()

    response = staff.post("/availabilityruleview/add", data={
        "provider": str(tenant_a.provider_id), "offering": str(own["offeringview"]),
        "weekday": str(weekday), "start_time": "10:00", "end_time": "12:00",
        "slot_minutes": "60", "capacity": "4", "valid_from": today.isoformat()})

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    slots = db.session.scalars(select(Slot).where(
        Slot.offering_id == own["offeringview"], Slot.capacity == 4)).all()
    assert len(slots) >= 2 * 8  # two a week for the window


def test_overlapping_rule_is_refused_with_a_message(app, tenant_a, catalogs):
    own, _ = catalogs
    staff = signed_in(app, tenant_a.staff_email)
    response = staff.post("/availabilityruleview/add", data={
        "provider": str(tenant_a.provider_id), "offering": str(own["offeringview"]),
        "weekday": "2", "start_time": "10:00", "end_time": "11:00", "slot_minutes": "60",
        "capacity": "1", "valid_from": "2020-01-01"}, follow_redirects=True)
    assert "overlaps another rule" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AvailabilityRule).where(
        AvailabilityRule.offering_id == own["offeringview"])) == 1


def test_location_shows_geocoding_problems(app, tenant_a, build):
    location = build.location(tenant_a.provider_id, name="Nowhere", lat=None, lng=None,
                              geocode_status="zero_results",
                              geocode_error="Google found no place for this address.")
    staff = signed_in(app, tenant_a.staff_email)
    page = staff.get(f"/locationview/show/{location}").get_data(as_text=True)
    assert "Address not found" in page and "Google found no place" in page
    assert "zero_results" not in visible_text(page)  # the status in words, not its code


def test_location_page_shows_a_map_only_with_a_key(app, tenant_a, build):
    location = build.location(tenant_a.provider_id, name="Harbor", lat=52.529, lng=13.401)
    staff = signed_in(app, tenant_a.staff_email)
    assert "maps/embed" not in staff.get(f"/locationview/show/{location}").get_data(
        as_text=True)
    app.config["GOOGLE_MAPS_API_KEY"] = "AIzaTestKey"
    try:
        page = staff.get(f"/locationview/show/{location}").get_data(as_text=True)
    finally:
        app.config["GOOGLE_MAPS_API_KEY"] = None
    assert "maps/embed/v1/place?key=AIzaTestKey&amp;q=52.529,13.401" in page or \
        "maps/embed/v1/place?key=AIzaTestKey&q=52.529,13.401" in page


def test_staff_may_run_the_generate_and_regeocode_actions(app, tenant_a, catalogs, build):
    own, _ = catalogs
    staff = signed_in(app, tenant_a.staff_email)
    generated = staff.post("/slotview/action_post", data={"action": "generate",
                                                          "rowid": [str(own["slotview"])]},
                           follow_redirects=True)
    assert "new slots" in generated.get_data(as_text=True)
    located = staff.post(f"/locationview/action/regeocode/{own['locationview']}",
                        follow_redirects=True)
    assert "Not geocoded: no Maps key is configured" in located.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/slotview/list/?_flt_1_starts_at=2030-01-01",
                                 "/slotview/list/?_flt_1_starts_at=2030-01-01T10:00:00%2B02:00",
                                 "/slotview/list/?_flt_0_starts_at=not-a-date",
                                 "/auditlogview/list/?_flt_1_created_at=2020-01-01"])
def test_date_searches_are_never_a_500(app, tenant_a, catalogs, url):
    staff = signed_in(app, tenant_a.staff_email)
    assert staff.get(url).status_code == 200
