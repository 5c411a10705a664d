"""A local server of outside calendars (iCal files) for the calendar fetch's tests.

A stdlib HTTP server on 127.0.0.1 (a free port) in a background thread, answering from a
route table (path → :class:`Reply`) and recording every request's headers::

    with CalendarServer() as server:
        server.route("/anna.ics", Reply(body=ics_text, etag='"v1"'))
        server.route("/slow.ics", Reply(body=ics_text, delay=2))
        server.route("/huge.ics", huge(6 * 1024 * 1024))
        ... outside_calendars.add_calendar(..., url=server.url("/anna.ics")) ...
        assert server.requests_to("/anna.ics")[-1].headers["If-None-Match"] == '"v1"'

A path with no route answers 404. A reply with an ``etag`` answers 304 to a request that
sends it back in ``If-None-Match``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer
    etag: str | None = None
    send_length: bool = True  # False: no Content-Length, the body ends when the server closes
    repeat: int = 1  # the body sent this many times (a huge body without holding it)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]


def huge(size: int, *, send_length: bool = False) -> Reply:
    """A calendar of ``size`` bytes or so (a valid start, then padding)."""
    line = b"X-PADDING:" + b"x" * 1013 + b"\r\n"  # 1 KiB
    return Reply(body=line, send_length=send_length, repeat=max(1, size // len(line)),
                 headers={"Content-Type": "text/calendar"})


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": location})


class CalendarServer:
    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[RecordedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def route(self, path: str, reply: Reply) -> None:
        self.routes[path] = reply

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def port(self) -> int:
        assert self._server is not None, "start the server first"
        return self._server.server_address[1]

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def __enter__(self) -> CalendarServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                server.requests.append(RecordedRequest(self.path, dict(self.headers)))
                reply = server.routes.get(self.path, Reply(status=404, body=b"Not found"))
                try:
                    self._answer(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout or a body over its limit)

            def _answer(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                    self.send_response(304)
                    self.send_header("ETag", reply.etag)
                    self.end_headers()
                    return
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                for name, value in {"Content-Type": "text/calendar; charset=utf-8",
                                    **reply.headers}.items():
                    self.send_header(name, value)
                if reply.etag:
                    self.send_header("ETag", reply.etag)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(body) * reply.repeat))
                else:
                    self.close_connection = True
                self.end_headers()
                for _ in range(reply.repeat):
                    self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="calendar-server", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
