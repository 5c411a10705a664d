"""Ids that name no row are a 404 on every by-id route, never a database error (a 500)."""
from __future__ import annotations

import pytest

from tests.views.console import signed_in

BEYOND_INTEGER = 2**40
BY_ID = [
    ("get", "/providerview/show/{id}"),
    ("get", "/providerview/edit/{id}"),
    ("post", "/providerview/edit/{id}"),
    ("post", "/providerview/delete/{id}"),
    ("get", "/auditlogview/show/{id}"),
]


@pytest.mark.parametrize("method, url", BY_ID)
@pytest.mark.parametrize("pk", [BEYOND_INTEGER, -BEYOND_INTEGER, "not-a-number"])
def test_admin_gets_404_for_ids_that_cannot_exist(app, admin_email, method, url, pk):
    admin = signed_in(app, admin_email)

    response = getattr(admin, method)(url.format(id=pk))

    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/providerview/list/?_flt_0_active=zz",
                                 "/providerview/list/?_flt_1_active=maybe",
                                 "/users/list/?_flt_0_active=zz"])
def test_nonsense_boolean_filters_are_not_a_500(app, admin_email, url):
    from tests.views.console import signed_in

    client = signed_in(app, admin_email)
    assert client.get(url).status_code == 200
