"""A property-style probe of the whole API, driven by its own OpenAPI document.

Every operation of ``/api/v1/openapi.json`` gets requests generated from its documented
parameters and bodies, valid and deliberately invalid ones, some aimed at rows that
exist, sent as an anonymous user, a customer and provider staff. Each answer must be no 5xx, a status code the
operation documents (the catch-all ``default`` response does not count), the documented
content type, and a body matching the documented schema.

``PROBE_EXAMPLES`` sets the examples per operation and caller: 3 by default, quick
enough for every test run; ``PROBE_EXAMPLES=500`` for a long hunt.
"""
from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import checks as probe_checks

from app.services import bookings
from tests import builders
from tests.helpers import token_for

EXAMPLES = int(os.environ.get("PROBE_EXAMPLES", "3"))
CHECKS = [
    probe_checks.not_a_server_error,
    probe_checks.status_code_conformance,
    probe_checks.content_type_conformance,
    probe_checks.response_schema_conformance,
]
CALLERS = ["anonymous", "customer", "staff"]


def _seed(app) -> dict:
    """A provider with one row of each kind, its staff member, a customer with a booking."""
    with app.app_context():
        provider = builders.provider()
        service = builders.offering(provider, location_id=builders.location(provider),
                                    category_id=builders.category(provider))
        product = builders.offering(provider, kind="product")
        customer = builders.customer()
        booking = bookings.place_booking(customer_id=customer, offering_id=service,
                                         slot_id=builders.future_slot(service))
        rows = {
            "/providers/{provider_id}": provider,
            "/offerings/{offering_id}": service,
            "/provider/categories/{row_id}": builders.category(provider),
            "/provider/locations/{row_id}": builders.location(provider),
            "/provider/offerings/{row_id}": service,
            "/provider/rules/{row_id}": builders.rule(service, weekday=0),
            "/provider/closed-days/{row_id}": builders.closed_day(
                provider, date.today() + timedelta(days=400)),
            "/provider/offerings/{offering_id}/variants": product,
            "/provider/variants/{row_id}": builders.variant(product),
            "/bookings/{reference}": booking.reference,
            "/provider/bookings/{reference}": booking.reference,
        }
        headers = {
            "anonymous": {},
            "customer": {"Authorization": f"Bearer {token_for(customer)}"},
            "staff": {"Authorization": f"Bearer {token_for(builders.staff(provider))}"},
        }
    return {"rows": rows, "headers": headers}


def _known_path_parameters(path: str, rows: dict) -> dict | None:
    """Path parameters naming seeded rows, for an operation path under /api/v1."""
    for prefix, value in rows.items():
        if path.removeprefix("/api/v1").startswith(prefix):
            return {prefix.rsplit("{", 1)[1].rstrip("}"): value}
    return None


@pytest.fixture(scope="module")
def api_schema(app):
    """The app's document, with the catch-all ``default`` response left out so that an
    undocumented status code is a failure."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("default", None)
    return schemathesis.openapi.from_dict(document)


@pytest.mark.parametrize("caller", CALLERS)
def test_every_operation_answers_as_documented(app, api_schema, caller):
    seeded = _seed(app)
    headers = seeded["headers"][caller]
    failures, probed = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        probed += 1
        known = _known_path_parameters(operation.path, seeded["rows"])
        strategy = st.one_of(*(
            operation.as_strategy(generation_mode=mode, path_parameters=path)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for path in ([None, known] if known else [None])))

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def probe(case):
            response = case.call(app=app, headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            probe()
        except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
            failures.append(f"{caller} {operation.label}:\n{exc}")
    assert probed > 50  # the document was read, not an empty one
    assert not failures, "\n\n".join(failures)
