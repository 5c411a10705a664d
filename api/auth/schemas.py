from __future__ import annotations

import marshmallow as ma

from api.schemas import Schema


class RegisterSchema(Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=320),
                             metadata={"description": "Trimmed and lower-cased; unique"})
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=8, max=256)
    )
    first_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    last_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    phone = ma.fields.String(validate=ma.validate.Length(max=20),
                             metadata={"description": "E.164, e.g. +4915112345678"})
    locale = ma.fields.String(validate=ma.validate.Length(max=16))
    timezone = ma.fields.String(validate=ma.validate.Length(max=64))
    marketing_consent = ma.fields.Boolean()


class RegistrationAcceptedSchema(Schema):
    message = ma.fields.String(required=True, metadata={
        "description": "The same text for a new address and one that has an account"})


class PasswordResetRequestSchema(Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=320))


class PasswordResetSchema(Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=512),
                             metadata={"description": "From the link in the email"})
    password = ma.fields.String(required=True, load_only=True,
                                validate=ma.validate.Length(min=1, max=256))


class EmailVerificationSchema(Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=512),
                             metadata={"description": "From the link in the email "
                                       "(`/shop/account/verify/<token>`)"})


class EmailVerifiedSchema(Schema):
    email = ma.fields.String(required=True, metadata={"description": "The verified address"})
    email_verified = ma.fields.Boolean(required=True, metadata={"example": True})


class MessageSchema(Schema):
    message = ma.fields.String(required=True)


class LoginSchema(Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=320))
    password = ma.fields.String(required=True, load_only=True,
                                validate=ma.validate.Length(min=1, max=256))
    code = ma.fields.String(load_only=True, validate=ma.validate.Length(max=32), metadata={
        "description": "Accounts with two-factor sign-in only: the 6-digit code from the "
                       "authenticator app, or an unused recovery code (used up)"})


class TokenSchema(Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True,
                                   metadata={"description": "Access token lifetime in seconds"})


class SocialStartSchema(Schema):
    redirect_uri = ma.fields.String(required=True, validate=ma.validate.Length(max=2000),
                                    metadata={"description": (
                                        "Where the one-time code goes: exactly one of "
                                        "`SOCIAL_APP_REDIRECT_URIS`")})
    code_challenge = ma.fields.String(validate=ma.validate.Length(min=43, max=128), metadata={
        "description": "PKCE (RFC 7636): BASE64URL(SHA-256(code_verifier)); then the "
                       "exchange must send the `code_verifier`"})
    code_challenge_method = ma.fields.String(validate=ma.validate.OneOf(["S256"]))


class SocialExchangeSchema(Schema):
    code = ma.fields.String(required=True, load_only=True,
                            validate=ma.validate.Length(min=1, max=128),
                            metadata={"description": "The `code` your redirect URI received"})
    code_verifier = ma.fields.String(load_only=True, validate=ma.validate.Length(min=43, max=128),
                                     metadata={"description": "With PKCE: the verifier"})
    second_factor_code = ma.fields.String(load_only=True, validate=ma.validate.Length(max=32),
                                          metadata={"description": (
                                              "Accounts with two-factor sign-in only: the "
                                              "current code or a recovery code")})

