"""The local identity provider (tests/fakes/identity_provider.py) over real HTTP, spoken to
as the app's OAuth client would: authorize → consent → token → ID token checked against
the provider's JWKS; Apple's signed client secret and form POST; Facebook's /me."""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from requests_oauthlib import OAuth2Session

from tests.fakes.identity_provider import FakeIdentityProvider, make_apple_key

CLIENTS = {"google": ("google-client", "google-secret"),
           "facebook": ("facebook-client", "facebook-secret"),
           "apple": ("com.example.bookwell", "ignored")}
REDIRECT = "http://127.0.0.1:5000/login/google/authorized"
TEAM, KEY_ID = "TEAM123456", "KEY1234567"


@pytest.fixture(scope="module")
def apple_key():
    return make_apple_key()


@pytest.fixture
def idp(apple_key):
    with FakeIdentityProvider(clients=CLIENTS, apple_team_id=TEAM, apple_key_id=KEY_ID,
                              apple_public_key_pem=apple_key[1]) as server:
        yield server


def authorize_url(idp, provider: str, **extra) -> str:
    params = {"client_id": CLIENTS[provider][0], "redirect_uri": REDIRECT,
              "response_type": "code", "scope": "openid email", "state": "st-1", **extra}
    return f"{idp.base_url}/{provider}/authorize?{urlencode(params)}"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def apple_secret(private_pem: str, *, kid: str = KEY_ID, **claims) -> str:
    now = int(time.time())
    body = {"iss": TEAM, "sub": CLIENTS["apple"][0], "aud": "https://appleid.apple.com",
            "iat": now, "exp": now + 300, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, private_pem,
                      algorithm="ES256", headers={"kid": kid})


def exchange(idp, provider: str, code: str, secret: str | None = None, **form) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": CLIENTS[provider][0],
            "client_secret": CLIENTS[provider][1] if secret is None else secret, **form}
    return requests.post(f"{idp.base_url}/{provider}/token", data=data, timeout=5)


def verified_claims(idp, provider: str, id_token: str, audience: str) -> dict:
    key = jwt.PyJWKClient(f"{idp.base_url}/{provider}/jwks").get_signing_key_from_jwt(id_token)
    return jwt.decode(id_token, key.key, algorithms=["RS256"], audience=audience,
                      issuer=idp.issuer(provider))


def test_google_round_trip_through_the_consent_page(idp):
    idp.next_identity("google", subject="g-42", email="grace@example.com",
                      first_name="Grace", last_name="Hopper")
    url = authorize_url(idp, "google", nonce="n-1")
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "grace@example.com" in page.text
    assert "Allow" in page.text and "Deny" in page.text and "Google" in page.text

    # Pressing Allow: the page's form carries the original query.
    consent = requests.post(f"{idp.base_url}/google/consent",
                            data={**query_of(url), "decision": "allow"},
                            allow_redirects=False, timeout=5)
    assert consent.status_code == 302 and consent.headers["Location"].startswith(REDIRECT + "?")
    answer = query_of(consent.headers["Location"])
    assert answer["state"] == "st-1"

    # As Flask-Dance does it: requests-oauthlib, credentials in the body.
    session = OAuth2Session(CLIENTS["google"][0], redirect_uri=REDIRECT, state="st-1")
    token = session.fetch_token(f"{idp.base_url}/google/token", code=answer["code"],
                                client_secret=CLIENTS["google"][1], include_client_id=True)
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    claims = verified_claims(idp, "google", token["id_token"], CLIENTS["google"][0])
    assert claims["sub"] == "g-42" and claims["email"] == "grace@example.com"
    assert claims["email_verified"] is True and claims["nonce"] == "n-1"
    assert (claims["given_name"], claims["family_name"], claims["name"]) == (
        "Grace", "Hopper", "Grace Hopper")
    assert claims["exp"] - claims["iat"] == 600
    assert jwt.get_unverified_header(token["id_token"])["kid"]

    sent = idp.token_requests("google")
    assert len(sent) == 1 and sent[0].params["client_id"] == CLIENTS["google"][0]


def test_the_default_identity_and_http_basic_credentials(idp):
    redirect = idp.authorize(authorize_url(idp, "google"))
    assert redirect.method == "GET" and redirect.form == {}
    assert redirect.path_and_query.startswith("/login/google/authorized?code=")
    response = requests.post(f"{idp.base_url}/google/token", auth=CLIENTS["google"],
                             data={"grant_type": "authorization_code", "redirect_uri": REDIRECT,
                                   "code": query_of(redirect.url)["code"]}, timeout=5)
    assert response.status_code == 200, response.text
    claims = verified_claims(idp, "google", response.json()["id_token"], CLIENTS["google"][0])
    assert (claims["sub"], claims["email"]) == ("google-subject-1", "ada@example.com")
    assert "nonce" not in claims


def test_a_code_is_single_use_and_bound_to_its_redirect_uri(idp):
    code = query_of(idp.authorize(authorize_url(idp, "google")).url)["code"]
    assert exchange(idp, "google", code, redirect_uri=REDIRECT + "/other").json() == {
        "error": "invalid_grant"}
    # a refused exchange uses the code up too, as does a good one
    assert exchange(idp, "google", code).status_code == 400

    code = query_of(idp.authorize(authorize_url(idp, "google")).url)["code"]
    assert exchange(idp, "google", code).status_code == 200
    again = exchange(idp, "google", code)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})


def test_client_errors(idp):
    code = query_of(idp.authorize(authorize_url(idp, "google")).url)["code"]
    wrong = exchange(idp, "google", code, secret="not-the-secret")
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})

    unknown = requests.get(authorize_url(idp, "google").replace("google-client", "nobody"),
                           timeout=5)
    assert (unknown.status_code, unknown.json()) == (400, {"error": "invalid_client"})
    elsewhere = requests.get(f"{idp.base_url}/myspace/jwks", timeout=5)
    assert (elsewhere.status_code, elsewhere.json()) == (400, {"error": "invalid_client"})

    incomplete = requests.get(authorize_url(idp, "google", state=""), timeout=5)
    assert incomplete.status_code == 400 and "text/html" in incomplete.headers["Content-Type"]


def test_deny_sends_access_denied(idp):
    redirect = idp.authorize(authorize_url(idp, "google"), allow=False)
    assert query_of(redirect.url) == {"error": "access_denied", "state": "st-1"}

    over_http = requests.post(f"{idp.base_url}/google/consent",
                              data={**query_of(authorize_url(idp, "google")),
                                    "decision": "deny"}, allow_redirects=False, timeout=5)
    assert over_http.status_code == 302
    assert query_of(over_http.headers["Location"])["error"] == "access_denied"


def test_apple_form_post_signed_secret_and_string_email_verified(idp, apple_key):
    private_pem = apple_key[0]
    idp.next_identity("apple", subject="a-1", email="relay@privaterelay.appleid.com",
                      email_verified=False)
    url = authorize_url(idp, "apple", response_mode="form_post", nonce="n-apple")
    page = requests.post(f"{idp.base_url}/apple/consent",
                         data={**query_of(url), "decision": "allow"}, timeout=5)
    assert page.status_code == 200
    assert "document.forms[0].submit()" in page.text and "Continue" in page.text
    assert f"action='{REDIRECT}'" in page.text and "firstName" in page.text

    # The in-process equivalent; the name comes only with a subject's first sign-in.
    second = idp.authorize(url)
    assert second.method == "POST" and second.url == REDIRECT and second.path_and_query == (
        "/login/google/authorized")
    assert set(second.form) == {"code", "state"}
    idp.next_identity("apple", subject="a-2", email="new@example.com", first_name="Mary")
    first = idp.authorize(url)
    assert json.loads(first.form["user"]) == {
        "name": {"firstName": "Mary", "lastName": "Lovelace"}, "email": "new@example.com"}

    bad_secrets = [
        apple_secret(make_apple_key()[0]),  # another team's key
        apple_secret(private_pem, kid="OTHERKEY00"),
        apple_secret(private_pem, iss="OTHERTEAM0"),
        apple_secret(private_pem, sub="com.example.other"),
        apple_secret(private_pem, aud="https://example.com"),
        apple_secret(private_pem, iat=int(time.time()) - 900, exp=int(time.time()) - 60),
        apple_secret(private_pem, exp=None),  # no expiry at all
        CLIENTS["apple"][1],
    ]
    for secret in bad_secrets:
        refused = exchange(idp, "apple", first.form["code"], secret=secret)
        assert (refused.status_code, refused.json()) == (401, {"error": "invalid_client"})

    token = exchange(idp, "apple", first.form["code"], secret=apple_secret(private_pem))
    assert token.status_code == 200, token.text
    claims = verified_claims(idp, "apple", token.json()["id_token"], CLIENTS["apple"][0])
    assert (claims["sub"], claims["email_verified"], claims["nonce"]) == ("a-2", "true", "n-apple")
    assert "given_name" not in claims

    unverified = exchange(idp, "apple", second.form["code"], secret=apple_secret(private_pem))
    assert verified_claims(idp, "apple", unverified.json()["id_token"],
                           CLIENTS["apple"][0])["email_verified"] == "false"


def test_facebook_token_and_me(idp):
    idp.next_identity("facebook", subject="fb-7", email=None, first_name="Alan",
                      last_name="Turing")
    code = query_of(idp.authorize(authorize_url(idp, "facebook")).url)["code"]
    token = exchange(idp, "facebook", code).json()
    assert "id_token" not in token and token["scope"] == "openid email"

    me = f"{idp.base_url}/facebook/me?fields=id,name,email,first_name,last_name"
    by_header = requests.get(me, headers={"Authorization": f"Bearer {token['access_token']}"},
                             timeout=5)
    assert by_header.json() == {"id": "fb-7", "name": "Alan Turing", "first_name": "Alan",
                                "last_name": "Turing"}
    by_query = requests.get(f"{me}&access_token={token['access_token']}", timeout=5)
    assert by_query.json()["id"] == "fb-7"

    unknown = requests.get(me, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == 190
    assert idp.errors == []
