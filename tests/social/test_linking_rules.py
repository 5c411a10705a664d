"""Which account a Google, Apple or Facebook sign-in opens, on the service directly: a
linked sign-in opens its account; an address is linked only when both sides have it
verified; unverified and guest accounts are never taken over; the console never gets a
new account; links come off only while another way to sign in remains."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from app.extensions import db
from app.gateways.identity_providers import ProviderIdentity
from app.models import Account, AuditLog, LinkedIdentity, SignInHandoff
from app.models.types import utcnow
from app.services import social_sign_in
from app.services.roles import CUSTOMER


def _identity(provider="google", subject="sub-1", email="ada@example.com", verified=True,
              **names):
    return ProviderIdentity(provider=provider, subject=subject, email=email,
                            email_verified=verified, first_name=names.get("first", "Ada"),
                            last_name=names.get("last", "Lovelace"))


def _verify(account_id):
    db.session.get(Account, account_id).email_verified_at = utcnow()
    db.session.commit()


def _links() -> list[tuple[int, str, str]]:
    return [(row.account_id, row.provider, row.subject) for row in
            db.session.scalars(select(LinkedIdentity).order_by(LinkedIdentity.id))]


def _accounts() -> int:
    return db.session.scalar(select(func.count()).select_from(Account))


def test_a_new_address_gets_a_customer_account_verified_by_the_provider(build):
    account = social_sign_in.account_for(_identity(), surface="shop")
    assert account.email == "ada@example.com" and account.password is None
    assert account.email_verified_at is not None
    assert CUSTOMER in account.role_names
    assert (account.first_name, account.last_name) == ("Ada", "Lovelace")
    assert _links() == [(account.id, "google", "sub-1")]
    before = _accounts()
    again = social_sign_in.account_for(_identity(email="changed@example.com"), surface="shop")
    assert again.id == account.id and _accounts() == before  # the subject decides


def test_an_address_facebook_does_not_vouch_for_stays_unverified(build, smtp):
    account = social_sign_in.account_for(_identity("facebook", verified=False), surface="shop")
    assert account.email_verified_at is None


def test_a_verified_account_is_linked_when_the_provider_verified_the_same_address(build):
    customer = build.customer(email="ada@example.com")
    _verify(customer)
    account = social_sign_in.account_for(_identity(email="ADA@example.com"), surface="shop")
    assert account.id == customer
    assert _links() == [(customer, "google", "sub-1")]
    audit = db.session.scalars(select(AuditLog).where(
        AuditLog.action == "account.identity_linked")).one()
    assert audit.changes["reason"] == "verified_email_match"


@pytest.mark.parametrize("account_verified, provider_verified", [
    (False, True), (True, False), (False, False)])
def test_no_link_unless_both_sides_verified_the_address(build, account_verified,
                                                        provider_verified):
    customer = build.customer(email="ada@example.com")
    if account_verified:
        _verify(customer)
    before = _accounts()
    with pytest.raises(Conflict) as refused:
        social_sign_in.account_for(_identity(verified=provider_verified), surface="shop")
    assert refused.value.code == "social.sign_in_with_password"
    assert _links() == [] and _accounts() == before
    assert db.session.scalars(select(AuditLog.changes).where(
        AuditLog.action == "account.sign_in_failed")).one()["reason"] == "unverified_email"


def test_a_guest_account_is_never_taken_over(build):
    guest = Account(email="ada@example.com", username="ada@example.com", first_name="Ada",
                    last_name="Guest", password=None, active=True)
    db.session.add(guest)
    db.session.commit()
    with pytest.raises(Conflict):
        social_sign_in.account_for(_identity(), surface="shop")
    assert db.session.get(Account, guest.id).password is None and _links() == []


def test_the_console_gets_no_new_accounts_and_only_staff(build):
    with pytest.raises(Forbidden) as refused:
        social_sign_in.account_for(_identity(), surface="console")
    assert refused.value.code == "social.no_console_account" and _accounts() == 0
    customer = build.customer(email="ada@example.com")
    _verify(customer)
    with pytest.raises(Forbidden):
        social_sign_in.account_for(_identity(), surface="console")
    assert _links() == []  # refused before linking
    staff = build.staff(build.provider(), email="staff@example.com")
    _verify(staff)
    account = social_sign_in.account_for(_identity(subject="s", email="staff@example.com"),
                                         surface="console")
    assert account.id == staff


def test_a_switched_off_account_cannot_sign_in_through_its_link(build):
    account = social_sign_in.account_for(_identity(), surface="shop")
    account.active = False
    db.session.commit()
    with pytest.raises(Unauthorized) as refused:
        social_sign_in.account_for(_identity(), surface="shop")
    assert refused.value.code == "auth.account_inactive"


def test_no_address_no_account(build):
    with pytest.raises(ValidationFailed) as refused:
        social_sign_in.account_for(_identity("facebook", email=None), surface="shop")
    assert refused.value.code == "social.email_missing" and _accounts() == 0


def test_linking_from_the_account_needs_a_verified_address_and_a_free_identity(build):
    first = build.customer(email="one@example.com")
    second = build.customer(email="two@example.com")
    holder = db.session.get(Account, first)
    with pytest.raises(Forbidden) as refused:
        social_sign_in.link(holder, _identity(email="whatever@example.com"))
    assert refused.value.code == "account.email_unverified"
    _verify(first)
    _verify(second)
    social_sign_in.link(holder, _identity(email="elsewhere@example.com"))
    social_sign_in.link(holder, _identity(email="elsewhere@example.com"))  # again: no-op
    with pytest.raises(Conflict) as taken:
        social_sign_in.link(db.session.get(Account, second), _identity())
    assert taken.value.code == "social.identity_taken"
    with pytest.raises(Conflict) as twice:
        social_sign_in.link(holder, _identity(subject="another-google-account"))
    assert twice.value.code == "social.provider_linked"
    assert _links() == [(first, "google", "sub-1")]


def test_unlinking_keeps_one_way_in(build):
    account = social_sign_in.account_for(_identity(), surface="shop")  # no password
    with pytest.raises(Conflict) as last:
        social_sign_in.unlink(account, "google")
    assert last.value.code == "account.last_sign_in_method" and len(_links()) == 1
    social_sign_in.link(account, _identity("apple", subject="apple-1"))
    social_sign_in.unlink(account, "google")
    assert _links() == [(account.id, "apple", "apple-1")]
    with pytest.raises(NotFound):
        social_sign_in.unlink(account, "google")
    customer = db.session.get(Account, build.customer(email="pw@example.com"))
    _verify(customer.id)
    social_sign_in.link(customer, _identity(subject="pw-google", email="pw@example.com"))
    social_sign_in.unlink(customer, "google")  # the password remains
    assert [row for row in _links() if row[0] == customer.id] == []


def test_an_app_code_works_once_and_not_after_a_minute(build):
    customer = build.customer()
    code = social_sign_in.issue_app_code(customer)
    assert social_sign_in.exchange_app_code(code).id == customer
    with pytest.raises(Unauthorized):
        social_sign_in.exchange_app_code(code)
    stale = social_sign_in.issue_app_code(customer)
    db.session.execute(SignInHandoff.__table__.update().values(
        expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    with pytest.raises(Unauthorized):
        social_sign_in.exchange_app_code(stale)
    assert social_sign_in.purge_expired_handoffs() == 0  # the failed exchange spent it


def test_an_app_code_with_pkce_needs_its_verifier(build):
    import base64
    import hashlib

    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    customer = build.customer()
    code = social_sign_in.issue_app_code(customer, challenge)
    with pytest.raises(Unauthorized):
        social_sign_in.exchange_app_code(code, "w" * 50)
    code = social_sign_in.issue_app_code(customer, challenge)
    assert social_sign_in.exchange_app_code(code, verifier).id == customer


def test_apples_one_time_name_is_read_once(build):
    social_sign_in.keep_apple_name("state-1", {"name": {"firstName": "Ada"}})
    assert social_sign_in.take_apple_name("state-1") == {"name": {"firstName": "Ada"}}
    assert social_sign_in.take_apple_name("state-1") is None
    assert social_sign_in.take_apple_name(None) is None
