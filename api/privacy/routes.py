"""Customers' own data: a full export, and erasure of the account."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_jwt_extended import current_user

from api.blueprint import Blueprint
from api.errors import ErrorSchema
from api.schemas import Schema
from app.errors import Unauthorized
from app.services import accounts, attribution_privacy

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
        refunds and the conversion events sent about them (hashed as sent)"""
        return attribution_privacy.export_customer_data(current_user.id)


@blp.route("/erase")
class EraseViews(MethodView):
    @blp.login_required()
    @blp.arguments(EraseSchema)
    @blp.response(200, ErasedSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Wrong password")
    def post(self, data):
        """Erase your account: personal data and tracking identifiers are removed; bookings
        and payments stay, anonymous, for the providers' accounts. You are signed out."""
        try:
            accounts.authenticate(email=current_user.email, password=data["password"])
        except Unauthorized as exc:
            raise Unauthorized("privacy.wrong_password", "That password is not right.") from exc
        attribution_privacy.erase_customer(current_user.id)
        return {"erased": True}
