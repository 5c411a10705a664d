"""Signing in with Google, Apple and Facebook through the real Flask-Dance views, against
the local identity provider over HTTP: the storefront (new accounts, back to the booking
choice, refusals that take nothing over, Apple's form POST without our cookie), linking
from the account page, apps (one-time codes, PKCE, allow-listed addresses) and the
console (Google, then the second factor)."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Account, LinkedIdentity, SignInSession
from app.models.types import utcnow
from app.services import customer_data, customer_erasure
from tests.builders import PASSWORD
from tests.helpers import assert_error_shape, bearer
from tests.second_factor_helpers import enrol
from tests.social.conftest import APP_REDIRECT
from tests.social.flows import dance, flashes, local, query_of, to_provider


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def _account(email):
    db.session.expire_all()
    return db.session.scalar(select(Account).where(Account.email == email))


def _verified_customer(build, email="ada@example.com"):
    customer = build.customer(email=email)
    db.session.get(Account, customer).email_verified_at = utcnow()
    db.session.commit()
    return customer


def _sign_in_with_password(client, email):
    answer = client.post("/shop/login", data={"email": email, "password": PASSWORD})
    assert answer.status_code == 302


def test_a_new_customer_signs_up_with_google_and_returns_to_the_chosen_time(
        shop, idp, app_ctx):
    idp.next_identity("google", subject="g-1", email="ada@example.com", first_name="Ada",
                      last_name="Lovelace")
    choice = "/shop/offerings/7?day=2026-12-24&slot=42"
    answer = dance(shop, idp, "/shop/sign-in/google?next="
                              "/shop/offerings/7%3Fday%3D2026-12-24%26slot%3D42")
    assert answer.status_code == 302 and local(answer.location) == choice
    assert _signed_in(shop)
    account = _account("ada@example.com")
    assert (account.first_name, account.email_verified_at is not None) == ("Ada", True)
    kinds = db.session.scalars(select(SignInSession.kind).where(
        SignInSession.account_id == account.id)).all()
    assert kinds == ["shop"]  # the callback is outside /shop, the session is the shop's
    assert shop.get("/shop/bookings").status_code == 200
    # The provider's token was not kept in the session.
    with shop.session_transaction() as session:
        assert not [key for key in session if key.endswith("_oauth_token")]


def test_next_must_stay_on_the_site(shop, idp, app_ctx):
    idp.next_identity("google", subject="g-2", email="bea@example.com")
    answer = dance(shop, idp, "/shop/sign-in/google?next=https://evil.example/x")
    assert local(answer.location) == "/shop/"


def test_cancelling_at_the_provider_comes_back_to_sign_in_and_changes_nothing(
        shop, idp, app_ctx):
    answer = dance(shop, idp, "/shop/sign-in/google?next=/shop/bookings", allow=False)
    assert local(answer.location).startswith("/shop/login?next=")
    assert flashes(shop) == ["You cancelled signing in with Google."]
    assert not _signed_in(shop) and db.session.scalar(select(Account.id)) is None


def test_an_unverified_account_with_the_address_is_not_taken_over(shop, idp, build):
    customer = build.customer(email="cleo@example.com")  # address never verified
    idp.next_identity("google", subject="g-3", email="cleo@example.com", email_verified=True)
    answer = dance(shop, idp, "/shop/sign-in/google")
    assert local(answer.location).startswith("/shop/login")
    assert "Sign in with your password" in flashes(shop)[0]
    assert not _signed_in(shop)
    assert db.session.scalars(select(LinkedIdentity)).all() == []
    assert db.session.get(Account, customer).password  # untouched


def test_a_verified_account_is_linked_and_opened(shop, idp, build):
    customer = _verified_customer(build, "dora@example.com")
    idp.next_identity("google", subject="g-4", email="dora@example.com")
    answer = dance(shop, idp, "/shop/sign-in/google")
    assert answer.status_code == 302 and _signed_in(shop)
    link = db.session.scalars(select(LinkedIdentity)).one()
    assert (link.account_id, link.provider, link.subject) == (customer, "google", "g-4")


def test_a_staff_account_is_sent_to_the_console(shop, idp, build):
    staff = build.staff(build.provider(), email="sam@example.com")
    db.session.get(Account, staff).email_verified_at = utcnow()
    db.session.commit()
    idp.next_identity("google", subject="g-5", email="sam@example.com")
    dance(shop, idp, "/shop/sign-in/google")
    assert flashes(shop) == ["This is a staff account: sign in to the console instead."]
    assert not _signed_in(shop)


def test_apple_posts_its_answer_without_our_cookie_and_the_name_arrives(
        shop, idp, social_app, app_ctx):
    idp.next_identity("apple", subject="apple-1", email="eve@privaterelay.example",
                      first_name="Eve", last_name="Apfel")
    cookieless = social_app.test_client(use_cookies=False)  # Apple's page, cross-site
    answer = dance(shop, idp, "/shop/sign-in/apple?next=/shop/bookings", poster=cookieless)
    assert local(answer.location) == "/shop/bookings" and _signed_in(shop)
    account = _account("eve@privaterelay.example")
    assert (account.first_name, account.last_name) == ("Eve", "Apfel")
    # The client secret was Apple's kind: an ES256 JWT the provider checked.
    assert idp.token_requests("apple")


def test_a_wrong_code_at_the_token_endpoint_is_a_clear_failure(shop, idp, app_ctx):
    redirect = idp.authorize(to_provider(shop, "/shop/sign-in/google"))
    forged = redirect.path_and_query.replace("code=", "code=x")
    answer = shop.get(forged)
    assert answer.status_code == 302 and local(answer.location).startswith("/shop/login")
    assert flashes(shop) == ["Signing in with Google did not work. Please try again."]


def test_facebook_addresses_are_not_trusted_for_linking(shop, idp, build, smtp):
    _verified_customer(build, "fay@example.com")
    idp.next_identity("facebook", subject="fb-1", email="fay@example.com")
    dance(shop, idp, "/shop/sign-in/facebook")
    assert not _signed_in(shop)
    idp.next_identity("facebook", subject="fb-2", email="new@example.com")
    dance(shop, idp, "/shop/sign-in/facebook")
    assert _signed_in(shop)
    assert _account("new@example.com").email_verified_at is None  # a link is mailed


def test_a_customer_links_and_unlinks_google_on_the_account_page(shop, idp, build):
    customer = _verified_customer(build, "gia@example.com")
    _sign_in_with_password(shop, "gia@example.com")
    page = shop.get("/shop/account/sessions").get_data(as_text=True)
    assert "Link Google" in page and "Link Apple" in page and "Link Facebook" in page
    idp.next_identity("google", subject="g-6", email="gia.personal@example.com")
    answer = dance(shop, idp, "/shop/account/sign-ins/google/link")
    assert local(answer.location) == "/shop/account/sessions"
    assert flashes(shop) == ["Google is linked: you can sign in with it from now on."]
    page = shop.get("/shop/account/sessions").get_data(as_text=True)
    assert "Linked as gia.personal@example.com" in page and "Unlink Google" in page
    assert shop.post("/shop/account/sign-ins/google/unlink").status_code == 302
    assert db.session.scalars(select(LinkedIdentity).where(
        LinkedIdentity.account_id == customer)).all() == []


def test_linking_waits_for_a_verified_address(shop, idp, build):
    build.customer(email="hal@example.com")
    _sign_in_with_password(shop, "hal@example.com")
    answer = shop.get("/shop/account/sign-ins/google/link")
    assert local(answer.location) == "/shop/account/sessions"  # not to the provider
    assert flashes(shop) == ["Verify your email address first: open the link we emailed you."]


def test_an_app_gets_a_one_time_code_and_exchanges_it(shop, idp, social_app, app_ctx):
    idp.next_identity("google", subject="g-7", email="ivy@example.com")
    answer = dance(shop, idp, f"/api/v1/auth/social/google/start?redirect_uri={APP_REDIRECT}")
    assert answer.location.startswith(APP_REDIRECT + "?code=")
    assert "token" not in answer.location
    code = query_of(answer.location)["code"]
    api = social_app.test_client()
    tokens = api.post("/api/v1/auth/social/exchange", json={"code": code})
    assert tokens.status_code == 200, tokens.get_json()
    access = tokens.get_json()["access_token"]
    identities = api.get("/api/v1/me/identities", headers=bearer(access)).get_json()
    assert [(i["provider"], i["email"]) for i in identities] == [("google", "ivy@example.com")]
    assert_error_shape(api.post("/api/v1/auth/social/exchange", json={"code": code}), 401,
                       "auth.social_code_invalid")
    # Google is this account's only way in: it stays.
    assert_error_shape(api.delete("/api/v1/me/identities/google", headers=bearer(access)),
                       409, "account.last_sign_in_method")
    assert_error_shape(api.delete("/api/v1/me/identities/apple", headers=bearer(access)),
                       404, "social.not_linked")


def test_an_app_with_pkce_must_show_its_verifier(shop, idp, social_app, app_ctx):
    import base64
    import hashlib

    verifier = "a-long-random-verifier-" + "x" * 30
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    idp.next_identity("google", subject="g-8", email="jo@example.com")
    answer = dance(shop, idp, f"/api/v1/auth/social/google/start?redirect_uri={APP_REDIRECT}"
                              f"&code_challenge={challenge}&code_challenge_method=S256")
    code = query_of(answer.location)["code"]
    api = social_app.test_client()
    assert_error_shape(api.post("/api/v1/auth/social/exchange", json={"code": code}), 401,
                       "auth.social_code_invalid")  # no verifier: and the code is spent
    answer = dance(shop, idp, f"/api/v1/auth/social/google/start?redirect_uri={APP_REDIRECT}"
                              f"&code_challenge={challenge}&code_challenge_method=S256")
    code = query_of(answer.location)["code"]
    assert api.post("/api/v1/auth/social/exchange",
                    json={"code": code, "code_verifier": verifier}).status_code == 200


def test_apps_are_answered_at_their_address_or_refused(shop, idp, app_ctx):
    assert_error_shape(shop.get("/api/v1/auth/social/google/start?redirect_uri="
                                "https://evil.example/cb"), 422,
                       "social.redirect_uri_not_allowed")
    assert_error_shape(shop.get(f"/api/v1/auth/social/github/start?redirect_uri="
                                f"{APP_REDIRECT}"), 404, "social.provider_not_offered")
    answer = dance(shop, idp, f"/api/v1/auth/social/google/start?redirect_uri={APP_REDIRECT}",
                   allow=False)
    assert query_of(answer.location)["error"] == "social.cancelled"


def test_staff_sign_in_to_the_console_with_google_then_the_second_factor(shop, idp, build):
    staff = build.staff(build.provider(), email="kim@example.com")
    db.session.get(Account, staff).email_verified_at = utcnow()
    db.session.commit()
    idp.next_identity("google", subject="g-9", email="kim@example.com")
    assert "Sign in with Google" in shop.get("/login/").get_data(as_text=True)
    answer = dance(shop, idp, "/login/google?next=/bookingview/list/")
    assert local(answer.location) == "/bookingview/list/" and _signed_in(shop)

    second = shop.application.test_client()
    enrol(staff)
    answer = dance(second, idp, "/login/google")
    assert local(answer.location) == "/login/code" and not _signed_in(second)


def test_customers_get_no_console_through_google(shop, idp, build):
    _verified_customer(build, "lou@example.com")
    idp.next_identity("google", subject="g-10", email="lou@example.com")
    answer = dance(shop, idp, "/login/google")
    assert local(answer.location) == "/login/" and not _signed_in(shop)
    assert flashes(shop) == ["This account has no access to the console."]


def test_linked_sign_ins_are_exported_and_erased(shop, idp, app_ctx):
    idp.next_identity("google", subject="g-11", email="max@example.com")
    dance(shop, idp, "/shop/sign-in/google")
    account = _account("max@example.com")
    exported = customer_data.export_customer_data(account.id)
    assert [(row["provider"], row["email"]) for row in exported["linked_sign_ins"]] == [
        ("google", "max@example.com")]
    customer_erasure.erase_customer(account.id)
    assert db.session.scalars(select(LinkedIdentity)).all() == []



def test_a_provider_without_credentials_is_not_offered_anywhere(client, app_ctx):
    # The suite's main app has no client ids configured.
    assert "Continue with" not in client.get("/shop/login").get_data(as_text=True)
    assert "Sign in with Google" not in client.get("/login/").get_data(as_text=True)
    assert client.get("/shop/sign-in/google").status_code == 404
    assert client.get("/oauth/google").status_code == 404
    assert client.get("/login/google").status_code == 404
    assert_error_shape(client.get(f"/api/v1/auth/social/google/start?redirect_uri="
                                  f"{APP_REDIRECT}"), 404, "social.provider_not_offered")
