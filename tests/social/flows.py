"""Walking a sign-in through the app and the local identity provider with a test client,
as a browser would: start page → provider's consent → callback."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


def local(location: str) -> str:
    """A Location header as a path (and query) on the app."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def to_provider(client, start: str):
    """Follow the app's redirects from ``start`` up to the provider's consent page; the
    URL of that page."""
    answer = client.get(start)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    answer = client.get(local(answer.location))  # Flask-Dance's login view
    assert answer.status_code == 302
    return answer.location


def dance(client, idp, start: str, *, allow: bool = True, poster=None):
    """The whole round trip; the app's answer to the callback. Apple's form POST comes
    from ``poster`` (another client: Apple's page carries none of our cookies)."""
    redirect = idp.authorize(to_provider(client, start), allow=allow)
    if redirect.method == "GET":
        return client.get(redirect.path_and_query)
    answer = (poster or client).post(urlsplit(redirect.url).path, data=redirect.form)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:300]
    return client.get(local(answer.location))


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [text for _, text in session.get("_flashes", [])]
