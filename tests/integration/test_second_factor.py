"""Two-factor sign-in's rules (app/services/second_factor.py) with a fixed clock: setting up,
codes accepted once and within one step, recovery codes once, turning off, an admin's
reset (and staff refused), who must have one."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import Account, AuditLog, RecoveryCode, SecondFactor
from app.services import second_factor
from app.services.scopes import Scope
from tests.second_factor_helpers import NOW, code_at, enrol, later


def _actions(account_id):
    return [a for a, in db.session.execute(
        select(AuditLog.action).where(AuditLog.entity == "account",
                                      AuditLog.entity_id == str(account_id),
                                      AuditLog.action.like("account.second_factor%"))
        .order_by(AuditLog.id))]


def test_setting_up_needs_a_right_code_then_gives_ten_recovery_codes(build):
    staff = build.staff(build.provider())
    enrolment = second_factor.begin_enrolment(staff)

    assert enrolment.uri.startswith("otpauth://totp/")
    assert f"secret={enrolment.secret}" in enrolment.uri
    with pytest.raises(ValidationFailed):
        second_factor.confirm_enrolment(staff, "000000", now=NOW)
    assert not second_factor.is_enabled(staff)

    codes = second_factor.confirm_enrolment(staff, code_at(enrolment.secret, NOW), now=NOW)

    assert second_factor.is_enabled(staff)
    assert len(codes) == len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert not set(codes) & set(stored)  # hashed
    secret_row = db.session.get(SecondFactor, staff)
    assert enrolment.secret.encode() not in bytes(secret_row.secret_encrypted)  # encrypted
    assert _actions(staff) == ["account.second_factor_setup_started",
                               "account.second_factor_enabled"]


def test_a_code_works_once_and_within_one_step(build):
    staff = build.staff(build.provider())
    secret, _ = enrol(staff, now=NOW)  # the code of NOW's step was used to confirm

    assert not second_factor.verify(staff, code_at(secret, NOW), now=NOW)  # replayed
    assert second_factor.verify(staff, code_at(secret, later(30)), now=NOW)  # clock drift
    assert not second_factor.verify(staff, code_at(secret, later(30)), now=later(30))
    assert not second_factor.verify(staff, code_at(secret, later(150)), now=later(60))  # far
    assert not second_factor.verify(staff, "12345", now=later(60))
    assert second_factor.verify(staff, code_at(secret, later(60)), now=later(60))
    # an older step than the last accepted one is refused even inside the window
    assert not second_factor.verify(staff, code_at(secret, later(30)), now=later(60))
    wrong = db.session.scalars(select(AuditLog.changes).where(
        AuditLog.action == "account.sign_in_failed")).all()
    assert wrong and all(c["reason"] == "wrong_second_factor" for c in wrong)


def test_a_recovery_code_works_once(build):
    staff = build.staff(build.provider())
    _, codes = enrol(staff)

    assert second_factor.verify(staff, f"  {codes[0].upper()} ", now=later(60))
    assert not second_factor.verify(staff, codes[0], now=later(90))
    assert second_factor.status(staff).recovery_codes_left == 9
    assert "account.second_factor_recovery_code_used" in _actions(staff)


def test_new_recovery_codes_replace_the_old_ones_after_a_code(build):
    staff = build.staff(build.provider())
    secret, old = enrol(staff)

    with pytest.raises(ValidationFailed):
        second_factor.regenerate_recovery_codes(staff, "000000", now=later(30))
    new = second_factor.regenerate_recovery_codes(staff, code_at(secret, later(30)),
                                                  now=later(30))

    assert not set(new) & set(old)
    assert not second_factor.verify(staff, old[1], now=later(60))
    assert second_factor.verify(staff, new[1], now=later(60))


def test_turning_off_needs_a_code(build):
    staff = build.staff(build.provider())
    secret, _ = enrol(staff)

    with pytest.raises(ValidationFailed):
        second_factor.disable(staff, "", now=later(30))
    assert second_factor.is_enabled(staff)
    second_factor.disable(staff, code_at(secret, later(30)), now=later(30))

    assert not second_factor.is_enabled(staff)
    assert db.session.scalars(select(RecoveryCode)).all() == []
    assert _actions(staff)[-1] == "account.second_factor_disabled"


def test_an_admin_resets_a_second_factor_audited(build):
    provider = build.provider()
    staff = build.staff(provider)
    enrol(staff)

    second_factor.reset_by_admin(staff, scope=Scope.all_providers())

    assert not second_factor.is_enabled(staff)
    entry = db.session.scalars(select(AuditLog).where(
        AuditLog.action == "account.second_factor_reset")).one()
    assert entry.entity_id == str(staff) and entry.provider_id == provider
    assert entry.changes == {"had_second_factor": True}


def test_staff_can_never_reset_a_second_factor(build):
    own, other = build.provider(), build.provider()
    colleague, stranger = build.staff(own), build.staff(other)
    enrol(colleague)
    enrol(stranger)

    with pytest.raises(Forbidden):
        second_factor.reset_by_admin(colleague, scope=Scope.of_provider(own))
    with pytest.raises(NotFound):  # another provider's account: as if it did not exist
        second_factor.reset_by_admin(stranger, scope=Scope.of_provider(own))
    with pytest.raises(TypeError):  # no scope is never admin reach
        second_factor.reset_by_admin(stranger, scope=None)

    assert second_factor.is_enabled(colleague) and second_factor.is_enabled(stranger)
    assert not db.session.scalars(select(AuditLog).where(
        AuditLog.action == "account.second_factor_reset")).all()


def test_admins_must_have_one_when_the_setting_is_on(app, build):
    admin = db.session.get(Account, build.admin())
    staff = db.session.get(Account, build.staff(build.provider()))

    assert not second_factor.required_for(admin)  # off in the test settings
    app.config["CONSOLE_REQUIRE_2FA"] = True
    try:
        assert second_factor.required_for(admin)
        assert not second_factor.required_for(staff)  # optional for staff
    finally:
        app.config["CONSOLE_REQUIRE_2FA"] = False


def test_a_changed_encryption_key_makes_the_secret_unreadable(app, build):
    staff = build.staff(build.provider())
    secret, _ = enrol(staff)
    app.config["TOTP_ENCRYPTION_KEY"] = "another key entirely"
    try:
        assert not second_factor.verify(staff, code_at(secret, later(30)), now=later(30))
    finally:
        app.config["TOTP_ENCRYPTION_KEY"] = None
    assert second_factor.verify(staff, code_at(secret, later(30)), now=later(30))


def test_the_setting_is_on_by_default_in_production_only():
    from config import Config

    secrets = {"SECRET_KEY": "s", "JWT_SECRET_KEY": "j", "DATABASE_URL": "sqlite://"}
    assert Config({"BOOKWELL_ENV": "production", **secrets}).CONSOLE_REQUIRE_2FA is True
    assert Config({"BOOKWELL_ENV": "development", **secrets}).CONSOLE_REQUIRE_2FA is False
    assert Config({"BOOKWELL_ENV": "production", "CONSOLE_REQUIRE_2FA": "off",
                   **secrets}).CONSOLE_REQUIRE_2FA is False


def test_wrong_codes_are_bounded_per_account_whatever_the_session(build):
    staff = build.staff(build.provider())
    secret, _ = enrol(staff, now=NOW)
    for _ in range(second_factor.WRONG_CODES_PER_ACCOUNT):
        assert not second_factor.verify(staff, "000000", now=later(30))

    # Even the right code is refused now, until the window has passed.
    assert not second_factor.verify(staff, code_at(secret, later(30)), now=later(30))
    reasons = [c["reason"] for c in db.session.scalars(select(AuditLog.changes).where(
        AuditLog.action == "account.sign_in_failed", AuditLog.entity_id == str(staff))
        .order_by(AuditLog.id))]
    assert reasons[-1] == "too_many_wrong_codes"
    other = build.staff(build.provider())  # another account is not affected
    other_secret, _ = enrol(other, now=NOW)
    assert second_factor.verify(other, code_at(other_secret, later(30)), now=later(30))
