"""The signed-in user's own profile."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user

from api.blueprint import Blueprint
from api.me.schemas import ProfileUpdateSchema, UserSchema
from app.services import accounts, notifications

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
    def patch(self, changes):
        """Change your name, phone, locale, time zone, marketing consent or message
        channels (`notify_email`, `notify_sms`)"""
        channels = {name: changes.pop(name) for name in CHANNEL_FIELDS if name in changes}
        notifications.apply_channel_choices(current_user, channels)  # saved with the profile
        return accounts.update_profile(user=current_user, changes=changes)
