"""A local stand-in for Google, Facebook and Apple sign-in (OAuth 2 and OpenID Connect).

A stdlib HTTP server on 127.0.0.1 (a free port) in a background thread, answering under
``/<provider>/`` what the real providers answer::

    with FakeIdentityProvider(clients={"google": ("id", "secret")}) as idp:
        ... SOCIAL_SIGN_IN_BASE_URL = idp.base_url ...
        idp.next_identity("google", subject="g-1", email="ada@example.com")
        redirect = idp.authorize(url_the_app_redirected_to)     # a person pressing Allow
        client.get(redirect.path_and_query)                      # back to the app

- ``GET /<p>/authorize``: a consent page naming the identity, with Allow and Deny buttons
  (``POST /<p>/consent``), for a real browser; :meth:`authorize` does the same in-process
  for a test client. Allow sends a single-use code (60 s) back to ``redirect_uri``, as a
  302 or, with ``response_mode=form_post`` (Apple), as an auto-submitted form that also
  carries Apple's one-time ``user`` JSON (the name) on a subject's first sign-in.
- ``POST /<p>/token``: checks the client (Apple: an ES256 JWT signed with the team's key,
  verified with ``apple_public_key_pem``), the code and the redirect URI; answers an
  access token and, for Google and Apple, an RS256 ID token (``email_verified`` a boolean
  for Google, the string "true"/"false" for Apple, as they send it).
- ``GET /<p>/jwks``: the ID tokens' public key. ``GET /facebook/me``: the Graph API's
  profile for a Facebook access token.

An unknown provider or client ID gets 400 ``{"error": "invalid_client"}`` (a wrong secret:
401); an authorize request missing its redirect URI, state or ``response_type=code`` gets
a 400 page. Every request is in ``requests``; an unexpected failure is in ``errors``.
"""
from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PROVIDERS = ("google", "facebook", "apple")
CODE_SECONDS = 60
APPLE_AUDIENCE = "https://appleid.apple.com"


def make_apple_key() -> tuple[str, str]:
    """A fresh EC P-256 key like a Sign in with Apple key: (private PEM, public PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@dataclass(frozen=True)
class Redirect:
    """Where the provider sends the browser after the consent page."""

    url: str
    method: str  # GET (code/state or error/state in the query) or POST (form_post)
    form: dict[str, str] = field(default_factory=dict)

    @property
    def path_and_query(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Identity:
    subject: str
    email: str | None
    email_verified: bool = True
    first_name: str = "Ada"
    last_name: str = "Lovelace"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class _Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status, self.error = status, error


class FakeIdentityProvider:
    def __init__(self, *, clients: dict[str, tuple[str, str]],
                 apple_team_id: str = "TEAM123456", apple_key_id: str = "KEY1234567",
                 apple_public_key_pem: str | None = None) -> None:
        self.clients = clients
        self.apple_team_id, self.apple_key_id = apple_team_id, apple_key_id
        self.apple_public_key_pem = apple_public_key_pem
        self.requests: list[RecordedRequest] = []
        self.errors: list[Exception] = []  # unexpected failures (answered as 500)
        self.base_url = ""
        self._signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = secrets.token_hex(8)
        self._identities = {p: Identity(f"{p}-subject-1", "ada@example.com") for p in PROVIDERS}
        self._codes: dict[str, dict] = {}
        self._tokens: dict[str, Identity] = {}
        self._apple_seen: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- set-up ---------------------------------------------------------------------------

    def __enter__(self) -> FakeIdentityProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the stdlib's name)
                provider._handle(self, "GET")

            def do_POST(self):  # noqa: N802
                provider._handle(self, "POST")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def issuer(self, provider: str) -> str:
        return f"{self.base_url}/{provider}"

    def next_identity(self, provider: str, *, subject: str, email: str | None,
                      email_verified: bool = True, first_name: str = "Ada",
                      last_name: str = "Lovelace") -> None:
        """Who the next Allow on ``provider`` signs in as (until changed)."""
        self._identities[provider] = Identity(subject, email, email_verified, first_name,
                                              last_name)

    def token_requests(self, provider: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == f"/{provider}/token"]

    def authorize(self, authorize_url: str, *, allow: bool = True) -> Redirect:
        """A person on the consent page pressing Allow (or Deny), without a browser."""
        parts = urlsplit(authorize_url)
        provider = parts.path.strip("/").split("/")[0]
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self._check_authorize(provider, params)
        return self._decide(provider, params, allow)

    # --- the protocol ---------------------------------------------------------------------

    def _check_authorize(self, provider: str, params: dict) -> None:
        if provider not in self.clients or params.get("client_id") != self.clients[provider][0]:
            raise _Refused(400, "invalid_client")
        if params.get("response_type") != "code" or not params.get("redirect_uri") \
                or not params.get("state"):
            raise _Refused(400, "invalid_request")

    def _decide(self, provider: str, params: dict, allow: bool) -> Redirect:
        redirect_uri, state = params["redirect_uri"], params["state"]
        if allow:
            code = secrets.token_urlsafe(24)
            identity = self._identities[provider]
            with self._lock:
                self._codes[code] = {"provider": provider, "client_id": params["client_id"],
                                     "redirect_uri": redirect_uri, "identity": identity,
                                     "nonce": params.get("nonce"), "expires": time.time()
                                     + CODE_SECONDS, "scope": params.get("scope", "")}
            answer = {"code": code, "state": state}
            if provider == "apple" and identity.subject not in self._apple_seen:
                self._apple_seen.add(identity.subject)  # Apple sends the name only once
                answer["user"] = json.dumps({"name": {"firstName": identity.first_name,
                                                      "lastName": identity.last_name},
                                             "email": identity.email})
        else:
            answer = {"error": "access_denied", "state": state}
        if params.get("response_mode") == "form_post":
            return Redirect(redirect_uri, "POST", answer)
        joiner = "&" if "?" in redirect_uri else "?"
        return Redirect(f"{redirect_uri}{joiner}{urlencode(answer)}", "GET")

    def _token(self, provider: str, form: dict, headers: dict) -> dict:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = headers.get("Authorization", "")
        if basic.startswith("Basic "):  # RFC 6749 form-encodes the parts before base64
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        if provider not in self.clients or client_id != self.clients[provider][0]:
            raise _Refused(400, "invalid_client")
        if not self._secret_ok(provider, client_id, secret or ""):
            raise _Refused(401, "invalid_client")
        if form.get("grant_type") != "authorization_code":
            raise _Refused(400, "unsupported_grant_type")
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant["expires"] < time.time() or grant["provider"] != provider \
                or grant["client_id"] != client_id \
                or grant["redirect_uri"] != form.get("redirect_uri"):
            raise _Refused(400, "invalid_grant")
        identity = grant["identity"]
        access_token = secrets.token_urlsafe(24)
        self._tokens[access_token] = identity
        answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
                  "scope": grant["scope"]}
        if provider in ("google", "apple"):
            answer["id_token"] = self._id_token(provider, client_id, identity, grant["nonce"])
        return answer

    def _secret_ok(self, provider: str, client_id: str, secret: str) -> bool:
        if provider != "apple":
            return secrets.compare_digest(secret, self.clients[provider][1])
        try:
            header = jwt.get_unverified_header(secret)
            claims = jwt.decode(secret, self.apple_public_key_pem, algorithms=["ES256"],
                                audience=APPLE_AUDIENCE, issuer=self.apple_team_id,
                                options={"require": ["iss", "sub", "aud", "iat", "exp"]})
        except jwt.PyJWTError:
            return False
        return header.get("kid") == self.apple_key_id and claims.get("sub") == client_id

    def _id_token(self, provider: str, client_id: str, identity: Identity,
                  nonce: str | None) -> str:
        now = int(time.time())
        verified = identity.email_verified
        claims = {"iss": self.issuer(provider), "aud": client_id, "sub": identity.subject,
                  "iat": now, "exp": now + 600,
                  "email_verified": ("true" if verified else "false") if provider == "apple"
                  else verified}
        if identity.email:
            claims["email"] = identity.email
        if nonce:
            claims["nonce"] = nonce
        if provider == "google":
            claims.update(name=f"{identity.first_name} {identity.last_name}",
                          given_name=identity.first_name, family_name=identity.last_name)
        return jwt.encode(claims, self._signing_key, algorithm="RS256",
                          headers={"kid": self._kid})

    def _jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._signing_key.public_key()))
        return {"keys": [{**jwk, "kid": self._kid, "alg": "RS256", "use": "sig"}]}

    def _facebook_me(self, params: dict, headers: dict) -> tuple[int, dict]:
        token = params.get("access_token") or headers.get("Authorization", "")[7:]
        identity = self._tokens.get(token)
        if identity is None:
            return 400, {"error": {"message": "Invalid OAuth access token.",
                                   "type": "OAuthException", "code": 190}}
        profile = {"id": identity.subject, "first_name": identity.first_name,
                   "last_name": identity.last_name,
                   "name": f"{identity.first_name} {identity.last_name}"}
        if identity.email:
            profile["email"] = identity.email
        return 200, profile

    # --- HTTP -----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length).decode()
            params.update({k: v[0] for k, v in parse_qs(body).items()})
        headers = dict(handler.headers.items())
        with self._lock:
            self.requests.append(RecordedRequest(method, parts.path, params, headers))
        provider, _, action = parts.path.strip("/").partition("/")
        if parts.path == "/favicon.ico":  # browsers ask; a 404 would be a console error
            handler.send_response(204)
            handler.end_headers()
            return None
        try:
            if provider not in PROVIDERS:
                raise _Refused(400, "invalid_client")
            if action == "authorize" and method == "GET":
                try:
                    self._check_authorize(provider, params)
                except _Refused as refused:
                    if refused.error == "invalid_client":
                        raise
                    # a person sees this page: say what is wrong in words, not JSON
                    return self._send_html(handler, 400, self._error_page(provider, params))
                return self._send_html(handler, 200, self._consent_page(provider, params))
            if action == "consent" and method == "POST":
                self._check_authorize(provider, params)
                redirect = self._decide(provider, params, params.get("decision") == "allow")
                if redirect.method == "POST":
                    return self._send_html(handler, 200, self._form_post_page(redirect))
                handler.send_response(302)
                handler.send_header("Location", redirect.url)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return None
            if action == "token" and method == "POST":
                return self._send_json(handler, 200, self._token(provider, params, headers))
            if action == "jwks":
                return self._send_json(handler, 200, self._jwks())
            if action == "me" and provider == "facebook":
                return self._send_json(handler, *self._facebook_me(params, headers))
            raise _Refused(404, "not_found")
        except _Refused as refused:
            self._send_json(handler, refused.status, {"error": refused.error})
        except Exception as exc:  # a bug here must show in the test, not hang the client
            self.errors.append(exc)
            self._send_json(handler, 500, {"error": repr(exc)})

    def _consent_page(self, provider: str, params: dict) -> str:
        identity = self._identities[provider]
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" '
                         f'value="{html.escape(v)}">' for k, v in params.items())
        name = provider.capitalize()
        return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                f"<title>{name} (local stand-in)</title></head>"
                f"<body style='font-family: sans-serif; max-width: 30rem; margin: 2rem auto; "
                f"padding: 0 1rem'><h1>Sign in with {name}</h1>"
                f"<p>Local stand-in. Continue as <strong>{html.escape(identity.email or '')}"
                f"</strong> ({html.escape(identity.first_name)} "
                f"{html.escape(identity.last_name)})?</p>"
                f"<form method='post' action='/{provider}/consent'>{hidden}"
                f"<button name='decision' value='allow'>Allow</button> "
                f"<button name='decision' value='deny'>Deny</button></form></body></html>")

    @staticmethod
    def _error_page(provider: str, params: dict) -> str:
        missing = [name for name in ("redirect_uri", "state") if not params.get(name)]
        if params.get("response_type") != "code":
            missing.append("response_type=code")
        return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>Invalid request</title></head><body><h1>Invalid request</h1>"
                f"<p>{html.escape(provider.capitalize())} (local stand-in) needs "
                f"{html.escape(', '.join(missing))}.</p></body></html>")

    @staticmethod
    def _form_post_page(redirect: Redirect) -> str:
        fields = "".join(f'<input type="hidden" name="{html.escape(k)}" '
                         f'value="{html.escape(v)}">' for k, v in redirect.form.items())
        return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Continue"
                f"</title></head><body><form method='post' action='{html.escape(redirect.url)}'>"
                f"{fields}<button>Continue</button></form>"
                f"<script>document.forms[0].submit()</script></body></html>")

    @staticmethod
    def _send_json(handler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _send_html(handler, status: int, page: str) -> None:
        data = page.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
