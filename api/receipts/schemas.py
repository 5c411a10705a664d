from __future__ import annotations

import marshmallow as ma

from api.schemas import Schema
from app.models.receipts import DOCUMENT_KINDS

Str = ma.fields.String
Int = ma.fields.Integer


class ReceiptSchema(Schema):
    id = Int()
    kind = Str(metadata={"description": ", ".join(DOCUMENT_KINDS)})
    number = Int(metadata={"description": "Sequential per provider and kind, no gaps"})
    display_number = Str(metadata={"description": "As printed: R-000042, CN-000007"})
    booking_reference = ma.fields.Function(lambda r: r.booking.reference)
    provider_name = ma.fields.Function(lambda r: r.provider.name)
    original_number = ma.fields.Function(
        lambda r: r.original.display_number if r.original is not None else None,
        allow_none=True, metadata={"description": "A credit note's receipt"})
    total_minor = Int(metadata={"description": "Negative on credit notes"})
    tax_minor = Int()
    currency = Str()
    issued_at = ma.fields.DateTime()
    pdf_url = ma.fields.Function(lambda r: f"/api/v1/receipts/{r.id}/pdf")




PDF_RESPONSE = {"type": "string", "format": "binary"}
