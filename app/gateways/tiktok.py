"""TikTok's Events API (Business API v1.3, ``event/track``): one small client.

TikTok answers HTTP 200 with a JSON ``code``; anything but 0 is an error. What is worth
trying again: network errors, HTTP 5xx and 429, code 40100 (requests too frequent) and
5xxxx codes (TikTok's own failures). Everything else is a permanent refusal whose
message staff need to see.
"""
from __future__ import annotations

from dataclasses import dataclass

import requests

TRACK_PATH = "/open_api/v1.3/event/track/"
RATE_LIMIT_CODES = {40100}


@dataclass(frozen=True)
class TrackResult:
    ok: bool
    retryable: bool
    http_status: int | None
    code: int | None
    message: str

    def describe(self) -> str:
        return f"HTTP {self.http_status}, code {self.code}: {self.message}"


class EventsApi:
    def __init__(self, base_url: str, access_token: str, *, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self.url = base_url.rstrip("/") + TRACK_PATH
        self.access_token = access_token
        self.timeout = timeout
        self.session = session or requests.Session()

    def track(self, body: dict) -> TrackResult:
        try:
            response = self.session.post(
                self.url, json=body, timeout=self.timeout,
                headers={"Access-Token": self.access_token,
                         "Content-Type": "application/json"})
        except requests.RequestException as exc:
            return TrackResult(False, True, None, None, f"network error: {exc}")
        status = response.status_code
        try:
            answer = response.json()
            code = int(answer.get("code")) if answer.get("code") is not None else None
            message = str(answer.get("message") or "")
        except (ValueError, TypeError, AttributeError):
            code, message = None, response.text[:500]
        if status >= 500 or status == 429:
            return TrackResult(False, True, status, code, message or f"HTTP {status}")
        if status != 200:
            return TrackResult(False, False, status, code, message or f"HTTP {status}")
        if code == 0:
            return TrackResult(True, False, status, code, message or "OK")
        retryable = code in RATE_LIMIT_CODES or (code is not None and 50000 <= code < 60000)
        return TrackResult(False, retryable, status, code,
                           message or "TikTok answered without a code")
