"""Console list arguments no list can use are dropped with a note, never a 500, and never
show another provider's rows; and ids that name no row on every list's by-id routes."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask_appbuilder.baseviews import BaseCRUDView

from app.services.bookings import place_booking
from tests.views.console import signed_in

BEYOND_INTEGER = 2**40


def _crud_views(app) -> list[BaseCRUDView]:
    views = [view for view in app.appbuilder.baseviews if isinstance(view, BaseCRUDView)]
    assert len(views) >= 16 + 6  # the tenant lists and Flask-AppBuilder's security lists
    return views


def _bad_arguments(view: BaseCRUDView) -> list[str]:
    name = type(view).__name__
    filters = view.datamodel.get_filters(view.search_columns).get_search_filters()
    past_the_last = "&".join(f"_flt_{len(found)}_{column}='"
                             for column, found in filters.items() if len(found) < 10)
    # Values of the wrong type for every filter of every column (kept: each filter must
    # cope with them itself).
    odd_values = ["&".join(f"_flt_{index}_{column}={value}"
                           for column, found in filters.items()
                           for index in range(len(found)))
                  for value in ("zz'", "99999999999999999999", "-1")]
    return [value for value in odd_values if value] + [
        f"_oc_{name}=provider&_od_{name}=asc",
        f"_oc_{name}=no_such_column&_od_{name}=desc",
        past_the_last or "_flt_9_nothing=1",
        f"page_{name}=abc&psize_{name}=0",
        f"page_{name}=-1&psize_{name}=abc",
        f"page_{name}=99999999999999999999&psize_{name}=1000000000",
    ]


def _answer(client, method: str, url: str):
    """The status, or the exception's name: tests propagate exceptions instead of a 500."""
    try:
        return getattr(client, method)(url)
    except Exception as exc:  # noqa: BLE001 - reported as the failure it would be
        return type(exc).__name__


def _outcome(client, target: str, list_url: str) -> str:
    """"ok" when the list renders, at once or after redirects to itself (without the
    arguments it cannot use; the bookings list then opens on its upcoming period); else
    what happened. Flask-AppBuilder turns some query errors
    into a redirect with "An error occurred": that counts as a failure too."""
    response = _answer(client, "get", target)
    for _ in range(3):
        if isinstance(response, str):
            return response
        if response.status_code == 200:
            page = response.get_data(as_text=True)
            return "ok" if "An error occurred" not in page else "error flashed"
        location = response.headers.get("Location", "")
        if response.status_code != 302 or urlsplit(location).path != list_url:
            return f"{response.status_code} {location}"
        response = _answer(client, "get", location)
    return "redirected twice"


def test_every_console_list_ignores_arguments_it_cannot_use(app, admin_email, tenant_a):
    clients = {"admin": signed_in(app, admin_email),
               "staff": signed_in(app, tenant_a.staff_email)}
    failures = []
    for view in _crud_views(app):
        url = f"{view.route_base}/list/"
        for who, client in clients.items():
            # 200, or a 403 for staff on admin lists
            plain = client.get(url, follow_redirects=True).status_code
            if who == "admin" and plain != 200:
                failures.append((who, url, "", plain))
            if plain != 200:
                continue  # staff on an admin list: refused, whatever the arguments
            for query in _bad_arguments(view):
                outcome = _outcome(client, f"{url}?{query}", url)
                if outcome != "ok":
                    failures.append((who, url, query, outcome))
    assert failures == []


@pytest.mark.parametrize("query, kept", [
    ("_oc_BookingView=provider&_od_BookingView=asc", "_od_BookingView=asc"),
    ("_flt_2_customer='", ""),
    ("_flt_0_provider=yoga&psize_BookingView=10", "psize_BookingView=10"),
    ("page_BookingView=abc&psize_BookingView=10", "psize_BookingView=10"),
])
def test_a_bad_booking_list_argument_is_dropped_with_a_note(app, build, tenant_a, tenant_b,
                                                             query, kept):
    own, foreign = _booking(build, tenant_a), _booking(build, tenant_b)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get(f"/bookingview/list/?{query}")

    assert response.status_code == 302
    assert response.headers["Location"] == "/bookingview/list/" + (f"?{kept}" if kept else "")
    page = staff.get(response.headers["Location"], follow_redirects=True).get_data(
        as_text=True)
    assert "This list cannot use" in page
    assert own in page and foreign not in page


def test_usable_arguments_are_left_to_the_list(app, build, tenant_a):
    own = _booking(build, tenant_a)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/bookingview/list/?_oc_BookingView=reference&_od_BookingView=desc"
                         "&page_BookingView=0&psize_BookingView=50&_flt_0_reference=" + own)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert own in page and "This list cannot use" not in page


@pytest.mark.parametrize("pk", ["not-a-number", BEYOND_INTEGER, -BEYOND_INTEGER])
def test_every_console_by_id_route_answers_ids_that_name_no_row(app, admin_email, tenant_a,
                                                                pk):
    clients = {"admin": signed_in(app, admin_email),
               "staff": signed_in(app, tenant_a.staff_email)}
    failures = []
    for view in _crud_views(app):
        for who, client in clients.items():
            for method, route in (("get", "show"), ("get", "edit"), ("post", "edit"),
                                  ("post", "delete")):
                url = f"{view.route_base}/{route}/{pk}"
                response = _answer(client, method, url)
                status = getattr(response, "status_code", response)
                if not isinstance(status, int) or status >= 500 or status == 200:
                    failures.append((who, method, url, status))
    assert failures == []


def _booking(build, tenant) -> str:
    offering = build.offering(tenant.provider_id, price_minor=0)
    slot = build.future_slot(offering)
    return place_booking(customer_id=build.customer(), offering_id=offering,
                         slot_id=slot).reference
