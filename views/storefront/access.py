"""Who may see and change a booking on the storefront: its customer when signed in, or
whoever opened its signed manage link in this browser session (a guest, typically).

Opening a manage link remembers the booking in the session (at most the last 20), so the
pages and actions after it work without the link in every address.
"""
from __future__ import annotations

from functools import wraps

from flask import redirect, request, session, url_for

from app.errors import NotFound
from app.services import account_bookings
from views.storefront.blueprint import current_customer, local_path, path_of

GRANTS = "bw_manage"  # the session key: {reference: customer_id}
MAX_GRANTS = 20


def grant(reference: str, customer_id: int) -> None:
    grants = dict(session.get(GRANTS) or {})
    grants.pop(reference, None)
    grants[reference] = customer_id
    session[GRANTS] = dict(list(grants.items())[-MAX_GRANTS:])


def customer_of(reference: str) -> int | None:
    """The customer whose booking this visitor may manage, or None. Through the account
    only what ``account_bookings`` shows it; a manage link's grant regardless."""
    customer = current_customer()
    if customer is not None:
        try:
            account_bookings.require_shown(reference, account_id=customer.id)
            return customer.id
        except NotFound:
            pass
    granted = (session.get(GRANTS) or {}).get(reference)
    return int(granted) if granted is not None else None


def booking_access(view):
    """Calls ``view(reference, customer_id=...)``; a visitor with no access signs in first
    (and a signed-in customer who is not the booking's gets a 404)."""
    @wraps(view)
    def wrapper(reference, *args, **kwargs):
        customer_id = customer_of(reference)
        if customer_id is None:
            if current_customer() is not None:
                raise NotFound("booking.not_found", f"No booking {reference}.")
            target = request.full_path if request.method == "GET" else request.referrer
            return redirect(url_for(".login", next=local_path(path_of(target))))
        return view(reference, *args, customer_id=customer_id, **kwargs)

    return wrapper
