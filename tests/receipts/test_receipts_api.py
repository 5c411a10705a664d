"""The receipt endpoints: customers get their own PDFs and list; another's is a 404."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.models import Receipt
from app.services import bookings, refunds
from app.services.scopes import Scope
from tests.helpers import assert_error_shape, bearer, token_for
from tests.receipts.conftest import name_customer, paid, pdf_text, run_event_jobs


def _headers(user_id):
    return bearer(token_for(user_id))


def test_the_customer_downloads_their_receipt(app, client, build, shop):
    name_customer(shop["customer"], "Дмитрий", "Иванов")
    reference, _ = paid(build, shop["offering"], shop["customer"])
    run_event_jobs(app)

    response = client.get(f"/api/v1/bookings/{reference}/receipt",
                          headers=_headers(shop["customer"]))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "inline; filename=R-000001.pdf"
    text = pdf_text(response.data)
    assert "R-000001" in text and "Дмитрий Иванов" in text and "25.00 EUR" in text


def test_another_customers_receipt_is_not_found(app, client, build, shop):
    reference, _ = paid(build, shop["offering"], shop["customer"])
    run_event_jobs(app)
    receipt_id = db.session.scalar(select(Receipt.id))
    stranger = build.customer()

    assert_error_shape(client.get(f"/api/v1/bookings/{reference}/receipt",
                                  headers=_headers(stranger)), 404, "booking.not_found")
    assert_error_shape(client.get(f"/api/v1/receipts/{receipt_id}/pdf",
                                  headers=_headers(stranger)), 404, "receipt.not_found")
    assert_error_shape(client.get(f"/api/v1/receipts/{receipt_id}/pdf"), 401)
    assert_error_shape(client.get(f"/api/v1/receipts/{receipt_id}/pdf",
                                  headers=_headers(shop["staff"])), 404)


def test_no_receipt_before_payment(app, client, build, shop):
    slot = build.future_slot(shop["offering"], days=5)
    reference = bookings.place_booking(customer_id=shop["customer"],
                                       offering_id=shop["offering"], slot_id=slot).reference
    assert_error_shape(client.get(f"/api/v1/bookings/{reference}/receipt",
                                  headers=_headers(shop["customer"])), 404,
                       "receipt.not_issued")


def test_the_list_holds_own_receipts_and_credit_notes_only(app, client, build, shop):
    reference, payment_id = paid(build, shop["offering"], shop["customer"])
    paid(build, shop["offering"], build.customer())  # someone else's
    run_event_jobs(app)
    refunds.request_refund(payment_id, amount_minor=700, reason="late", actor_id=None,
                           scope=Scope.all_providers())
    run_event_jobs(app)

    response = client.get("/api/v1/receipts?page_size=1", headers=_headers(shop["customer"]))
    assert response.status_code == 200
    assert json.loads(response.headers["X-Pagination"])["total"] == 2
    everything = client.get("/api/v1/receipts", headers=_headers(shop["customer"])).get_json()
    assert sorted(r["display_number"] for r in everything) == ["CN-000001", "R-000001"]
    note = next(r for r in everything if r["kind"] == "credit_note")
    assert note["original_number"] == "R-000001" and note["total_minor"] == -700
    assert note["booking_reference"] == reference
    pdf = client.get(note["pdf_url"], headers=_headers(shop["customer"]))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "CN-000001" in pdf_text(pdf.data)


def test_the_openapi_document_names_the_receipt_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    receipt = paths["/api/v1/bookings/{reference}/receipt"]["get"]["responses"]
    assert "application/pdf" in receipt["200"]["content"]
    assert {"401", "404"} <= set(receipt)
    assert "/api/v1/receipts" in paths and "/api/v1/receipts/{receipt_id}/pdf" in paths
