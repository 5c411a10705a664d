"""A local stand-in for TikTok's Business API (Events API ``event/track``).

A stdlib HTTP server on 127.0.0.1 in a background thread. It records every request (path,
headers, raw and parsed body) and answers from a script of replies, then with success::

    with FakeTikTok() as tiktok:
        tiktok.script(Reply(500, {"code": 50000, "message": "internal"}))
        ... TIKTOK_API_BASE = tiktok.base_url ...
        assert tiktok.requests[0].headers["Access-Token"] == "token"

Success is what TikTok answers: HTTP 200 with ``{"code": 0, "message": "OK", ...}``.
"""
from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRACK_PATH = "/open_api/v1.3/event/track/"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: dict = field(default_factory=lambda: {
        "code": 0, "message": "OK", "request_id": "fake-request", "data": {}})


def ok() -> Reply:
    return Reply()


def error(code: int, message: str, status: int = 200) -> Reply:
    return Reply(status, {"code": code, "message": message, "request_id": "fake-request"})


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.raw)


class FakeTikTok:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake._lock:
                    fake.requests.append(Recorded("POST", self.path, dict(self.headers), raw))
                    reply = fake._replies.popleft() if fake._replies else ok()
                body = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def __enter__(self) -> FakeTikTok:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
