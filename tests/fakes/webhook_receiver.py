"""A local webhook receiver: a threaded HTTP server that checks every request the way an
integrator would (``standardwebhooks.Webhook(secret).verify``) and keeps it.

``secrets``: the secrets it knows (each request records which of them verify it).
``answers[path]``: how it answers a path, a :class:`Answer` (default 200 ``ok``):
a status with headers (500, 429 with ``Retry-After``, 410), a sleep longer than the
client waits, or a redirect (``Location``).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Answer:
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b"ok"
    sleep: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    verified_by: list  # the secrets (of ``secrets``) whose signature checks out

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def verified(self) -> bool:
        return bool(self.verified_by)


class WebhookReceiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secrets: list[str] = []
        self.answers: dict[str, Answer] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def url(self, path: str = "/hooks") -> str:
        return self.base_url + path

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.path == path]

    def keep(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        server: WebhookReceiver = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {key.lower(): value for key, value in self.headers.items()}
        verified_by = []
        for secret in list(server.secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified_by.append(secret)
            except WebhookVerificationError:
                pass
        server.keep(Received(self.path, headers, body, verified_by))
        answer = server.answers.get(self.path, Answer())
        if answer.sleep:
            time.sleep(answer.sleep)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting
