"""The actions that wait for a verified email address, as configured."""
from __future__ import annotations

import pytest

from app.errors import Forbidden
from app.models import Account
from app.models.types import utcnow
from app.services import verified_actions


def test_the_default_actions_need_a_verified_address(app_ctx):
    unverified = Account(email="a@example.com", email_verified_at=None)
    for action in verified_actions.DEFAULT:
        with pytest.raises(Forbidden) as refused:
            verified_actions.require_verified(unverified, action)
        assert refused.value.code == "account.email_unverified"
    verified_actions.require_verified(
        Account(email="b@example.com", email_verified_at=utcnow()), "change_email")


def test_an_action_left_out_of_the_setting_is_allowed(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFIED_EMAIL_REQUIRED_FOR", ("link_social",))
    unverified = Account(email="a@example.com", email_verified_at=None)
    verified_actions.require_verified(unverified, "change_email")
    with pytest.raises(Forbidden):
        verified_actions.require_verified(unverified, "link_social")
