"""Customers' own data: a full export, and erasure of the account."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_jwt_extended import current_user

from api.blueprint import Blueprint
from api.errors import ErrorSchema
from api.schemas import Schema
from app.errors import Unauthorized
from app.services import accounts, customer_data, customer_erasure

blp = Blueprint("privacy", __name__, url_prefix="/me",
                description="Your data: export it, or erase your account")


class EraseSchema(Schema):
    password = ma.fields.String(required=True, load_only=True,
                                metadata={"description": "Your password, to confirm"})


class ErasedSchema(Schema):
    erased = ma.fields.Boolean()


@blp.route("/export")
class ExportViews(MethodView):
    @blp.login_required()
    @blp.response(200)
    def get(self):
        """Everything held about you: profile, bookings with their attribution, payments,
        refunds, the conversion events sent about them (hashed as sent), your sign-in
        sessions, the messages sent to you and your receipts and credit notes (totals in
        major units, with a download link that works with your sign-in)"""
        data = customer_data.export_customer_data(current_user.id)
        for receipt in data["receipts"]:
            receipt["download_url"] = f"/api/v1/receipts/{receipt['id']}/pdf"
        return data


@blp.route("/erase")
class EraseViews(MethodView):
    @blp.login_required()
    @blp.arguments(EraseSchema)
    @blp.response(200, ErasedSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Wrong password")
    def post(self, data):
        """Erase your account: personal data, tracking identifiers, sign-in sessions and
        the recipients and texts of the messages sent to you are removed; bookings,
        payments, receipts and credit notes stay, anonymous (their PDFs are printed again
        without you), for the providers' accounts. You are signed out."""
        try:
            accounts.authenticate(email=current_user.email, password=data["password"])
        except Unauthorized as exc:
            raise Unauthorized("privacy.wrong_password", "That password is not right.") from exc
        customer_erasure.erase_customer(current_user.id)
        return {"erased": True}
