"""Console screen for receipts and credit notes: the list, the PDF, and "Resend".

Read-only: documents are issued by the receipts service when a payment succeeds or a
refund goes through. Staff see, download and resend their own provider's documents only
(a foreign id is a 404); admins any.
"""
from __future__ import annotations

from flask import Response, abort, flash, redirect, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual
from markupsafe import Markup

from app.errors import DomainError, NotFound
from app.models import Receipt
from app.models.receipts import DOCUMENT_KINDS
from app.services import receipts
from app.services.money import format_money
from views.base import TenantModelView, console_scope
from views.console import (
    ConsoleInterface,
    choice_field,
    local_column,
    money_column,
    person,
    words_column,
)


def _download_link(receipt) -> Markup:
    url = url_for("ReceiptView.download", pk=receipt.id)
    return Markup('<a href="{}"><i class="fa fa-file-pdf-o"></i> {}.pdf</a>').format(
        url, receipt.display_number)


class ReceiptView(TenantModelView):
    datamodel = ConsoleInterface(
        Receipt,
        display={
            "booking": lambda r: r.booking.reference,
            "customer": lambda r: person(r.customer),
            "total_minor": money_column("total_minor"),
            "tax_minor": money_column("tax_minor"),
            "original": lambda r: r.original.display_number if r.original else "",
            "refund": lambda r: (f"{format_money(r.refund.amount_minor, r.refund.currency)}"
                                 f" — {r.refund.reason}" if r.refund else ""),
            "issued_at": local_column("issued_at"),
            "storage_key": _download_link,
            "kind": words_column("kind"),
        },
        column_filters={"kind": [FilterEqual, FilterNotEqual]},
    )
    base_permissions = ["can_list", "can_show", "can_download", "can_resend"]
    method_permission_name = {"download": "download", "resend": "resend"}
    item_name = "receipt"
    list_title = "Receipts"
    show_title = "Receipt"

    list_columns = ["display_number", "kind", "booking", "customer", "total_minor",
                    "issued_at", "storage_key"]
    show_columns = ["display_number", "kind", "booking", "customer", "total_minor",
                    "tax_minor", "original", "refund", "provider", "issued_at",
                    "storage_key", "sha256", "size_bytes"]
    search_columns = ["display_number", "kind", "issued_at"]
    search_form_extra_fields = {"kind": choice_field("Kind", DOCUMENT_KINDS)}
    order_columns = ["display_number", "kind", "total_minor", "issued_at"]
    base_order = ("issued_at", "desc")
    label_columns = {"display_number": "Number", "total_minor": "Total",
                     "tax_minor": "Tax", "original": "Receipt credited",
                     "issued_at": "Issued (local time)", "storage_key": "PDF",
                     "size_bytes": "Size (bytes)", "sha256": "SHA-256"}

    @expose("/download/<pk>")
    @has_access
    def download(self, pk):
        """The stored PDF, for the staff's own provider only."""
        pk = self._deserialize_pk_if_composite(pk)
        receipt = self.datamodel.get(pk, self._base_filters)
        if receipt is None:
            abort(404)
        try:
            data = receipts.pdf_of(receipt)
        except DomainError as exc:
            flash(exc.message, "danger")
            return redirect(url_for(f"{self.endpoint}.show", pk=pk))
        response = Response(data, mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f"inline; filename={receipt.display_number}.pdf")
        return response

    @action("resend", "Resend", "Send the selected documents to their customers again?",
            "fa-envelope")
    def resend(self, items):
        rows = [(item.id, item.display_number)
                for item in (items if isinstance(items, list) else [items])]
        scope = console_scope()
        for receipt_id, number in rows:
            try:
                receipts.resend_receipt(receipt_id, scope=scope)
            except NotFound:
                abort(404)
            except DomainError as exc:
                flash(f"{number}: {exc.message}", "danger")
            else:
                flash(f"{number}: sent again to the customer.", "success")
        self.update_redirect()
        return redirect(self.get_redirect())


__all__ = ["ReceiptView"]
