"""A local Google Maps web-service stand-in for the official ``googlemaps`` client.

A stdlib HTTP server on 127.0.0.1 (a free port) in a background thread. It records every
request and answers from a route table (path → handler), so other Google endpoints can be
added with :meth:`FakeGoogleMaps.route`. The geocoding route answers per address::

    with FakeGoogleMaps(api_key=KEY) as maps:
        maps.answer_geocode("Main St 1", geocoded(52.5, 13.4))
        maps.answer_geocode("Nowhere", zero_results())
        maps.answer_geocode("Slow", slow(geocoded(1, 2), seconds=2))
        ... GOOGLE_MAPS_BASE_URL = maps.base_url ...
        assert maps.requests_to(GEOCODE_PATH)[0].params["address"] == "Main St 1"

Unknown addresses get ZERO_RESULTS, like Google; a key other than ``api_key`` (when
given) gets REQUEST_DENIED with Google's message.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

GEOCODE_PATH = "/maps/api/geocode/json"
INVALID_KEY_MESSAGE = "The provided API key is invalid."


@dataclass(frozen=True)
class Reply:
    """An answer: an HTTP status and a JSON body, sent after ``delay`` seconds."""

    status: int = 200
    body: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]  # the first value of each query parameter
    body: dict | None = None  # the JSON body of a POST (e.g. the Geolocation API)


Handler = Callable[[RecordedRequest], Reply]


# Answers shaped like Google's, built rather than pasted.

def api_status(status: str, message: str | None = None, results: list | None = None) -> Reply:
    body = {"results": results or [], "status": status}
    if message:
        body["error_message"] = message
    return Reply(body=body)


def place(lat: float, lng: float, *, place_id: str = "fake-place-id",
          formatted_address: str = "Fake Street 1, Testtown") -> dict:
    return {
        "geometry": {"location": {"lat": lat, "lng": lng}, "location_type": "ROOFTOP"},
        "place_id": place_id,
        "formatted_address": formatted_address,
    }


def geocoded(lat: float, lng: float, **place_fields) -> Reply:
    return api_status("OK", results=[place(lat, lng, **place_fields)])


def zero_results() -> Reply:
    return api_status("ZERO_RESULTS")


def request_denied(message: str = INVALID_KEY_MESSAGE) -> Reply:
    return api_status("REQUEST_DENIED", message)


def over_query_limit() -> Reply:
    return api_status("OVER_QUERY_LIMIT", "You have exceeded your rate-limit for this API.")


def http_error(status: int = 500) -> Reply:
    return Reply(status=status, body={"error": "fake server error"})


def slow(reply: Reply, seconds: float) -> Reply:
    return Reply(status=reply.status, body=reply.body, delay=seconds)


class FakeGoogleMaps:
    """Start/stop it, or use it as a context manager; ``base_url`` is what the client
    takes as ``base_url`` (no trailing slash)."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.errors: list[Exception] = []  # raised by route handlers (answered as 500)
        self.geocode_answers: dict[str, Reply] = {}
        self._routes: dict[str, Handler] = {GEOCODE_PATH: self._geocode}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Configuration

    def route(self, path: str, handler: Handler) -> None:
        self._routes[path] = handler

    def answer_geocode(self, address: str, reply: Reply) -> None:
        self.geocode_answers[address] = reply

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # Lifecycle

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Google Maps server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGoogleMaps:
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-google-maps", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes delayed answers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeGoogleMaps:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # Serving

    def _geocode(self, request: RecordedRequest) -> Reply:
        if self.api_key is not None and request.params.get("key") != self.api_key:
            return request_denied()
        return self.geocode_answers.get(request.params.get("address", ""), zero_results())

    def _answer(self, method: str, raw_path: str, body: dict | None = None) -> Reply:
        url = urlsplit(raw_path)
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        request = RecordedRequest(method, url.path, params, body)
        with self._lock:
            self.requests.append(request)
        handler = self._routes.get(url.path)
        if handler is None:
            return Reply(status=404, body={"error": f"no fake route for {url.path}"})
        try:
            return handler(request)
        except Exception as exc:  # a broken test handler must show, not hang the client
            self.errors.append(exc)
            return Reply(status=500, body={"error": repr(exc)})

    def _handler_class(self):
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._send(fake._answer("GET", self.path))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                self._send(fake._answer("POST", self.path, json.loads(raw) if raw else None))

            def _send(self, reply: Reply) -> None:
                if reply.delay and fake._stopping.wait(reply.delay):
                    return
                payload = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timed out) before the answer

            def log_message(self, format, *args) -> None:
                pass  # keep test output quiet

        return RequestHandler


@contextmanager
def maps_settings(app, **values):
    """Set GOOGLE_MAPS_* (and other) config values on a shared app for a block."""
    saved = {name: app.config.get(name) for name in values}
    app.config.update(values)
    try:
        yield app
    finally:
        app.config.update(saved)


TEST_KEY = "AIzaTestKeyForTheLocalStandIn"


@contextmanager
def google_maps_for(app, **settings):
    """A running stand-in with ``app`` pointed at it (and any other settings) for a block."""
    with FakeGoogleMaps(api_key=TEST_KEY) as fake, maps_settings(
        app, GOOGLE_MAPS_API_KEY=TEST_KEY, GOOGLE_MAPS_BASE_URL=fake.base_url,
        GOOGLE_MAPS_TIMEOUT=0.5, **settings,
    ):
        yield fake
