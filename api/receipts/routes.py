"""Customers download their own receipts and credit notes; another's is a 404."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_jwt_extended import current_user

from api.blueprint import Blueprint
from api.errors import ErrorSchema
from api.pagination import counted, page_of
from api.receipts.schemas import PDF_RESPONSE, ReceiptSchema
from app.services import account_bookings, receipts

blp = Blueprint("receipts", __name__, url_prefix="",
                description="Your receipts and credit notes (PDF)")


def pdf_response(receipt) -> Response:
    data = receipts.pdf_of(receipt)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f"inline; filename={receipt.display_number}.pdf")
    response.headers["Cache-Control"] = "private, max-age=0"
    response.headers["ETag"] = f'"{receipt.sha256}"'
    return response


@blp.route("/bookings/<reference>/receipt")
class BookingReceiptViews(MethodView):
    @blp.login_required()
    @blp.response(200, PDF_RESPONSE, content_type="application/pdf",
                  description="The receipt as a PDF")
    @blp.alt_response(404, schema=ErrorSchema,
                      description="Not your booking (booking.not_found), or no receipt "
                                  "issued yet (receipt.not_issued)")
    def get(self, reference):
        """The receipt of one of your bookings"""
        account_bookings.require_shown(reference, account_id=current_user.id)
        receipt = receipts.booking_receipt_for_customer(reference,
                                                        customer_id=current_user.id)
        return pdf_response(receipt)


@blp.route("/receipts")
class ReceiptViews(MethodView):
    @blp.login_required()
    @blp.response(200, ReceiptSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Your receipts and credit notes, newest first"""
        return counted(pagination_parameters, receipts.list_customer_receipts(
            customer_id=current_user.id, **page_of(pagination_parameters)))


@blp.route("/receipts/<int:receipt_id>/pdf")
class ReceiptPdfViews(MethodView):
    @blp.login_required()
    @blp.response(200, PDF_RESPONSE, content_type="application/pdf",
                  description="The receipt or credit note as a PDF")
    @blp.alt_response(404, schema=ErrorSchema, description="Not yours, or missing")
    def get(self, receipt_id):
        """One of your receipts or credit notes as a PDF"""
        account_bookings.require_receipt_shown(receipt_id, account_id=current_user.id)
        return pdf_response(receipts.receipt_for_customer(receipt_id,
                                                          customer_id=current_user.id))
