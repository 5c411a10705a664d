from __future__ import annotations

import marshmallow as ma

from api.schemas import Schema


class UserSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.String(metadata={
        "description": "Changing it needs a verified address (when `change_email` is in "
                       "`VERIFIED_EMAIL_REQUIRED_FOR`; else 403 `account.email_unverified`); "
                       "the new address starts unverified and is emailed a link"})
    email_verified = ma.fields.Function(lambda user: user.email_verified_at is not None,
                                        dump_only=True, metadata={
        "description": "The address was proven with the emailed link"})
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    locale = ma.fields.String()
    timezone = ma.fields.String()
    marketing_consent = ma.fields.Boolean()
    notify_email = ma.fields.Boolean(
        metadata={"description": "Booking messages by email"})
    notify_sms = ma.fields.Boolean(
        metadata={"description": "Booking messages by SMS (needs a phone; honours STOP)"})
    sms_opted_out = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "The number replied STOP: no SMS until it replies START"})
    roles = ma.fields.Function(lambda user: sorted(user.role_names), dump_only=True)
    provider_id = ma.fields.Integer(dump_only=True, allow_none=True)


class ProfileUpdateSchema(Schema):
    email = ma.fields.String(validate=ma.validate.Length(min=3, max=320), metadata={
        "description": "A new address: needs the current one verified (403 "
                       "`account.email_unverified`); starts unverified, a link is emailed "
                       "to it"})
    first_name = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    last_name = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=20),
                             metadata={"description": "E.164, e.g. +4915112345678; null clears it"})
    locale = ma.fields.String(validate=ma.validate.Length(min=2, max=16))
    timezone = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    marketing_consent = ma.fields.Boolean()
    notify_email = ma.fields.Boolean(metadata={"description": "Booking messages by email"})
    notify_sms = ma.fields.Boolean(metadata={"description": "Booking messages by SMS"})


class SessionSchema(Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "api, shop or console"})
    device = ma.fields.String(required=True, metadata={
        "description": "From the browser's or program's User-Agent, e.g. "
                       "'iPhone / iOS 17.0 / Mobile Safari 17.0'"})
    address = ma.fields.String(allow_none=True, metadata={"description": "Client IP address"})
    created_at = ma.fields.DateTime(required=True, metadata={"description": "Signed in (UTC)"})
    last_used_at = ma.fields.DateTime(required=True, metadata={
        "description": "Last used (UTC), to the minute"})
    current = ma.fields.Boolean(required=True, metadata={
        "description": "The session of the token that asks"})


class SessionsEndedSchema(Schema):
    ended = ma.fields.Integer(required=True)


class VerificationRequestedSchema(Schema):
    sent = ma.fields.Boolean(required=True, metadata={
        "description": "False when the address is verified already (nothing is sent)"})
    message = ma.fields.String(required=True)


class LinkedSignInSchema(Schema):
    provider = ma.fields.String(required=True, metadata={"description": "google, apple or facebook"})
    label = ma.fields.String(required=True, metadata={"example": "Google"})
    email = ma.fields.String(allow_none=True, metadata={
        "description": "The address the provider shared when it was linked"})
    linked_at = ma.fields.DateTime(required=True, metadata={"description": "UTC"})
    last_used_at = ma.fields.DateTime(allow_none=True, metadata={"description": "UTC"})

