"""Reading security headers in tests: the Content-Security-Policy's directives, nonces."""
from __future__ import annotations

import re


def directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.request.path}"
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_common_headers(response) -> None:
    assert directives(response)["frame-ancestors"] == ["'none'"]
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]  # once
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert response.headers.getlist("Referrer-Policy") == ["strict-origin-when-cross-origin"]
    assert "Strict-Transport-Security" not in response.headers  # development


def page_nonces(response) -> set[str]:
    """The nonces on the page's <script> and <style> elements."""
    return set(re.findall(r'<(?:script|style)[^>]*\bnonce="([^"]+)"',
                          response.get_data(as_text=True)))


def script_tags(response) -> list[str]:
    return re.findall(r"<script[^>]*>", response.get_data(as_text=True))


def policy_nonce(sources: list[str]) -> str:
    nonces = [s[len("'nonce-"):-1] for s in sources if s.startswith("'nonce-")]
    assert len(nonces) == 1, sources
    return nonces[0]
