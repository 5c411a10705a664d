"""One rule for times typed into console filters, on every screen.

Provider staff type their provider's wall clock; admins, whose lists mix providers, type
UTC. A typed offset is taken as written, and every time filter names its zone.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from views.filters import TIME_FILTERS
from tests.views.console import page_text, signed_in

# Winter: Berlin is UTC+1, so 10:00 on its wall clock is 09:00 UTC.
AT_0900_UTC = datetime(2031, 1, 15, 9, 0, tzinfo=timezone.utc)
AT_1000_UTC = datetime(2031, 1, 15, 10, 0, tzinfo=timezone.utc)
# From 10:00 up to (not including) 10:01, as typed.
TEN_O_CLOCK = "_flt_0_{column}=2031-01-15+10:00&_flt_1_{column}=2031-01-15+10:01"


@pytest.fixture
def two_slots(build, tenant_a):
    """A Berlin provider's slots at 09:00 and 10:00 UTC, each of its own offering."""
    early = build.offering(tenant_a.provider_id, name="Early yoga at nine UTC")
    late = build.offering(tenant_a.provider_id, name="Late yoga at ten UTC")
    return {"early": (early, build.slot(early, AT_0900_UTC)),
            "late": (late, build.slot(late, AT_1000_UTC))}


def _listed(client, url: str) -> str:
    """The rows of the list (not its search form, whose dropdowns name every offering)."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return "\n".join(re.findall(r"<td[^>]*>(.*?)</td>", response.get_data(as_text=True), re.S))


def _search_form(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return page_text(response)


def test_staff_typing_ten_o_clock_find_the_0900_utc_slot(app, tenant_a, two_slots):
    staff = signed_in(app, tenant_a.staff_email)

    page = _listed(staff, "/slotview/list/?" + TEN_O_CLOCK.format(column="starts_at"))

    assert "Early yoga at nine UTC" in page and "Late yoga at ten UTC" not in page


def test_admins_typing_ten_o_clock_find_the_1000_utc_slot(app, tenant_a, two_slots,
                                                          admin_email):
    admin = signed_in(app, admin_email)

    page = _listed(admin, "/slotview/list/?" + TEN_O_CLOCK.format(column="starts_at"))

    assert "Late yoga at ten UTC" in page and "Early yoga at nine UTC" not in page


def test_the_bookings_list_reads_typed_times_the_same_way(app, build, tenant_a, two_slots,
                                                          admin_email):
    early = build.past_booking(*two_slots["early"])
    late = build.past_booking(*two_slots["late"])
    query = "/bookingview/list/?" + TEN_O_CLOCK.format(column="starts_at")

    by_staff = _listed(signed_in(app, tenant_a.staff_email), query)
    by_admin = _listed(signed_in(app, admin_email), query)

    assert early in by_staff and late not in by_staff
    assert late in by_admin and early not in by_admin


def test_a_typed_offset_is_taken_as_written(app, tenant_a, two_slots):
    staff = signed_in(app, tenant_a.staff_email)

    page = _listed(staff, "/slotview/list/?_flt_0_starts_at=2031-01-15T10:00:00%2B00:00")

    assert "Late yoga at ten UTC" in page and "Early yoga at nine UTC" not in page


def test_time_filters_name_the_zone_they_read(app, tenant_a, admin_email):
    staff_page = _search_form(signed_in(app, tenant_a.staff_email), "/slotview/list/")
    admin_page = _search_form(signed_in(app, admin_email), "/slotview/list/")

    assert "From (Europe/Berlin)" in staff_page and "Before (Europe/Berlin)" in staff_page
    assert "From (UTC)" in admin_page and "(Europe/Berlin)" not in admin_page


def test_every_searchable_time_column_uses_the_typed_time_filters(app):
    checked = []
    for view in app.appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        for column in getattr(view, "search_columns", None) or []:
            if datamodel.is_datetime(column):
                filters = datamodel.get_filters(view.search_columns).get_search_filters()
                assert [type(flt) for flt in filters[column]] == TIME_FILTERS, \
                    (type(view).__name__, column)
                checked.append((type(view).__name__, column))
    # Slots, bookings, booking history, payments, refunds, receipts, messages, the audit
    # and event logs at least.
    assert len({name for name, _ in checked}) >= 8, checked
