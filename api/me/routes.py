"""The signed-in user's own profile."""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import current_user, get_jwt, get_jwt_identity, verify_jwt_in_request

from api.blueprint import Blueprint
from api.errors import ErrorSchema
from api.me.schemas import (
    LinkedSignInSchema,
    ProfileUpdateSchema,
    SessionSchema,
    SessionsEndedSchema,
    UserSchema,
    VerificationRequestedSchema,
)
from app.errors import NotFound
from app.extensions import limiter
from app.services import (
    accounts,
    email_verification,
    notifications,
    sign_in_sessions,
    social_sign_in,
)

CHANNEL_FIELDS = ("notify_email", "notify_sms")
blp = Blueprint("me", __name__, url_prefix="/me", description="The signed-in user")


@blp.route("")
class MeViews(MethodView):
    @blp.login_required()
    @blp.response(200, UserSchema)
    def get(self):
        """Your profile"""
        return current_user

    @blp.login_required()
    @blp.arguments(ProfileUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(403, schema=ErrorSchema,
                      description="A new email while the current one is not verified")
    def patch(self, changes):
        """Change your email, name, phone, locale, time zone, marketing consent or message
        channels (`notify_email`, `notify_sms`)

        A new `email` needs the current address verified (403 `account.email_unverified`,
        nothing changed); it starts unverified and is emailed a verification link.
        """
        channels = {name: changes.pop(name) for name in CHANNEL_FIELDS if name in changes}
        notifications.apply_channel_choices(current_user, channels)  # saved with the profile
        return accounts.update_profile(user=current_user, changes=changes)


def _verification_rate_limit() -> str:
    return current_app.config["EMAIL_VERIFICATION_RATE_LIMIT"]


def _account_key() -> str:
    """Counted per account (the token's); a request without a valid token is refused
    before it counts for anyone but its address."""
    verify_jwt_in_request(optional=True)
    identity = get_jwt_identity()
    return f"account:{identity}" if identity else f"address:{request.remote_addr}"


@blp.route("/email-verification")
class EmailVerificationViews(MethodView):
    decorators = [limiter.limit(_verification_rate_limit, methods=["POST"],
                                key_func=_account_key)]

    @blp.login_required()
    @blp.response(202, VerificationRequestedSchema)
    @blp.alt_response(429, schema=ErrorSchema,
                      description="Asked too often (`EMAIL_VERIFICATION_RATE_LIMIT`, per account)")
    def post(self):
        """Email the link to verify your address again (valid for
        `EMAIL_VERIFICATION_MAX_AGE_HOURS`, once); nothing is sent once it is verified"""
        sent = email_verification.request_link(current_user.id)
        return {"sent": sent, "message": (
            "We have emailed a link to verify your address." if sent
            else "Your email address is verified already.")}


@blp.route("/sessions")
class SessionsViews(MethodView):
    @blp.login_required()
    @blp.response(200, SessionSchema(many=True))
    def get(self):
        """Your sign-ins still going: API token pairs, shop and console sessions, last used
        first"""
        current = get_jwt().get("sid")
        return [dict(id=row.id, kind=row.kind, device=row.device, address=row.address,
                     created_at=row.created_at, last_used_at=row.last_used_at,
                     current=row.id == current)
                for row in sign_in_sessions.active(current_user.id)]


@blp.route("/sessions/end-others")
class EndOtherSessionsViews(MethodView):
    @blp.login_required()
    @blp.response(200, SessionsEndedSchema)
    def post(self):
        """Sign out everywhere else: every session but the one of this token ends (their
        tokens stop working, their shop and console sessions are signed out)"""
        return {"ended": sign_in_sessions.end_all(current_user.id, keep=get_jwt().get("sid"))}


@blp.route("/sessions/<string:session_id>")
class SessionViews(MethodView):
    @blp.login_required()
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="No such session of yours is going")
    def delete(self, session_id):
        """End one of your sessions (this token's own too: then it stops working)"""
        sign_in_sessions.end(current_user.id, session_id)


@blp.route("/identities")
class IdentitiesViews(MethodView):
    @blp.login_required()
    @blp.response(200, LinkedSignInSchema(many=True))
    def get(self):
        """The Google, Apple and Facebook sign-ins linked to your account"""
        return [dict(provider=row.provider, label=social_sign_in.label(row.provider),
                     email=row.email, linked_at=row.created_at, last_used_at=row.last_used_at)
                for row in social_sign_in.identities(current_user.id)]


@blp.route("/identities/<string:provider>")
class IdentityViews(MethodView):
    @blp.login_required()
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description=(
        "No sign-in of this provider is linked (`social.not_linked`)"))
    @blp.alt_response(409, schema=ErrorSchema, description=(
        "It is the account's only way to sign in: no password and no other link "
        "(`account.last_sign_in_method`)"))
    def delete(self, provider):
        """Unlink a sign-in while another way to sign in remains"""
        if provider not in social_sign_in.PROVIDER_KEYS:
            raise NotFound("social.not_linked", "No such sign-in is linked to your account.")
        social_sign_in.unlink(current_user, provider)

