"""Managing a provider's resources: staff, rooms and equipment, which offerings they do,
and their time off. Every call is scoped: another provider's resource is never found.

What the resources' time means for bookings is :mod:`app.services.resource_time`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Offering, Resource, ResourceBusy
from app.models.catalog import SERVICE
from app.models.resources import RESOURCE_KINDS, offering_resource
from app.services.cache import bump_catalog_generation
from app.services.scopes import Scope, require_scope
from app.services.tenancy import get_owned, scoped
from app.services.transactions import unit_of_work

KIND_LABELS = {"staff": "Staff member", "room": "Room", "equipment": "Equipment"}
MAX_NAME = 120


def list_resources(*, scope: Scope, active_only: bool = False) -> list[Resource]:
    query = scoped(select(Resource), Resource, scope=require_scope(scope))
    if active_only:
        query = query.where(Resource.active.is_(True))
    return list(db.session.scalars(query.order_by(Resource.kind, Resource.name, Resource.id)))


def get_resource(resource_id: int, *, scope: Scope) -> Resource:
    return get_owned(Resource, resource_id, scope=require_scope(scope), label="resource")


def create_resource(*, scope: Scope, name: str, kind: str = "staff") -> Resource:
    if require_scope(scope).every_provider:
        raise TypeError("a resource belongs to one provider: pass its scope")
    resource = Resource(provider_id=scope.provider_id)
    return _save(resource, name=name, kind=kind, active=True, added=True)


def update_resource(resource_id: int, *, scope: Scope, **changes) -> Resource:
    resource = get_resource(resource_id, scope=scope)
    values = {"name": resource.name, "kind": resource.kind, "active": resource.active}
    values.update({k: v for k, v in changes.items() if k in values and v is not None})
    return _save(resource, **values, added=False)


def _save(resource: Resource, *, name: str, kind: str, active: bool, added: bool):
    name = " ".join((name or "").split())
    errors = {}
    if not name:
        errors["name"] = ["A name is required."]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"At most {MAX_NAME} characters."]
    if kind not in RESOURCE_KINDS:
        errors["kind"] = [f"One of {', '.join(RESOURCE_KINDS)}."]
    if errors:
        raise ValidationFailed("resource.invalid", "Check the resource's fields.", errors)
    try:
        with unit_of_work():
            resource.name, resource.kind, resource.active = name, kind, bool(active)
            if added:
                db.session.add(resource)
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict("resource.name_taken", f"There is a resource called “{name}” already.",
                       {"name": ["Taken."]}) from exc
    bump_catalog_generation()  # free times depend on who is active
    return resource


def set_offering_resources(offering_id: int, resource_ids: list[int], *,
                           scope: Scope) -> list[Resource]:
    """Which of the provider's resources can do the offering (replacing the list); a
    booking then needs one free resource of each kind among them. An empty list: it
    needs none."""
    offering = get_owned(Offering, offering_id, scope=require_scope(scope), label="offering")
    wanted = sorted(set(resource_ids))
    found = db.session.scalars(select(Resource).where(
        Resource.id.in_(wanted), Resource.provider_id == offering.provider_id)).all()
    if len(found) != len(wanted):
        raise ValidationFailed("resource.not_found", "No such resource of this provider.",
                               {"resource_ids": ["Choose this provider's resources."]})
    if wanted and offering.kind != SERVICE:
        raise ValidationFailed("resource.not_for_products", "Only services need resources.",
                               {"resource_ids": ["Products need none."]})
    with unit_of_work():
        db.session.execute(delete(offering_resource).where(
            offering_resource.c.offering_id == offering.id))
        if wanted:
            db.session.execute(insert(offering_resource), [
                {"offering_id": offering.id, "resource_id": rid} for rid in wanted])
    bump_catalog_generation()
    return sorted(found, key=lambda r: (r.kind, r.name))


def resources_of_offering(offering_id: int) -> list[Resource]:
    """The active resources an offering can be done by (public: for the customer's
    choice of who)."""
    return list(db.session.scalars(
        select(Resource).join(offering_resource, offering_resource.c.resource_id == Resource.id)
        .where(offering_resource.c.offering_id == offering_id, Resource.active.is_(True))
        .order_by(Resource.kind, Resource.name, Resource.id)))


def add_time_off(resource_id: int, *, scope: Scope, starts_at: datetime, ends_at: datetime,
                 reason: str = "") -> ResourceBusy:
    resource = get_resource(resource_id, scope=scope)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed("resource.naive_time", "Give times with their zone.",
                               {"starts_at": ["With a zone."]})
    if ends_at <= starts_at:
        raise ValidationFailed("resource.time_off_order", "The end must be after the start.",
                               {"ends_at": ["After the start."]})
    with unit_of_work():
        busy = ResourceBusy(provider_id=resource.provider_id, resource_id=resource.id,
                            starts_at=starts_at, ends_at=ends_at, reason=(reason or "")[:200])
        db.session.add(busy)
        db.session.flush()
    bump_catalog_generation()
    return busy


def list_time_off(resource_id: int, *, scope: Scope) -> list[ResourceBusy]:
    """Time off typed by staff (busy times from outside calendars are not listed: see
    :mod:`app.services.outside_calendars`)."""
    resource = get_resource(resource_id, scope=scope)
    return list(db.session.scalars(select(ResourceBusy).where(
        ResourceBusy.resource_id == resource.id, ResourceBusy.calendar_id.is_(None))
        .order_by(ResourceBusy.starts_at)))


def delete_time_off(busy_id: int, *, scope: Scope) -> None:
    """Time off typed by staff; an outside calendar's busy time is not found here."""
    busy = db.session.scalar(scoped(select(ResourceBusy).where(
        ResourceBusy.id == busy_id, ResourceBusy.calendar_id.is_(None)),
        ResourceBusy, scope=require_scope(scope)))
    if busy is None:
        raise NotFound("resource.time_off_not_found", "No such time off.")
    with unit_of_work():
        db.session.delete(busy)
    bump_catalog_generation()


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.capitalize())
