"""Storefront: the customer's choice of person for a service done by staff ("Anyone
available", or one of the offering's staff by name), carried as the GET (or form)
parameter ``resource`` from the time picker through the review to the booking; and who a
booking is with, for the pages that show a booking.

A value that is not a number, or not one of the offering's staff, is not an error page:
the picker shows everyone's times with a sentence saying so, and the review sends the
customer back to choose again.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import gettext

from app.services import booking_resources
from views.storefront.blueprint import bp


@dataclass(frozen=True)
class PersonChoice:
    people: tuple[tuple[int, str], ...]  # the offering's staff (id, name); () when none
    resource_id: int | None  # the chosen one; None: anyone available
    problem: str | None = None  # the request asked for someone who is not one of them

    @property
    def name(self) -> str | None:
        return dict(self.people).get(self.resource_id)


def person_choice(offering_id: int) -> PersonChoice:
    """The request's ``resource`` for the offering, checked against its staff."""
    people = tuple(booking_resources.staff_of_offering(offering_id))
    raw = (request.values.get("resource") or "").strip()
    if not raw or not people:
        return PersonChoice(people, None)
    try:
        wanted = int(raw)
    except ValueError:
        wanted = None
    if wanted not in dict(people):
        return PersonChoice(people, None, gettext(
            "That person does not do this service. Showing the times of anyone "
            "available."))
    return PersonChoice(people, wanted)


def busy_message(choice: PersonChoice) -> str:
    """The time was taken meanwhile: by the chosen person's other bookings, or everyone's."""
    if choice.name:
        return gettext("%(name)s is no longer free at that time.", name=choice.name)
    return gettext("Nobody is free to do this at that time any more.")


@bp.context_processor
def booking_people() -> dict:
    """``staff_of_booking(booking_id)``: the names of who a booking is with."""
    return {"staff_of_booking": booking_resources.staff_of_booking}


__all__ = ["PersonChoice", "busy_message", "person_choice"]
