"""Resources in the console: staff, rooms and equipment of a provider, their time off on
the provider's clock, and the offering form's "Done by" and buffers."""
from __future__ import annotations

import html
from datetime import datetime, timezone

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Offering, Resource, ResourceBusy
from app.services import resources
from app.services.roles import CUSTOMER, PROVIDER
from app.services.scopes import Scope
from tests.views.console import (
    console_client,
    model_form_fields,
    page_text,
    select_options,
    signed_in,
)


def _resource(provider_id: int, name: str, kind: str = "staff") -> int:
    resource = resources.create_resource(scope=Scope.of_provider(provider_id), name=name,
                                         kind=kind)
    return resource.id


def _resources_of(provider_id: int) -> dict[str, Resource]:
    db.session.expire_all()
    return {r.name: r for r in db.session.scalars(
        select(Resource).where(Resource.provider_id == provider_id))}


def test_staff_list_add_and_edit_only_their_own_resources(app, tenant_a, tenant_b):
    own = _resource(tenant_a.provider_id, "Anna")
    foreign = _resource(tenant_b.provider_id, "Bruno", "room")
    staff = signed_in(app, tenant_a.staff_email)

    listing = staff.get("/resourceview/list/")
    assert listing.status_code == 200
    text = page_text(listing)
    assert "Anna" in text and "Staff member" in text and "Bruno" not in text
    for route in ("show", "edit"):
        assert staff.get(f"/resourceview/{route}/{own}").status_code == 200
        assert staff.get(f"/resourceview/{route}/{foreign}").status_code == 404
    assert staff.post(f"/resourceview/edit/{foreign}",
                      data={"name": "Mine now", "kind": "staff"}).status_code == 404

    form = staff.get("/resourceview/add")
    assert "provider" not in model_form_fields(form)  # their own is implied
    assert select_options(form, "kind") == ["Staff member", "Room", "Equipment"]
    saved = staff.post("/resourceview/add", data={"name": "  Room   2 ", "kind": "room",
                                                  "provider": str(tenant_b.provider_id)})
    assert saved.status_code == 302
    room = _resources_of(tenant_a.provider_id)["Room 2"]  # the service's tidy name
    assert room.kind == "room" and room.active
    assert "Room 2" not in _resources_of(tenant_b.provider_id)

    assert staff.post(f"/resourceview/edit/{room.id}",
                      data={"name": "Room 2", "kind": "room"}).status_code == 302
    assert _resources_of(tenant_a.provider_id)["Room 2"].active is False  # unticked


def test_a_taken_name_is_an_error_on_the_form(app, tenant_a, tenant_b):
    _resource(tenant_a.provider_id, "Anna")
    other = _resource(tenant_a.provider_id, "Ben")
    _resource(tenant_b.provider_id, "Carla")
    staff = signed_in(app, tenant_a.staff_email)

    taken = staff.post("/resourceview/add", data={"name": "Anna", "kind": "staff"})
    assert taken.status_code == 200  # the form again, with the error next to the name
    assert "There is a resource called “Anna” already." in page_text(taken)
    renamed = staff.post(f"/resourceview/edit/{other}", data={"name": "Anna",
                                                              "kind": "staff", "active": "y"})
    assert renamed.status_code == 200
    assert "already" in page_text(renamed)
    assert set(_resources_of(tenant_a.provider_id)) == {"Anna", "Ben"}
    # Another provider's names are free; keeping one's own name is fine.
    assert staff.post("/resourceview/add",
                      data={"name": "Carla", "kind": "staff"}).status_code == 302
    assert staff.post(f"/resourceview/edit/{other}", data={"name": "Ben", "kind": "equipment",
                                                           "active": "y"}).status_code == 302
    assert _resources_of(tenant_a.provider_id)["Ben"].kind == "equipment"


def test_admins_choose_the_provider_of_a_new_resource(app, admin_email, tenant_a, tenant_b):
    _resource(tenant_b.provider_id, "Anna")
    admin = signed_in(app, admin_email)
    form = admin.get("/resourceview/add")
    assert "provider" in model_form_fields(form)
    saved = admin.post("/resourceview/add", data={"name": "Anna", "kind": "staff",
                                                  "provider": str(tenant_a.provider_id)})
    assert saved.status_code == 302
    assert "Anna" in _resources_of(tenant_a.provider_id)
    taken = admin.post("/resourceview/add", data={"name": "Anna", "kind": "staff",
                                                  "provider": str(tenant_b.provider_id)})
    assert "already" in page_text(taken)
    listing = page_text(admin.get("/resourceview/list/"))
    assert "Alpha Spa" in listing and "Beta Barbers" in listing
    # An offering of one provider is never done by another's resource.
    foreign = _resource(tenant_b.provider_id, "Bruno")
    refused = admin.post("/offeringview/add", data=MultiDict([
        *_offering_form(provider=str(tenant_a.provider_id)).items(),
        ("resources", str(foreign))]), follow_redirects=True)
    assert "Done by: choose this provider's resources." in html.unescape(page_text(refused))
    assert db.session.scalar(select(Offering).where(Offering.name == "Cut")) is None


def test_time_off_is_typed_and_shown_on_the_providers_clock(app, tenant_a, tenant_b):
    anna = _resource(tenant_a.provider_id, "Anna")  # the provider is in Berlin
    bruno = _resource(tenant_b.provider_id, "Bruno")
    staff = signed_in(app, tenant_a.staff_email)

    form = staff.get("/resourcetimeoffview/add")
    assert select_options(form, "resource") == ["Anna"]
    assert "Times in Europe/Berlin" in page_text(form)

    wrong_way = staff.post("/resourcetimeoffview/add", data={
        "resource": str(anna), "starts_at": "2031-07-15T12:00", "ends_at": "2031-07-15T09:00"})
    assert wrong_way.status_code == 200
    assert "The end must be after the start." in page_text(wrong_way)
    assert staff.post("/resourcetimeoffview/add", data={
        "resource": str(bruno), "starts_at": "2031-07-15T09:00",
        "ends_at": "2031-07-15T12:00"}).status_code == 200  # not a choice for them
    assert db.session.scalar(select(ResourceBusy)) is None

    saved = staff.post("/resourcetimeoffview/add", data={
        "resource": str(anna), "starts_at": "2031-07-15T09:00", "ends_at": "2031-07-15T12:30",
        "reason": "Dentist"})
    assert saved.status_code == 302
    busy = db.session.scalar(select(ResourceBusy))
    busy_id = busy.id
    assert (busy.provider_id, busy.resource_id) == (tenant_a.provider_id, anna)
    assert busy.starts_at == datetime(2031, 7, 15, 7, 0, tzinfo=timezone.utc)  # CEST
    assert busy.ends_at == datetime(2031, 7, 15, 10, 30, tzinfo=timezone.utc)

    listing = page_text(staff.get(f"/resourcetimeoffview/list/?_flt_0_resource={anna}"))
    assert "2031-07-15 09:00 CEST" in listing and "2031-07-15 12:30 CEST" in listing
    assert "Dentist" in listing
    resource_list = page_text(staff.get("/resourceview/list/"))
    assert f"/resourcetimeoffview/list/?_flt_0_resource={anna}" in resource_list

    other = signed_in(app, tenant_b.staff_email)
    assert other.get(f"/resourcetimeoffview/show/{busy_id}").status_code == 404
    other.post(f"/resourcetimeoffview/delete/{busy_id}")
    db.session.expire_all()
    assert db.session.get(ResourceBusy, busy_id) is not None
    assert staff.post(f"/resourcetimeoffview/delete/{busy_id}").status_code == 302
    db.session.expire_all()
    assert db.session.get(ResourceBusy, busy_id) is None


def _offering_form(**changes) -> dict:
    form = {"kind": "service", "name": "Cut", "description": "", "price_minor": "30",
            "currency": "", "duration_minutes": "30", "active": "y"}
    form.update(changes)
    return form


def test_the_offering_form_saves_done_by_and_buffers(app, build, tenant_a, tenant_b):
    anna = _resource(tenant_a.provider_id, "Anna")
    chair = _resource(tenant_a.provider_id, "Chair 1", "equipment")
    bruno = _resource(tenant_b.provider_id, "Bruno")
    staff = signed_in(app, tenant_a.staff_email)

    form = staff.get("/offeringview/add")
    assert select_options(form, "resources") == ["Anna", "Chair 1"]
    text = page_text(form)
    assert "Buffer before (minutes)" in text and "Buffer after (minutes)" in text
    assert "Customers do not see it" in text

    saved = staff.post("/offeringview/add", data=MultiDict([
        *_offering_form(buffer_before_minutes="10", buffer_after_minutes="15").items(),
        ("resources", str(anna)), ("resources", str(chair))]))
    assert saved.status_code == 302
    db.session.expire_all()
    offering = db.session.scalar(select(Offering).where(Offering.name == "Cut"))
    assert (offering.buffer_before_minutes, offering.buffer_after_minutes) == (10, 15)
    assert sorted(r.name for r in resources.resources_of_offering(offering.id)) == [
        "Anna", "Chair 1"]
    edit = staff.get(f"/offeringview/edit/{offering.id}")
    assert 'value="10"' in page_text(edit) and 'value="15"' in page_text(edit)

    # Another provider's resource is never taken, even posted by hand.
    staff.post(f"/offeringview/edit/{offering.id}", data=MultiDict([
        *_offering_form(buffer_before_minutes="10").items(), ("resources", str(anna)),
        ("resources", str(bruno))]))
    assert [r.name for r in resources.resources_of_offering(offering.id)] == ["Anna"]
    too_long = staff.post(f"/offeringview/edit/{offering.id}",
                          data=_offering_form(buffer_after_minutes="2000"))
    assert too_long.status_code == 200 and "Number must be between" in page_text(too_long)
    # Emptied: it needs no one.
    assert staff.post(f"/offeringview/edit/{offering.id}",
                      data=_offering_form()).status_code == 302
    assert resources.resources_of_offering(offering.id) == []
    db.session.expire_all()
    assert db.session.get(Offering, offering.id).buffer_before_minutes == 0

    for page in (f"/offeringview/show/{offering.id}", "/offeringview/list/"):
        assert staff.get(page).status_code == 200
    resources.set_offering_resources(offering.id, [anna], scope=Scope.of_provider(
        tenant_a.provider_id))
    shown = page_text(staff.get(f"/offeringview/show/{offering.id}"))
    assert "Done by" in shown and "Anna" in shown


def test_a_product_is_done_by_no_one(app, tenant_a):
    anna = _resource(tenant_a.provider_id, "Anna")
    staff = signed_in(app, tenant_a.staff_email)
    refused = staff.post("/offeringview/add", data=MultiDict([
        *_offering_form(kind="product", name="Shampoo").items(), ("resources", str(anna))]),
        follow_redirects=True)
    assert "only services need resources" in page_text(refused)
    assert db.session.scalar(select(Offering).where(Offering.name == "Shampoo")) is None


def test_customers_have_no_way_in_and_staff_get_the_screens(app, build, tenant_a):
    anna = _resource(tenant_a.provider_id, "Anna")
    customer_id = build.customer()
    client = console_client(app)
    # Even with a console session of their own (a stale or forged cookie), nothing.
    with client.session_transaction() as session:
        session["_user_id"] = str(customer_id)
        session["_fresh"] = True
    for url in ("/resourceview/list/", f"/resourceview/show/{anna}",
                "/resourcetimeoffview/list/", "/resourcetimeoffview/add"):
        answer = client.get(url)
        assert answer.status_code in (302, 401, 403), (url, answer.status_code)
        assert "Anna" not in answer.get_data(as_text=True)
    sm = app.appbuilder.sm
    for view in ("ResourceView", "ResourceTimeOffView"):
        assert not [pv for pv in sm.find_role(CUSTOMER).permissions
                    if pv.view_menu.name == view]
    staff = {(pv.permission.name, pv.view_menu.name) for pv in sm.find_role(PROVIDER).permissions}
    assert {("can_add", "ResourceView"), ("can_edit", "ResourceView"),
            ("menu_access", "Resources"), ("can_add", "ResourceTimeOffView"),
            ("can_delete", "ResourceTimeOffView"), ("menu_access", "Resource time off")} <= staff
    assert ("can_delete", "ResourceView") not in staff  # made inactive, never deleted


def test_a_class_is_switched_to_share_its_teacher_and_back_only_when_it_can(app, build,
                                                                            tenant_a):
    from app.services import bookings
    anna = _resource(tenant_a.provider_id, "Anna")
    staff = signed_in(app, tenant_a.staff_email)
    staff.post("/offeringview/add", data=MultiDict([
        *_offering_form(name="Yoga", resources_shared="y").items(), ("resources", str(anna))]))
    db.session.expire_all()
    yoga = db.session.scalar(select(Offering).where(Offering.name == "Yoga"))
    assert yoga.resources_shared is True
    slot = build.future_slot(yoga.id, capacity=8)
    for _ in range(2):
        bookings.place_booking(customer_id=build.customer(), offering_id=yoga.id,
                               slot_id=slot)
    shown = page_text(staff.get(f"/offeringview/show/{yoga.id}"))
    assert "Shared by everyone at a time" in shown

    # Two people share Anna at that time: unsharing is refused as a whole, and said.
    refused = staff.post(f"/offeringview/edit/{yoga.id}", data=MultiDict([
        *_offering_form(name="Yoga", duration_minutes="45").items(),
        ("resources", str(anna))]))
    assert refused.status_code == 302
    assert "several bookings sharing a person or room" in page_text(
        staff.get(f"/offeringview/show/{yoga.id}"))
    db.session.expire_all()
    kept = db.session.get(Offering, yoga.id)
    assert (kept.resources_shared, kept.duration_minutes) == (True, 30)
