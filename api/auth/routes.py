"""Customer sign-up and sign-in: JWT access and refresh tokens."""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import current_user, get_jwt

from api.auth.schemas import (
    EmailVerificationSchema,
    EmailVerifiedSchema,
    LoginSchema,
    MessageSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    RegisterSchema,
    RegistrationAcceptedSchema,
    SocialExchangeSchema,
    SocialStartSchema,
    TokenSchema,
)
from api.blueprint import Blueprint
from api.errors import ErrorSchema
from app.extensions import limiter
from app.errors import NotFound
from app.services import (
    accounts,
    email_verification,
    password_reset,
    second_factor,
    social_sign_in,
)
from app import sign_in_intent

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign-up and sign-in")


def _auth_rate_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


@blp.route("/register")
class RegisterViews(MethodView):
    decorators = [limiter.limit(_auth_rate_limit, methods=["POST"])]

    @blp.arguments(RegisterSchema)
    @blp.response(202, RegistrationAcceptedSchema)
    @blp.alt_response(429, schema=ErrorSchema, description="Too many attempts from this address")
    def post(self, data):
        """Create a customer account; then sign in with the same email and password.

        An address that has an account already is answered the same way (its holder is
        emailed instead), so the answer does not tell whether an address is registered.
        """
        accounts.register_customer(**data)
        return {"message": accounts.REGISTRATION_RECEIVED}


@blp.route("/login")
class LoginViews(MethodView):
    decorators = [limiter.limit(_auth_rate_limit, methods=["POST"])]

    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=(
        "Wrong email or password (`auth.invalid_credentials`); the account has two-factor "
        "sign-in and no `code` was sent (`auth.second_factor_required`), or the code is "
        "wrong or used already (`auth.second_factor_invalid`)"))
    @blp.alt_response(403, schema=ErrorSchema, description=(
        "An admin who must use two-factor sign-in (`CONSOLE_REQUIRE_2FA`) has not set it up "
        "(`auth.second_factor_setup_required`)"))
    @blp.alt_response(429, schema=ErrorSchema, description="Too many attempts from this address")
    def post(self, data):
        """Sign in; returns an access token and a refresh token

        An account with two-factor sign-in (set up in the console) also sends `code`: the
        current 6-digit code of its authenticator app (each code works once), or one of its
        recovery codes (each works once).
        """
        user = accounts.authenticate(email=data["email"], password=data["password"])
        second_factor.check_api_sign_in(user, data.get("code"))
        return accounts.sign_in_api(user, user_agent=request.user_agent.string,
                                    address=request.remote_addr)


@blp.route("/refresh")
class RefreshViews(MethodView):
    @blp.login_required(refresh=True)
    @blp.response(200, TokenSchema)
    def post(self):
        """Exchange a refresh token (as the bearer token) for a new pair; the old one is revoked"""
        return accounts.refresh_tokens(user=current_user, refresh_claims=get_jwt())


@blp.route("/logout")
class LogoutViews(MethodView):
    @blp.login_required(refresh=True)
    @blp.response(204)
    def post(self):
        """Revoke the refresh token given as the bearer token"""
        accounts.logout(user=current_user, refresh_claims=get_jwt())


@blp.route("/password-reset")
class PasswordResetRequestViews(MethodView):
    decorators = [limiter.limit(_auth_rate_limit, methods=["POST"])]

    @blp.arguments(PasswordResetRequestSchema)
    @blp.response(202, MessageSchema)
    @blp.alt_response(429, schema=ErrorSchema, description="Too many attempts from this address")
    def post(self, data):
        """Email a link to choose a new password (valid for `PASSWORD_RESET_MAX_AGE_MINUTES`,
        once)

        The same answer, and the same work, whether or not the address has an account.
        """
        password_reset.request_reset(data["email"])
        return {"message": password_reset.REQUESTED}


@blp.route("/password-reset/confirm")
class PasswordResetViews(MethodView):
    decorators = [limiter.limit(_auth_rate_limit, methods=["POST"])]

    @blp.arguments(PasswordResetSchema)
    @blp.response(204)
    @blp.alt_response(422, schema=ErrorSchema,
                      description="The link expired, was used, or the password is too weak")
    @blp.alt_response(429, schema=ErrorSchema, description="Too many attempts from this address")
    def post(self, data):
        """Choose a new password with the emailed link's token

        Every refresh token of the account issued before stops working; console and shop
        sessions started before end. Sign in again with the new password.
        """
        password_reset.reset_password(data["token"], password=data["password"])


@blp.route("/verify-email")
class VerifyEmailViews(MethodView):
    decorators = [limiter.limit(_auth_rate_limit, methods=["POST"])]

    @blp.arguments(EmailVerificationSchema)
    @blp.response(200, EmailVerifiedSchema)
    @blp.alt_response(422, schema=ErrorSchema, description=(
        "The link expired (`account.verification_link_expired`), was used, or is for an "
        "address the account no longer has (`account.verification_link_invalid`)"))
    @blp.alt_response(429, schema=ErrorSchema, description="Too many attempts from this address")
    def post(self, data):
        """Verify an email address with the emailed link's token (valid for
        `EMAIL_VERIFICATION_MAX_AGE_HOURS`, once)

        No sign-in needed: the token names the account. The actions listed in
        `VERIFIED_EMAIL_REQUIRED_FOR` are open from now on.
        """
        account = email_verification.verify(data["token"])
        return {"email": account.email, "email_verified": True}


@blp.route("/social/<string:provider>/start")
class SocialStartViews(MethodView):
    decorators = [limiter.limit(_auth_rate_limit)]

    @blp.arguments(SocialStartSchema, location="query")
    @blp.alt_response(302, description=(
        "To the identity provider; afterwards to `redirect_uri?code=…` (or "
        "`redirect_uri?error=…&error_description=…`)"))
    @blp.alt_response(404, schema=ErrorSchema, description=(
        "No such provider is offered here (`social.provider_not_offered`)"))
    @blp.alt_response(422, schema=ErrorSchema, description=(
        "`redirect_uri` is not one of `SOCIAL_APP_REDIRECT_URIS` "
        "(`social.redirect_uri_not_allowed`)"))
    def get(self, args, provider):
        """Sign in with Google, Apple or Facebook from an app: open this in a browser

        The browser ends at `redirect_uri` with a one-time `code` (valid 60 seconds, once);
        exchange it at `POST /auth/social/exchange`. No token ever appears in a URL. A
        new address gets a customer account; an existing account is opened only through a
        linked sign-in, or when both the provider and this account have the address
        verified (else `error=social.sign_in_with_password`).
        """
        if provider not in sign_in_intent.offered():
            raise NotFound("social.provider_not_offered", "This sign-in is not offered here.")
        social_sign_in.check_app_redirect_uri(args["redirect_uri"])
        return sign_in_intent.start(provider, {"purpose": sign_in_intent.API,
                                       "redirect_uri": args["redirect_uri"],
                                       "code_challenge": args.get("code_challenge")})


@blp.route("/social/exchange")
class SocialExchangeViews(MethodView):
    decorators = [limiter.limit(_auth_rate_limit, methods=["POST"])]

    @blp.arguments(SocialExchangeSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description=(
        "The code is wrong, expired, used, or its PKCE verifier does not match "
        "(`auth.social_code_invalid`); two-factor accounts: as at `/auth/login`"))
    @blp.alt_response(429, schema=ErrorSchema, description="Too many attempts from this address")
    def post(self, data):
        """Exchange a social sign-in's one-time code for an access and a refresh token"""
        user = social_sign_in.exchange_app_code(data["code"], data.get("code_verifier"))
        second_factor.check_api_sign_in(user, data.get("second_factor_code"))
        return accounts.sign_in_api(user, user_agent=request.user_agent.string,
                                    address=request.remote_addr)

